package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// listBatch is how many owners' records ListAccounts fetches per pipeline.
const listBatch = 256

// PutAccount implements store.Accounts. See the package comment for the
// order of its steps.
func (s *Store) PutAccount(ctx context.Context, a store.Account) error {
	err := retry(ctx, func() error { return s.putAccount(ctx, a) })
	if err != nil {
		return fmt.Errorf("redisstore: put account of %s on %s: %w", a.Owner, a.Platform, err)
	}
	return nil
}

func (s *Store) putAccount(ctx context.Context, a store.Account) error {
	if err := s.write(ctx, "SADD", s.keys.owners(), string(a.Owner)).Err(); err != nil {
		return fmt.Errorf("indexing the owner: %w", err)
	}
	key := s.keys.accounts(a.Owner)
	// Cross-slot steps come first, outside the WATCH: a WATCH holds a
	// connection, and other slots may live on other nodes.
	oldData, found, err := s.readRecord(ctx, s.client, key, a.Platform)
	if err != nil {
		return err
	}
	var old accountRecord
	if found {
		if _, old, err = decodeAccount(a.Owner, a.Platform, oldData); err != nil {
			return err
		}
	}
	if a.ID != "" {
		if err := s.claim(ctx, a.Platform, a.ID, a.Owner); err != nil {
			return err
		}
	}
	var released claimRef
	if found && old.ID != "" && old.ID != a.ID {
		if released, err = s.claimToken(ctx, a.Platform, old.ID, a.Owner); err != nil {
			return err
		}
	}

	now := time.Now().UTC()
	r := accountRecord{
		ID: a.ID, State: a.State, Detail: a.StateDetail,
		Registered: a.Registered.UTC(), Updated: a.Updated.UTC(),
		Rev: old.Rev + 1,
	}
	if r.Registered.IsZero() {
		r.Registered = now
		if found {
			r.Registered = old.Registered
		}
	}
	if r.Updated.IsZero() {
		r.Updated = now
	}
	if err := s.compareAndSet(ctx, key, a.Platform, oldData, found, encodeAccount(r)); err != nil {
		return err
	}
	if err := s.release(ctx, released); err != nil {
		return err
	}
	// Again, in case a concurrent DeleteAccount of another platform removed
	// the owner between the first SADD and the write.
	if err := s.write(ctx, "SADD", s.keys.owners(), string(a.Owner)).Err(); err != nil {
		return fmt.Errorf("indexing the owner: %w", err)
	}
	return nil
}

// readRecord reads the raw record of platform in the acct hash key through
// c (the client or a WATCH transaction).
func (s *Store) readRecord(ctx context.Context, c redis.Cmdable, key string, platform ids.PlatformID) (data string, found bool, err error) {
	data, err = c.HGet(ctx, key, string(platform)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading %s: %w", key, err)
	}
	return data, true, nil
}

// compareAndSet writes the record of platform in the acct hash key if it is
// still old (absent if !found); otherwise it fails with redis.TxFailedErr,
// and the caller starts over. Records carry a revision, so "still old"
// cannot be fooled by an identical rewrite.
func (s *Store) compareAndSet(ctx context.Context, key string, platform ids.PlatformID, old string, found bool, data string) error {
	if f := s.fence.Load(); f != nil {
		// One fenced script does the compare and the set.
		wasFound := "0"
		if found {
			wasFound = "1"
		}
		n, err := s.runFenced(ctx, *f, fencedRecordCASScript, []string{key}, string(platform), wasFound, old, data).Int()
		if err == nil && n == 0 {
			err = redis.TxFailedErr
		}
		return err
	}
	return s.client.Watch(ctx, func(tx *redis.Tx) error {
		cur, curFound, err := s.readRecord(ctx, tx, key, platform)
		if err != nil {
			return err
		}
		if cur != old || curFound != found {
			return redis.TxFailedErr
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, string(platform), data)
			return nil
		})
		return err
	}, key)
}

