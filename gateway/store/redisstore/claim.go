package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// claimGrace is how long a claim on a reverse key that its holder's record
// does not confirm is presumed to belong to a PutAccount still under way.
// After that it is presumed left by a crash, and may be taken over.
const claimGrace = time.Minute

// claimScript claims a reverse index key for an owner.
//
// KEYS[1] the acctid:{P:A} key. ARGV[1] the claiming owner, ARGV[2] a new
// token, ARGV[3] the token of a stale claim to take over ("" for none).
//
// The key becomes (owner, new token, server time in ms) if it is free, if
// it is already the owner's, or if it still carries the stale token. Returns
// {1} on success, or {0, holder, holder's token, claim age in ms}.
var claimScript = redis.NewScript(claimLua)

const claimLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('HMGET', KEYS[1], 'owner', 'token', 'claimed')
if not cur[1] or cur[1] == ARGV[1] or (ARGV[3] ~= '' and cur[2] == ARGV[3]) then
	redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[2], 'claimed', now)
	return {1}
end
return {0, cur[1], cur[2] or '', now - (tonumber(cur[3]) or 0)}
`

// releaseScript deletes a reverse index key if it still carries the owner
// and token given. KEYS[1] the acctid key, ARGV[1] owner, ARGV[2] token.
var releaseScript = redis.NewScript(releaseLua)

const releaseLua = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'token')
if cur[1] == ARGV[1] and cur[2] == ARGV[2] then
	return redis.call('DEL', KEYS[1])
end
return 0
`

// claimRef identifies one claim on a reverse index key, to release it.
type claimRef struct {
	platform ids.PlatformID
	id       ids.AccountID
	owner    ids.Owner
	token    string
}

// claim makes owner the holder of the reverse index key of (platform, id),
// or returns store.ErrConflict if another owner holds it.
func (s *Store) claim(ctx context.Context, platform ids.PlatformID, id ids.AccountID, owner ids.Owner) error {
	key := s.keys.accountID(platform, id)
	stale := ""
	// Each round either succeeds, fails, or sees the claim change under it;
	// a few rounds settle any realistic race.
	for range 4 {
		res, err := s.runScript(ctx, claimScript, fencedClaimScript, []string{key}, string(owner), rand.Text(), stale).Slice()
		if err != nil {
			return fmt.Errorf("claiming %s: %w", key, err)
		}
		if ok, _ := res[0].(int64); ok == 1 {
			return nil
		}
		if len(res) != 4 {
			return fmt.Errorf("claiming %s: unexpected reply %v", key, res)
		}
		holder, _ := res[1].(string)
		token, _ := res[2].(string)
		age, _ := res[3].(int64)
		confirmed, err := s.recordNames(ctx, ids.Owner(holder), platform, id)
		if err != nil {
			return err
		}
		if confirmed || time.Duration(age)*time.Millisecond < claimGrace {
			return store.ErrConflict
		}
		stale = token
	}
	return store.ErrConflict
}

// claimToken returns the token of owner's claim on the reverse key of
// (platform, id), or "" if owner does not hold it.
func (s *Store) claimToken(ctx context.Context, platform ids.PlatformID, id ids.AccountID, owner ids.Owner) (claimRef, error) {
	key := s.keys.accountID(platform, id)
	vals, err := s.client.HMGet(ctx, key, "owner", "token").Result()
	if err != nil {
		return claimRef{}, fmt.Errorf("reading %s: %w", key, err)
	}
	holder, _ := vals[0].(string)
	token, _ := vals[1].(string)
	if holder != string(owner) {
		token = ""
	}
	return claimRef{platform: platform, id: id, owner: owner, token: token}, nil
}

// release deletes the claim c if it is unchanged.
func (s *Store) release(ctx context.Context, c claimRef) error {
	if c.token == "" {
		return nil
	}
	key := s.keys.accountID(c.platform, c.id)
	if err := s.runScript(ctx, releaseScript, fencedReleaseScript, []string{key}, string(c.owner), c.token).Err(); err != nil {
		return fmt.Errorf("releasing %s: %w", key, err)
	}
	return nil
}

// recordNames reports whether owner's record on platform names id.
func (s *Store) recordNames(ctx context.Context, owner ids.Owner, platform ids.PlatformID, id ids.AccountID) (bool, error) {
	a, err := s.accountByOwner(ctx, s.client, owner, platform)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return a.ID == id, nil
}
