package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// A StreamQueue is one Redis Stream read through one consumer group:
// entries are appended in order, read in order by one consumer at a time
// (the holder of the lease that guards the queue), and acknowledged
// (XACK, then XDEL) once handled. Entries read but not acknowledged stay
// pending; the next reader claims them (XAUTOCLAIM) and reads them again,
// first, in order: delivery is at least once, in order.
//
// Two kinds are used by sharding (docs/cluster.md): an owner's inbox
// (stanzas from XMPP for that owner, read by the owner's worker), keyed
// with the owner's hash tag so that a fenced acknowledgement checks the
// owner's lease in the same slot; and the front's outbox (stanzas for
// XMPP from every worker, read by the front).
type StreamQueue struct {
	client redis.UniversalClient
	key    string
}

// streamGroup is the consumer group of every StreamQueue.
const streamGroup = "drawbridge"

// streamField is the entry field that holds the data.
const streamField = "d"

// NewOwnerInbox is the queue of stanzas from XMPP for owner.
func NewOwnerInbox(client redis.UniversalClient, prefix, owner string) *StreamQueue {
	return &StreamQueue{client: client, key: prefixEscaper.Replace(prefix) + "cluster:in:" + OwnerTag(owner)}
}

// NewFrontOutbox is the queue of stanzas for XMPP, read by the front.
func NewFrontOutbox(client redis.UniversalClient, prefix string) *StreamQueue {
	return &StreamQueue{client: client, key: prefixEscaper.Replace(prefix) + "cluster:out:{front}"}
}

// Key is the stream's key.
func (q *StreamQueue) Key() string { return q.key }

// streamAdmittedField marks an entry its poster admitted (PostOptions.Admitted).
const streamAdmittedField = "a"

// postLua appends to a stream: KEYS[1] the stream; ARGV[1] the group,
// ARGV[2] the data, ARGV[3] the most entries the stream may hold (0: no
// bound), ARGV[4] "1" to mark the entry admitted. The group is created
// (from the stream's start) with the stream, so no entry is ever appended
// before the group that reads it exists: the append does not make the
// stream (NOMKSTREAM, Redis 6.2), and only when there is none is it made
// with its group, so that an append to a stream that exists costs one
// command (two with a bound). A stream at its bound is left as it is and
// the script returns false (a nil reply): the length and the append are
// one step, so concurrent posters cannot pass the bound.
const postLua = `
local max = tonumber(ARGV[3])
if max > 0 and redis.call('XLEN', KEYS[1]) >= max then
	return false
end
local fields = {'` + streamField + `', ARGV[2]}
if ARGV[4] == '1' then
	fields = {'` + streamField + `', ARGV[2], '` + streamAdmittedField + `', '1'}
end
local id = redis.call('XADD', KEYS[1], 'NOMKSTREAM', '*', unpack(fields))
if id then
	return id
end
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
return redis.call('XADD', KEYS[1], '*', unpack(fields))
`

// postScript runs postLua.
var postScript = redis.NewScript(postLua)

// postArgs are postLua's arguments for data and opts.
func postArgs(data []byte, opts PostOptions) []any {
	admitted := "0"
	if opts.Admitted {
		admitted = "1"
	}
	return []any{streamGroup, data, max(opts.Max, 0), admitted}
}

// ErrQueueFull refuses a post to a queue that holds PostOptions.Max
// entries already.
var ErrQueueFull = errors.New("the queue is full")

// PostOptions qualify one post.
type PostOptions struct {
	// Max is the most entries the queue may hold, the new one included
	// (read and not acknowledged, or not read yet); a post past it is
	// refused with ErrQueueFull. 0 means no bound.
	Max int64
	// Admitted marks the entry as admitted by its poster (the front made
	// the sender's rate check and took its token): the reader sees it in
	// Entry.Admitted and does not take a second token.
	Admitted bool
}

// Post appends data and returns the entry's id.
func (q *StreamQueue) Post(ctx context.Context, data []byte) (string, error) {
	return q.PostWith(ctx, data, PostOptions{})
}

