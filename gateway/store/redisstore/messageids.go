package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// indexSlack keeps entries of the message id index, and the index itself, a
// little longer than the keys they name, so that clock skew between
// gateway instances and Redis never drops an entry whose key still exists.
const indexSlack = time.Minute

// midBatch bounds how many pairs one script call writes, so that a large
// batch does not hold the Redis server for long in one go.
const midBatch = 256

// putMIDScript writes message id mappings of one owner atomically: both
// keys of each pair with their TTL and their index entries, in order (a
// later pair overwrites an earlier one, as separate calls would), then
// prunes the index and extends its expiry, as one MULTI/EXEC per pair did.
//
// KEYS[1] is the owner's mids index; KEYS[2j] and KEYS[2j+1] are pair j's
// mid:{O}:C:x:X and mid:{O}:C:p:M keys. ARGV[1] is the length of the keys'
// common prefix (midBase), stripped to make the index members; ARGV[2] the
// exclusive ZREMRANGEBYSCORE bound of expired entries; ARGV[3] the index's
// expiry (unix ms); ARGV[4j..4j+3] pair j's platform id, XMPP id, TTL (ms)
// and index score (expiry, unix ms).
const putMIDLua = `
local skip = tonumber(ARGV[1]) + 1
local index = KEYS[1]
for i = 2, #KEYS, 2 do
	local a = 2 * i
	redis.call('SET', KEYS[i], ARGV[a], 'PX', ARGV[a + 2])
	redis.call('SET', KEYS[i + 1], ARGV[a + 1], 'PX', ARGV[a + 2])
	redis.call('ZADD', index, ARGV[a + 3], string.sub(KEYS[i], skip), ARGV[a + 3], string.sub(KEYS[i + 1], skip))
end
redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[2])
-- The index lives as long as its longest-lived entry: NX gives a fresh
-- index an expiry, GT only ever extends it.
redis.call('PEXPIREAT', index, ARGV[3], 'NX')
redis.call('PEXPIREAT', index, ARGV[3], 'GT')
return 1
`

var putMIDScript = redis.NewScript(putMIDLua)

// PutMessageID implements store.MessageIDs. Both keys and their index
// entries are written atomically, by one script call (see PutMessageIDs).
func (s *Store) PutMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string, platformID ids.MessageID, ttl time.Duration) error {
	pair := [1]store.MessageIDPair{{Owner: owner, Chat: chat, XMPPID: xmppID, PlatformID: platformID, TTL: ttl}}
	if err := s.putMessageIDs(ctx, pair[:]); err != nil {
		return fmt.Errorf("redisstore: put message id %s ↔ %s of %s in %s: %w", xmppID, platformID, owner, chat, err)
	}
	return nil
}

// PutMessageIDs implements store.MessageIDs. The pairs are grouped by owner
// (keeping their order within each owner) and each group of up to midBatch
// pairs is one atomic script call on the owner's slot, written as a
// PutMessageID call would write them; all the calls go in one pipeline (not
// a transaction: owners live in different Cluster slots).
func (s *Store) PutMessageIDs(ctx context.Context, pairs []store.MessageIDPair) error {
	if len(pairs) == 0 {
		return nil
	}
	if err := s.putMessageIDs(ctx, pairs); err != nil {
		return fmt.Errorf("redisstore: put %d message ids: %w", len(pairs), err)
	}
	return nil
}

// scriptCall is the keys and arguments of one script call, on the data of
// owner.
type scriptCall struct {
	owner ids.Owner
	keys  []string
	args  []any
}

// putMessageIDs is PutMessageIDs without the error's context.
func (s *Store) putMessageIDs(ctx context.Context, pairs []store.MessageIDPair) error {
	calls := s.midCalls(time.Now(), pairs)
	if s.fenced() {
		return s.putMessageIDsFenced(ctx, calls)
	}
	if len(calls) == 1 {
		return putMIDScript.Run(ctx, s.client, calls[0].keys, calls[0].args...).Err()
	}
	return s.runScripts(ctx, putMIDScript, calls)
}

