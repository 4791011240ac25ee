package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// The writes outside the journal and the id map (fence.go) are fenced
// here: account records and their reverse index, the owners and queues
// indexes, adapter KV, contacts, and acks of queue entries. Each has a
// plain form and a fenced twin; the store picks the twin while SetFence
// holds a fence, so that a process that lost its lease writes nothing.

// fencedCallScript runs one single-key command after the fence's check:
// ARGV[1] the command, KEYS[1] its key, ARGV[2..] its other arguments.
var fencedCallScript = cluster.FencedScript(`return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))`)

// Fenced twins of the store's Lua scripts.
var (
	fencedSetStateScript = cluster.FencedScript(setStateLua)
	fencedClaimScript    = cluster.FencedScript(claimLua)
	fencedReleaseScript  = cluster.FencedScript(releaseLua)
	fencedAckScript      = cluster.FencedScript(ackLua)
	// fencedRecordCASScript writes an account record, as compareAndSet
	// does under WATCH, in one fenced step.
	fencedRecordCASScript = cluster.FencedScript(recordCASLua)
)

// recordCASLua sets field ARGV[1] of hash KEYS[1] to ARGV[4] if it is
// still ARGV[3] (ARGV[2] "1"), or still absent (ARGV[2] "0"). Returns 1
// when it wrote, 0 when the record changed meanwhile.
const recordCASLua = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
	if cur ~= ARGV[3] then return 0 end
elseif cur then
	return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
`

// OnFenced sets fn to be told of each write that the fence refused (nil:
// nobody), for metrics. fn must be quick and safe for concurrent calls.
func (s *Store) OnFenced(fn func(error)) {
	if fn == nil {
		s.onFenced.Store(nil)
		return
	}
	s.onFenced.Store(&fn)
}

// refused tells the OnFenced hook about err if it wraps store.ErrFenced,
// and returns err.
func (s *Store) refused(err error) error {
	if err != nil && errors.Is(err, store.ErrFenced) {
		if fn := s.onFenced.Load(); fn != nil {
			(*fn)(err)
		}
	}
	return err
}

// runFenced is f.Run on the store's client, told to the OnFenced hook.
func (s *Store) runFenced(ctx context.Context, f cluster.Fence, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd := f.Run(ctx, s.client, script, keys, args...)
	s.refused(cmd.Err())
	return cmd
}

// write runs the single-key command cmd on key: plainly, or after the
// fence's check while the store is fenced.
func (s *Store) write(ctx context.Context, cmd, key string, args ...any) *redis.Cmd {
	if f := s.fence.Load(); f != nil {
		return s.runFenced(ctx, *f, fencedCallScript, []string{key}, append([]any{cmd}, args...)...)
	}
	return s.client.Do(ctx, append([]any{cmd, key}, args...)...)
}

// runScript runs plain, or its fenced twin while the store is fenced.
func (s *Store) runScript(ctx context.Context, plain, fenced *redis.Script, keys []string, args ...any) *redis.Cmd {
	if f := s.fence.Load(); f != nil {
		return s.runFenced(ctx, *f, fenced, keys, args...)
	}
	return plain.Run(ctx, s.client, keys, args...)
}

// evalShaFenced queues the fenced twin of a script in a pipeline, with
// the fence's key and token in front as Fence.Run puts them; read its
// error through cluster.FencedError.
func evalShaFenced(ctx context.Context, p redis.Pipeliner, f cluster.Fence, fenced *redis.Script, keys []string, args ...any) *redis.Cmd {
	k := append([]string{f.Key}, keys...)
	a := append([]any{strconv.FormatInt(f.Token, 10)}, args...)
	return fenced.EvalSha(ctx, p, k, a...)
}

// checkFenceTx fails with store.ErrFenced unless the lease still carries
// the fence's token, read through tx (a WATCH transaction that watches
// f.Key too, so that a change before EXEC aborts the write).
func checkFenceTx(ctx context.Context, tx *redis.Tx, f *cluster.Fence) error {
	if f == nil {
		return nil
	}
	cur, err := tx.HGet(ctx, f.Key, "token").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("reading the lease %s: %w", f.Key, err)
	}
	if want := strconv.FormatInt(f.Token, 10); cur != want {
		if cur == "" {
			return fmt.Errorf("%w: token %s of %s: the lease has expired", store.ErrFenced, want, f.Key)
		}
		return fmt.Errorf("%w: token %s of %s: the lease is now at token %s", store.ErrFenced, want, f.Key, cur)
	}
	return nil
}
