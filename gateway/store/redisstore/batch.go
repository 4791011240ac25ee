package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// batchMax bounds the writes of one WriteBatch script call, so that a
// large batch does not hold the server for long in one go; a larger one
// is refused with store.ErrNoBatch (the roles' calls split it).
const batchMax = 2048

// batchLua writes a store.Batch in one script call: id pairs as
// putMIDLua does, appends as Enqueue does, acks as ackLua does (an owner
// whose stream it deletes also leaves the queues set, in the same step).
// A Lua error stops the script where it is, so an ack is never applied
// unless every pair and append before it was.
//
// KEYS[1] the queues set; then 3 keys per pair (the owner's mids index,
// the pair's by-XMPP and by-platform keys), 1 per append (its stream) and
// 2 per acked owner (its stream, its acct hash). ARGV[1..3] the numbers
// of pairs, appends and acked owners; ARGV[4] the exclusive prune bound
// of the indexes; then 6 per pair (the length of the keys' common prefix,
// platform id, XMPP id, TTL ms, score, the index's expiry), 2 per append
// (data, owner), and per acked owner its name, the number n of its
// sequences, and the n sequences. Returns the appends' entry ids.
const batchLua = `
local np, na, no = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local k, a = 2, 5
local expiry = {}
for i = 1, np do
	local index, kx, kp = KEYS[k], KEYS[k + 1], KEYS[k + 2]
	local skip = tonumber(ARGV[a]) + 1
	redis.call('SET', kx, ARGV[a + 1], 'PX', ARGV[a + 3])
	redis.call('SET', kp, ARGV[a + 2], 'PX', ARGV[a + 3])
	redis.call('ZADD', index, ARGV[a + 4], string.sub(kx, skip), ARGV[a + 4], string.sub(kp, skip))
	local e = tonumber(ARGV[a + 5])
	if not expiry[index] or expiry[index] < e then expiry[index] = e end
	k, a = k + 3, a + 6
end
for index, e in pairs(expiry) do
	redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[4])
	redis.call('PEXPIREAT', index, e, 'NX')
	redis.call('PEXPIREAT', index, e, 'GT')
end
local seqs = {}
for i = 1, na do
	redis.call('SADD', KEYS[1], ARGV[a + 1])
	seqs[i] = redis.call('XADD', KEYS[k], '*', '` + queueField + `', ARGV[a])
	k, a = k + 1, a + 2
end
for i = 1, no do
	local stream, acct, owner, n = KEYS[k], KEYS[k + 1], ARGV[a], tonumber(ARGV[a + 1])
	if n > 0 then
		redis.call('XDEL', stream, unpack(ARGV, a + 2, a + 1 + n))
	end
	if redis.call('EXISTS', stream) == 1 and redis.call('XLEN', stream) == 0 and redis.call('EXISTS', acct) == 0 then
		redis.call('DEL', stream)
		redis.call('SREM', KEYS[1], owner)
	end
	k, a = k + 2, a + 2 + n
end
return seqs
`

var (
	batchScript            = redis.NewScript(batchLua)
	fencedBatchScript      = cluster.FencedScript(batchLua)
	ownerFencedBatchScript = cluster.MultiFencedScript(batchLua)
)

var _ store.Batcher = (*Store)(nil)

// WriteBatch implements store.Batcher with one script call (fenced by
// SetFence's fence if set). It needs every key on one server: with a
// Cluster client, with owner fences (SetOwnerFences: one fence per
// owner), or for more than batchMax writes, it returns store.ErrNoBatch.
func (s *Store) WriteBatch(ctx context.Context, b store.Batch) ([]string, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	if _, ok := s.client.(*redis.Client); !ok || b.Len() > batchMax {
		return nil, store.ErrNoBatch
	}
	var fences []cluster.Fence
	if s.ownerFences.Load() != nil {
		var ok bool
		if fences, ok = s.batchFences(b); !ok {
			// An owner this worker does not hold: the roles' calls
			// refuse that owner's writes alone.
			return nil, store.ErrNoBatch
		}
	}
	keys, args := s.batchArgs(time.Now(), b)
	var cmd *redis.Cmd
	switch f := s.fence.Load(); {
	case fences != nil:
		cmd = cluster.RunFences(ctx, s.client, fences, ownerFencedBatchScript, keys, args...)
		if err := cmd.Err(); errors.Is(err, store.ErrFenced) {
			// Nothing was written: the roles' calls write the parts of
			// the owners still held and refuse the others'.
			s.refused(err)
			return nil, store.ErrNoBatch
		}
	case f != nil:
		cmd = s.runFenced(ctx, *f, fencedBatchScript, keys, args...)
	default:
		cmd = batchScript.Run(ctx, s.client, keys, args...)
	}
	seqs, err := cmd.StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: write a batch of %d pairs, %d appends, %d acks: %w", len(b.Pairs), len(b.Appends), len(b.Acks), err)
	}
	if len(seqs) != len(b.Appends) {
		return nil, fmt.Errorf("redisstore: a batch of %d appends returned %d ids", len(b.Appends), len(seqs))
	}
	return seqs, nil
}