// midCalls groups pairs by owner into putMIDScript calls.
func (s *Store) midCalls(now time.Time, pairs []store.MessageIDPair) []scriptCall {
	if !sameOwner(pairs) {
		pairs = slices.Clone(pairs)
		slices.SortStableFunc(pairs, func(a, b store.MessageIDPair) int { return strings.Compare(string(a.Owner), string(b.Owner)) })
	}
	nowMs := now.UnixMilli()
	pruneBound := "(" + strconv.FormatInt(nowMs-indexSlack.Milliseconds(), 10)
	var calls []scriptCall
	for len(pairs) > 0 {
		n := 1
		for n < len(pairs) && n < midBatch && pairs[n].Owner == pairs[0].Owner {
			n++
		}
		group := pairs[:n]
		pairs = pairs[n:]
		owner := group[0].Owner
		base := s.keys.midBase(owner)
		c := scriptCall{
			owner: owner,
			keys:  make([]string, 1, 1+2*len(group)),
			args:  make([]any, 3, 3+4*len(group)),
		}
		c.keys[0] = s.keys.midIndex(owner)
		var maxExpires int64
		for _, p := range group {
			ttl := p.TTL
			if ttl <= 0 {
				ttl = store.DefaultMessageIDTTL
			}
			ttlMs := max(ttl.Milliseconds(), 1)
			expires := nowMs + ttlMs
			maxExpires = max(maxExpires, expires)
			c.keys = append(c.keys, base+midByXMPPSuffix(p.Chat, p.XMPPID), base+midByPlatformSuffix(p.Chat, p.PlatformID))
			c.args = append(c.args, string(p.PlatformID), p.XMPPID, ttlMs, expires)
		}
		c.args[0], c.args[1], c.args[2] = len(base), pruneBound, maxExpires+indexSlack.Milliseconds()
		calls = append(calls, c)
	}
	return calls
}

// sameOwner reports whether all pairs belong to one owner.
func sameOwner(pairs []store.MessageIDPair) bool {
	for _, p := range pairs[1:] {
		if p.Owner != pairs[0].Owner {
			return false
		}
	}
	return true
}

// runScripts runs script once per call, in one pipeline (EVALSHA, then EVAL
// for the calls of a server that did not have the script cached), and
// returns the first error.
func (s *Store) runScripts(ctx context.Context, script *redis.Script, calls []scriptCall) error {
	cmds := make([]*redis.Cmd, len(calls))
	// Errors are read from each command below, not from Pipelined.
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	var retry []int
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			retry = append(retry, i)
		}
	}
	if len(retry) > 0 {
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range retry {
				cmds[i] = script.Eval(ctx, p, calls[i].keys, calls[i].args...)
			}
			return nil
		})
	}
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("of %s: %w", calls[i].owner, err)
		}
	}
	return nil
}

// isNoScript reports whether err says that the server does not have the
// script cached.
func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}

// PlatformMessageID implements store.MessageIDs.
func (s *Store) PlatformMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string) (ids.MessageID, error) {
	v, err := s.get(ctx, s.keys.midBase(owner)+midByXMPPSuffix(chat, xmppID))
	if err != nil {
		return "", fmt.Errorf("redisstore: platform id of message %s of %s in %s: %w", xmppID, owner, chat, err)
	}
	return ids.MessageID(v), nil
}

// XMPPMessageID implements store.MessageIDs.
func (s *Store) XMPPMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, platformID ids.MessageID) (string, error) {
	v, err := s.get(ctx, s.keys.midBase(owner)+midByPlatformSuffix(chat, platformID))
	if err != nil {
		return "", fmt.Errorf("redisstore: XMPP id of message %s of %s in %s: %w", platformID, owner, chat, err)
	}
	return v, nil
}

// get reads a string key, mapping a missing key to store.ErrNotFound.
func (s *Store) get(ctx context.Context, key string) (string, error) {
	v, err := s.client.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", store.ErrNotFound
	}
	return v, err
}
