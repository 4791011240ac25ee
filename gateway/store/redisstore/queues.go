package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// queueField is the stream entry field that holds an item.
const queueField = "d"

// Enqueue implements store.Queues with XADD on the owner's stream; the
// entry id is the sequence. The owner is added to the queues set first, so
// that an item is never queued for an owner PendingOwners does not look at.
// The set and the stream live in different slots, so they are two commands;
// the set grows by one member per owner that queued, loses it when an
// owner without accounts has an empty queue (ackScript), and
// PendingOwners skips the owners whose stream is empty. On one server
// (standalone, or Sentinel's master) the two go in one pipeline: one
// connection executes them in order, and what makes SADD fail (OOM,
// READONLY, a dropped connection) stops the XADD after it too; were SADD to
// fail alone, Enqueue reports the error and the owner's next Enqueue lists
// them. A Cluster client sends the commands of different slots to their
// nodes concurrently, so there SADD is awaited before XADD is sent.
func (s *Store) Enqueue(ctx context.Context, owner ids.Owner, item []byte) (string, error) {
	if f, fenced, err := s.fenceOf(owner); err != nil {
		return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
	} else if fenced {
		seqs, err := s.enqueueFenced(ctx, f, []store.QueueAppend{{Owner: owner, Data: item}})
		if err != nil {
			return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
		}
		return seqs[0], nil
	}
	args := &redis.XAddArgs{Stream: s.keys.queue(owner), Values: []any{queueField, item}}
	if c, ok := s.client.(*redis.Client); ok {
		var (
			sadd *redis.IntCmd
			xadd *redis.StringCmd
		)
		// Errors are read from each command below, not from Pipelined.
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			sadd = p.SAdd(ctx, s.keys.queueOwners(), string(owner))
			xadd = p.XAdd(ctx, args)
			return nil
		})
		if err := sadd.Err(); err != nil {
			return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
		}
		seq, err := xadd.Result()
		if err != nil {
			return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
		}
		return seq, nil
	}
	if err := s.client.SAdd(ctx, s.keys.queueOwners(), string(owner)).Err(); err != nil {
		return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
	}
	seq, err := s.client.XAdd(ctx, args).Result()
	if err != nil {
		return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
	}
	return seq, nil
}

// EnqueueAll implements store.Queues: the owners are added to the set of
// owners with one SADD, then every item is appended with XADD, in one
// pipeline on a standalone or Sentinel client (one connection runs them in
// order). A Cluster client waits for the SADD before the XADDs, which may
// go to other nodes; its pipeline keeps the order of each stream's items.
func (s *Store) EnqueueAll(ctx context.Context, items []store.QueueAppend) ([]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	if s.fenced() {
		seqs, err := s.enqueueAllFenced(ctx, items)
		if err != nil {
			return nil, fmt.Errorf("redisstore: enqueue %d items: %w", len(items), err)
		}
		return seqs, nil
	}
	var owners []any
	seen := make(map[ids.Owner]bool)
	for _, it := range items {
		if !seen[it.Owner] {
			seen[it.Owner] = true
			owners = append(owners, string(it.Owner))
		}
	}
	xadds := make([]*redis.StringCmd, len(items))
	appendAll := func(p redis.Pipeliner) {
		for i, it := range items {
			data := it.Data
			if data == nil {
				data = []byte{}
			}
			xadds[i] = p.XAdd(ctx, &redis.XAddArgs{Stream: s.keys.queue(it.Owner), Values: []any{queueField, data}})
		}
	}
	var sadd *redis.IntCmd
	if c, ok := s.client.(*redis.Client); ok {
		// Errors are read from each command below, not from Pipelined.
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			sadd = p.SAdd(ctx, s.keys.queueOwners(), owners...)
			appendAll(p)
			return nil
		})
	} else {
		sadd = s.client.SAdd(ctx, s.keys.queueOwners(), owners...)
		if sadd.Err() == nil {
			_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
				appendAll(p)
				return nil
			})
		}
	}
	if err := sadd.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: enqueue %d items: %w", len(items), err)
	}
	seqs := make([]string, len(items))
	for i, cmd := range xadds {
		seq, err := cmd.Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: enqueue for %s: %w", items[i].Owner, err)
		}
		seqs[i] = seq
	}
	return seqs, nil
}