// batchArgs lays b out as batchLua reads it.
func (s *Store) batchArgs(now time.Time, b store.Batch) ([]string, []any) {
	type ackGroup struct {
		owner ids.Owner
		seqs  []string
	}
	var groups []ackGroup
	at := make(map[ids.Owner]int)
	nseqs := 0
	for _, r := range b.Acks {
		if !validStreamID(r.Seq) {
			continue // names no item, as Ack
		}
		i, ok := at[r.Owner]
		if !ok {
			i = len(groups)
			at[r.Owner] = i
			groups = append(groups, ackGroup{owner: r.Owner})
		}
		groups[i].seqs = append(groups[i].seqs, r.Seq)
		nseqs++
	}
	keys := make([]string, 1, 1+3*len(b.Pairs)+len(b.Appends)+2*len(groups))
	keys[0] = s.keys.queueOwners()
	args := make([]any, 0, 4+6*len(b.Pairs)+2*len(b.Appends)+2*len(groups)+nseqs)
	nowMs := now.UnixMilli()
	args = append(args, len(b.Pairs), len(b.Appends), len(groups), "("+strconv.FormatInt(nowMs-indexSlack.Milliseconds(), 10))
	for _, p := range b.Pairs {
		ttl := p.TTL
		if ttl <= 0 {
			ttl = store.DefaultMessageIDTTL
		}
		ttlMs := max(ttl.Milliseconds(), 1)
		expires := nowMs + ttlMs
		base := s.keys.midBase(p.Owner)
		keys = append(keys, s.keys.midIndex(p.Owner), base+midByXMPPSuffix(p.Chat, p.XMPPID), base+midByPlatformSuffix(p.Chat, p.PlatformID))
		args = append(args, len(base), string(p.PlatformID), p.XMPPID, ttlMs, expires, expires+indexSlack.Milliseconds())
	}
	for _, it := range b.Appends {
		data := it.Data
		if data == nil {
			data = []byte{}
		}
		keys = append(keys, s.keys.queue(it.Owner))
		args = append(args, data, string(it.Owner))
	}
	for _, g := range groups {
		keys = append(keys, s.keys.queue(g.owner), s.keys.accounts(g.owner))
		args = append(args, string(g.owner), len(g.seqs))
		for _, seq := range g.seqs {
			args = append(args, seq)
		}
	}
	return keys, args
}

// batchFences is the fence of every owner b writes for, each once, under
// owner fences; false if this worker does not hold one of them.
func (s *Store) batchFences(b store.Batch) ([]cluster.Fence, bool) {
	var fences []cluster.Fence
	seen := make(map[ids.Owner]bool)
	add := func(o ids.Owner) bool {
		if seen[o] {
			return true
		}
		seen[o] = true
		f, held, err := s.ownerFenceOf(o)
		if err != nil || !held {
			return false
		}
		for _, g := range fences {
			if g.Key == f.Key {
				return true // an outbox or intake queue of an owner already fenced
			}
		}
		fences = append(fences, f)
		return true
	}
	for _, p := range b.Pairs {
		if !add(p.Owner) {
			return nil, false
		}
	}
	for _, it := range b.Appends {
		if !add(it.Owner) {
			return nil, false
		}
	}
	for _, r := range b.Acks {
		if !add(r.Owner) {
			return nil, false
		}
	}
	return fences, true
}