// PostWith is Post with opts: a bound on the queue's length, checked in
// the same step as the append, and the admitted mark.
func (q *StreamQueue) PostWith(ctx context.Context, data []byte, opts PostOptions) (string, error) {
	id, err := postScript.Run(ctx, q.client, []string{q.key}, postArgs(data, opts)...).Text()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("cluster: appending to %s, which holds %d entries: %w", q.key, opts.Max, ErrQueueFull)
	}
	if err != nil {
		return "", fmt.Errorf("cluster: appending to %s: %w", q.key, err)
	}
	return id, nil
}

// ackScript: KEYS[1] the stream; ARGV[1] the group, ARGV[2..] the ids.
// Acknowledges and deletes the entries; returns how many were pending.
const streamAckLua = `
local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
return n
`

var (
	streamAckScript       = redis.NewScript(streamAckLua)
	streamAckFencedScript = FencedScript(streamAckLua)
)

// Ack acknowledges and deletes the entries ids once handled. With a
// fence (the owner's lease for an inbox), a reader that lost the lease is
// refused (ErrFenced) and the entries stay for the next reader.
func (q *StreamQueue) Ack(ctx context.Context, fence *Fence, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, streamGroup)
	for _, id := range ids {
		args = append(args, id)
	}
	var err error
	if fence != nil {
		err = fence.Run(ctx, q.client, streamAckFencedScript, []string{q.key}, args...).Err()
	} else {
		err = streamAckScript.Run(ctx, q.client, []string{q.key}, args...).Err()
	}
	if err != nil {
		return fmt.Errorf("cluster: acknowledging %d entries of %s: %w", len(ids), q.key, err)
	}
	return nil
}

// Entry is one entry of a StreamQueue.
type Entry struct {
	ID   string
	Data []byte
	// Redelivered marks an entry an earlier reader read and did not
	// acknowledge (it died, or lost the owner): it may have been handled
	// already, in part.
	Redelivered bool
	// Admitted marks an entry its poster admitted (PostOptions.Admitted).
	Admitted bool
}

// Reader reads a StreamQueue as one consumer: first every entry left
// pending by earlier readers (claimed), then its own pending ones, then
// new ones, all in the stream's order.
//
// A read of new entries (not Redelivered) that returns fewer than it
// asked for found the stream empty after them: a reader woken
// by a ring that follows each post (the Bell) need not read again until
// the next ring.
type Reader struct {
	q        *StreamQueue
	consumer string
	// caughtUp is set once the pending entries were all read; after is
	// the id of the last pending entry returned until then.
	caughtUp bool
	after    string
}

// Reader returns a reader for consumer (the worker's or the front's
// instance id).
func (q *StreamQueue) Reader(consumer string) *Reader {
	return &Reader{q: q, consumer: consumer, after: "0"}
}

// Read returns up to count entries, waiting up to block for new ones (0:
// no wait). The first calls return what earlier readers left pending,
// claimed for this consumer, oldest first; then new entries. An absent
// stream reads as empty. An entry returned and not acknowledged is not
// returned again by this reader: the next reader (after a restart or a
// takeover) claims it.
func (r *Reader) Read(ctx context.Context, count int, block time.Duration) ([]Entry, error) {
	if !r.caughtUp {
		if r.after == "0" {
			if err := r.claimAll(ctx); err != nil {
				return nil, err
			}
		}
		es, n, err := r.read(ctx, r.after, count, 0)
		if err != nil {
			return nil, err
		}
		if len(es) > 0 {
			r.after = es[len(es)-1].ID
			for i := range es {
				es[i].Redelivered = true
			}
			// Fewer than asked (deleted ones counted): that was the
			// last of them (only this reader adds to its consumer's
			// pending entries, by reading new ones), so the next read
			// need not look again.
			r.caughtUp = n < count
			return es, nil
		}
		r.caughtUp = true
	}
	es, _, err := r.read(ctx, ">", count, block)
	return es, err
}