// Pending implements store.Queues with XRANGE. Enqueued is the time in the
// entry id (the Redis server's clock, millisecond precision).
func (s *Store) Pending(ctx context.Context, owner ids.Owner, limit int) ([]store.QueueItem, error) {
	if limit <= 0 || limit > store.DefaultPendingLimit {
		limit = store.DefaultPendingLimit
	}
	msgs, err := s.client.XRangeN(ctx, s.keys.queue(owner), "-", "+", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: pending of %s: %w", owner, err)
	}
	out := make([]store.QueueItem, 0, len(msgs))
	for _, m := range msgs {
		v, _ := m.Values[queueField].(string)
		out = append(out, store.QueueItem{Seq: m.ID, Data: []byte(v), Enqueued: streamIDTime(m.ID)})
	}
	return out, nil
}

// streamIDTime reads the millisecond time of a stream entry id ("ms-n").
func streamIDTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

// ackScript removes the entries ARGV (none is fine) from the stream
// KEYS[1], an owner's queue, and deletes the stream once it is empty and
// the owner has no account record left (KEYS[2], the owner's acct hash:
// same hash tag, same slot), so that nothing of an unregistered owner
// stays behind. It returns 1 when it deleted the stream.
var ackScript = redis.NewScript(ackLua)

const ackLua = `
if #ARGV > 0 then
	redis.call('XDEL', KEYS[1], unpack(ARGV))
end
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('XLEN', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
`

// ackArgs are the keys and arguments of ackScript for owner's seqs.
func (s *Store) ackArgs(owner ids.Owner, seqs []string) ([]string, []any) {
	args := make([]any, len(seqs))
	for i, seq := range seqs {
		args[i] = seq
	}
	return []string{s.keys.queue(owner), s.keys.accounts(owner)}, args
}

// Ack implements store.Queues with XDEL (ackScript). A sequence that is
// not a stream entry id names no item, so acknowledging it does nothing.
func (s *Store) Ack(ctx context.Context, owner ids.Owner, seq string) error {
	if !validStreamID(seq) {
		return nil
	}
	if err := s.ack(ctx, owner, []string{seq}); err != nil {
		return fmt.Errorf("redisstore: ack %s of %s: %w", seq, owner, err)
	}
	return nil
}

// ack runs ackScript for owner's seqs and forgets the owner's queue when
// the script deleted it.
func (s *Store) ack(ctx context.Context, owner ids.Owner, seqs []string) error {
	keys, args := s.ackArgs(owner, seqs)
	var cmd *redis.Cmd
	if f, fenced, err := s.ownerFenceOf(owner); err != nil {
		return s.refused(err)
	} else if fenced {
		cmd = s.runFenced(ctx, f, fencedAckScript, keys, args...)
	} else {
		cmd = s.runScript(ctx, ackScript, fencedAckScript, keys, args...)
	}
	gone, err := cmd.Int()
	if err != nil {
		return err
	}
	if gone == 1 {
		return s.forgetQueue(ctx, owner)
	}
	return nil
}

// forgetQueue removes owner from the queues set after ackScript deleted
// their stream. An Enqueue that re-created the stream meanwhile (it adds
// to the set before it appends) is seen by the second look, which adds
// the owner back.
func (s *Store) forgetQueue(ctx context.Context, owner ids.Owner) error {
	if err := s.write(ctx, "SREM", s.keys.queueOwners(), string(owner)).Err(); err != nil {
		return fmt.Errorf("updating the queues set: %w", err)
	}
	n, err := s.client.Exists(ctx, s.keys.queue(owner)).Result()
	if err == nil && n > 0 {
		err = s.write(ctx, "SADD", s.keys.queueOwners(), string(owner)).Err()
	}
	if err != nil {
		return fmt.Errorf("updating the queues set: %w", err)
	}
	return nil
}

