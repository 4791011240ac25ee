package redisstore

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// SetFence fences every write of the store by f (nil: no fence): from
// then on Enqueue and EnqueueAll (the delivery journal and the intake),
// PutMessageID(s) (the id map), and the writes of fence_writes.go
// (account records, adapter KV, contacts, acks of queue entries) run as
// Lua scripts that first check that the lease f.Key still carries
// f.Token, and refuse the write with an error wrapping store.ErrFenced
// otherwise (DeleteAccount checks the token inside its WATCH
// transaction). A process that lost its lease while paused thus writes
// nothing after it woke up. Migrate, run at open before any lease, is
// not fenced.
//
// The check reads the lease's key in the same script as the write, so
// the fence needs every key on one server: standalone or Sentinel, not
// Redis Cluster (the configuration refuses that combination).
func (s *Store) SetFence(f *cluster.Fence) {
	if f != nil {
		c := *f
		f = &c
	}
	s.fence.Store(f)
}

// enqueueFencedScript appends items after the fence's check. KEYS[1] the
// set of owners with queues; KEYS[1+i] item i's stream. ARGV[i] item i's
// data, ARGV[n+i] its owner. Returns the entry ids.
var enqueueFencedScript = cluster.FencedScript(`
local n = #KEYS - 1
local ids = {}
for i = 1, n do
	redis.call('SADD', KEYS[1], ARGV[n + i])
	ids[i] = redis.call('XADD', KEYS[1 + i], '*', '` + queueField + `', ARGV[i])
end
return ids
`)

// fencedPutMIDScript is putMIDScript after the fence's check.
var fencedPutMIDScript = cluster.FencedScript(putMIDLua)

// enqueueFenced appends items in one fenced script call.
func (s *Store) enqueueFenced(ctx context.Context, f cluster.Fence, items []store.QueueAppend) ([]string, error) {
	keys := make([]string, 1, 1+len(items))
	keys[0] = s.keys.queueOwners()
	args := make([]any, 2*len(items))
	for i, it := range items {
		keys = append(keys, s.keys.queue(it.Owner))
		data := it.Data
		if data == nil {
			data = []byte{}
		}
		args[i] = data
		args[len(items)+i] = string(it.Owner)
	}
	seqs, err := s.runFenced(ctx, f, enqueueFencedScript, keys, args...).StringSlice()
	if err != nil {
		return nil, err
	}
	if len(seqs) != len(items) {
		return nil, fmt.Errorf("fenced enqueue of %d items returned %d ids", len(items), len(seqs))
	}
	return seqs, nil
}

// putMessageIDsFenced runs the id map's script calls fenced, one by one,
// each by its owner's fence, stopping at the first refusal.
func (s *Store) putMessageIDsFenced(ctx context.Context, calls []scriptCall) error {
	for _, c := range calls {
		f, _, err := s.fenceOf(c.owner)
		if err != nil {
			return s.refused(err)
		}
		if err := s.runFenced(ctx, f, fencedPutMIDScript, c.keys, c.args...).Err(); err != nil {
			return err
		}
	}
	return nil
}