// claimAll moves every pending entry of the group to this consumer.
func (r *Reader) claimAll(ctx context.Context) error {
	start := "0-0"
	for {
		_, next, err := r.q.client.XAutoClaimJustID(ctx, &redis.XAutoClaimArgs{
			Stream: r.q.key, Group: streamGroup, Consumer: r.consumer, MinIdle: 0, Start: start, Count: 1000,
		}).Result()
		if isNoGroup(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cluster: claiming the pending entries of %s: %w", r.q.key, err)
		}
		if next == "0-0" || next == "" {
			return nil
		}
		start = next
	}
}

// read reads up to count entries after from; n counts the entries
// Redis returned, those left out included (pending, but deleted).
func (r *Reader) read(ctx context.Context, from string, count int, block time.Duration) (es []Entry, n int, err error) {
	if block <= 0 {
		block = -1 // go-redis: no BLOCK argument (BLOCK 0 would wait forever)
	}
	args := &redis.XReadGroupArgs{
		Group: streamGroup, Consumer: r.consumer, Streams: []string{r.q.key, from}, Count: int64(count), Block: block,
	}
	res, err := r.q.client.XReadGroup(ctx, args).Result()
	if isNoGroup(err) && block > 0 {
		// Nothing was ever posted. Returning at once would not wait as
		// asked, and a reader that relies on the wait (the front's pump
		// on an outbox no worker wrote to yet) would spin on Redis: make
		// the stream and its group as Post does, and wait on it.
		if err := r.q.createGroup(ctx); err != nil {
			return nil, 0, err
		}
		res, err = r.q.client.XReadGroup(ctx, args).Result()
	}
	if errors.Is(err, redis.Nil) || isNoGroup(err) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: reading %s: %w", r.q.key, err)
	}
	for _, s := range res {
		for _, m := range s.Messages {
			n++
			if m.Values == nil {
				// Pending but deleted: acknowledged and deleted by a
				// reader that lost the race with its own fence check.
				continue
			}
			d, _ := m.Values[streamField].(string)
			a, _ := m.Values[streamAdmittedField].(string)
			es = append(es, Entry{ID: m.ID, Data: []byte(d), Admitted: a == "1"})
		}
	}
	return es, n, nil
}

// createGroup creates the stream and its group, from the stream's start,
// as Post does; a group that exists already is left as it is.
func (q *StreamQueue) createGroup(ctx context.Context) error {
	err := q.client.XGroupCreateMkStream(ctx, q.key, streamGroup, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return fmt.Errorf("cluster: creating %s: %w", q.key, err)
	}
	return nil
}

// isNoGroup reports a read of a stream (or group) that does not exist
// yet: nothing was ever posted.
func isNoGroup(err error) bool { return redis.HasErrorPrefix(err, "NOGROUP") }

// QueueLag is what a StreamQueue holds: entries read but not acknowledged
// (Pending) and entries not read yet (Unread).
type QueueLag struct {
	Pending int64
	Unread  int64
}

// Lag reads the queue: the group's pending count (XPENDING) and the
// stream's length. Acknowledged entries are deleted, so the stream holds
// exactly the pending and the unread ones. A queue never posted to has
// no lag.
func (q *StreamQueue) Lag(ctx context.Context) (QueueLag, error) {
	var (
		pending *redis.XPendingCmd
		length  *redis.IntCmd
	)
	_, _ = q.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		pending = p.XPending(ctx, q.key, streamGroup)
		length = p.XLen(ctx, q.key)
		return nil
	})
	n, err := length.Result()
	if err != nil {
		return QueueLag{}, fmt.Errorf("cluster: reading the length of %s: %w", q.key, err)
	}
	pe, err := pending.Result()
	if isNoGroup(err) || n == 0 {
		return QueueLag{Unread: n}, nil
	}
	if err != nil {
		return QueueLag{}, fmt.Errorf("cluster: reading the pending entries of %s: %w", q.key, err)
	}
	return QueueLag{Pending: pe.Count, Unread: n - pe.Count}, nil
}