// AckAll implements store.Queues: one ackScript per owner (per delBatch
// items), all in one pipeline. Sequences that are not stream entry ids
// are skipped, as Ack does.
func (s *Store) AckAll(ctx context.Context, items []store.QueueRef) error {
	byOwner := make(map[ids.Owner][]string)
	var owners []ids.Owner
	for _, it := range items {
		if !validStreamID(it.Seq) {
			continue
		}
		if _, ok := byOwner[it.Owner]; !ok {
			owners = append(owners, it.Owner)
		}
		byOwner[it.Owner] = append(byOwner[it.Owner], it.Seq)
	}
	switch {
	case len(owners) == 0:
		return nil
	case s.ownerFences.Load() != nil:
		// Owner-fenced: one fenced script per owner, in turn.
		for _, o := range owners {
			for seqs := range slices.Chunk(byOwner[o], delBatch) {
				if err := s.ack(ctx, o, seqs); err != nil {
					return fmt.Errorf("redisstore: ack %d items of %s: %w", len(seqs), o, err)
				}
			}
		}
		return nil
	case len(owners) == 1:
		if seqs := byOwner[owners[0]]; len(seqs) <= delBatch {
			if err := s.ack(ctx, owners[0], seqs); err != nil {
				return fmt.Errorf("redisstore: ack %d items of %s: %w", len(seqs), owners[0], err)
			}
			return nil
		}
	}
	type xdel struct {
		owner ids.Owner
		seqs  []string
		cmd   *redis.Cmd
	}
	var cmds []xdel
	// The script is loaded once so that the pipeline can use EVALSHA.
	// A fenced store runs the fenced twin, fence first.
	fence := s.fence.Load()
	script := ackScript
	if fence != nil {
		script = fencedAckScript
	}
	if err := script.Load(ctx, s.client).Err(); err != nil {
		return fmt.Errorf("redisstore: ack %d items: %w", len(items), err)
	}
	// Errors are read from each command below, not from Pipelined.
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, o := range owners {
			for seqs := range slices.Chunk(byOwner[o], delBatch) {
				keys, args := s.ackArgs(o, seqs)
				if fence != nil {
					cmds = append(cmds, xdel{o, seqs, evalShaFenced(ctx, p, *fence, fencedAckScript, keys, args...)})
					continue
				}
				cmds = append(cmds, xdel{o, seqs, ackScript.EvalSha(ctx, p, keys, args...)})
			}
		}
		return nil
	})
	for _, c := range cmds {
		gone, err := c.cmd.Int()
		err = s.refused(cluster.FencedError(err))
		switch {
		case redis.HasErrorPrefix(err, "NOSCRIPT"): // the script cache was flushed since Load
			err = s.ack(ctx, c.owner, c.seqs)
		case err == nil && gone == 1:
			err = s.forgetQueue(ctx, c.owner)
		}
		if err != nil {
			return fmt.Errorf("redisstore: ack %d items: XDEL of %s: %w", len(items), c.owner, err)
		}
	}
	return nil
}

// validStreamID reports whether id has the form "ms-n" of two decimals.
func validStreamID(id string) bool {
	ms, n, ok := strings.Cut(id, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(n, 10, 64)
	return err1 == nil && err2 == nil
}

// PendingOwners implements store.Queues: the members of the queues set
// whose stream holds at least one entry.
func (s *Store) PendingOwners(ctx context.Context) ([]ids.Owner, error) {
	members, err := s.client.SMembers(ctx, s.keys.queueOwners()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: pending owners: %w", err)
	}
	var out []ids.Owner
	for _, m := range members {
		n, err := s.client.XLen(ctx, s.keys.queue(ids.Owner(m))).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: pending owners: %w", err)
		}
		if n > 0 {
			out = append(out, ids.Owner(m))
		}
	}
	return out, nil
}