// AccountByOwner implements store.Accounts.
func (s *Store) AccountByOwner(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (store.Account, error) {
	a, err := s.accountByOwner(ctx, s.client, owner, platform)
	if err != nil {
		return store.Account{}, fmt.Errorf("redisstore: account of %s on %s: %w", owner, platform, err)
	}
	return a, nil
}

// accountByOwner reads a record through c, which is the client or a WATCH
// transaction.
func (s *Store) accountByOwner(ctx context.Context, c redis.Cmdable, owner ids.Owner, platform ids.PlatformID) (store.Account, error) {
	data, err := c.HGet(ctx, s.keys.accounts(owner), string(platform)).Result()
	if errors.Is(err, redis.Nil) {
		return store.Account{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, err
	}
	a, _, err := decodeAccount(owner, platform, data)
	return a, err
}

// AccountByID implements store.Accounts. A reverse entry whose owner's record
// does not name id (a claim in flight or left by a crash) counts as absent.
func (s *Store) AccountByID(ctx context.Context, platform ids.PlatformID, id ids.AccountID) (store.Account, error) {
	a, err := s.accountByID(ctx, platform, id)
	if err != nil {
		return store.Account{}, fmt.Errorf("redisstore: account %s on %s: %w", id, platform, err)
	}
	return a, nil
}

func (s *Store) accountByID(ctx context.Context, platform ids.PlatformID, id ids.AccountID) (store.Account, error) {
	if id == "" {
		return store.Account{}, store.ErrNotFound
	}
	owner, err := s.client.HGet(ctx, s.keys.accountID(platform, id), "owner").Result()
	if errors.Is(err, redis.Nil) {
		return store.Account{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, err
	}
	a, err := s.accountByOwner(ctx, s.client, ids.Owner(owner), platform)
	if err != nil {
		return store.Account{}, err
	}
	if a.ID != id {
		return store.Account{}, store.ErrNotFound
	}
	return a, nil
}

// ListAccounts implements store.Accounts.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	owners, err := s.client.SMembers(ctx, s.keys.owners()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list accounts: %w", err)
	}
	slices.Sort(owners)
	var list []store.Account
	for batch := range slices.Chunk(owners, listBatch) {
		cmds := make([]*redis.MapStringStringCmd, len(batch))
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, o := range batch {
				cmds[i] = p.HGetAll(ctx, s.keys.accounts(ids.Owner(o)))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("redisstore: list accounts: %w", err)
		}
		for i, o := range batch {
			start := len(list)
			for platform, data := range cmds[i].Val() {
				a, _, err := decodeAccount(ids.Owner(o), ids.PlatformID(platform), data)
				if err != nil {
					return nil, fmt.Errorf("redisstore: list accounts: %w", err)
				}
				list = append(list, a)
			}
			slices.SortFunc(list[start:], func(a, b store.Account) int { return strings.Compare(string(a.Platform), string(b.Platform)) })
		}
	}
	return list, nil
}

// SetAccountState implements store.Accounts.
// One script call on the server: one round trip, where a WATCH/MULTI
// transaction took four (this runs twice per session at every start).
func (s *Store) SetAccountState(ctx context.Context, owner ids.Owner, platform ids.PlatformID, state event.State, detail string) error {
	updated := time.Now().UTC().Format(time.RFC3339Nano)
	found, err := s.runScript(ctx, setStateScript, fencedSetStateScript, []string{s.keys.accounts(owner)}, string(platform), string(state), detail, updated).Int()
	if err == nil && found == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstore: set state of %s on %s: %w", owner, platform, err)
	}
	return nil
}

// setStateScript sets the state, detail and update time of the account
// record in field ARGV[1] of hash KEYS[1] and counts the write in its rev,
// as the Go code encodes the record (records.go: empty state and detail
// are left out); it returns 0 if there is no such record.
var setStateScript = redis.NewScript(setStateLua)

const setStateLua = `
local data = redis.call('HGET', KEYS[1], ARGV[1])
if not data then return 0 end
local r = cjson.decode(data)
if ARGV[2] == '' then r.state = nil else r.state = ARGV[2] end
if ARGV[3] == '' then r.detail = nil else r.detail = ARGV[3] end
r.updated = ARGV[4]
r.rev = (tonumber(r.rev) or 0) + 1
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(r))
return 1
`
