package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// queueField is the stream entry field that holds an item.
const queueField = "d"

// Enqueue implements store.Queues with XADD on the owner's stream; the
// entry id is the sequence. The owner is added to the queues set first, so
// that an item is never queued for an owner PendingOwners does not look at.
// The set and the stream live in different slots, so they are two commands;
// the set only ever grows (by one member per owner that ever queued), and
// PendingOwners skips the owners whose stream is empty.
func (s *Store) Enqueue(ctx context.Context, owner ids.Owner, item []byte) (string, error) {
	if err := s.client.SAdd(ctx, s.keys.queueOwners(), string(owner)).Err(); err != nil {
		return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
	}
	seq, err := s.client.XAdd(ctx, &redis.XAddArgs{
		Stream: s.keys.queue(owner),
		Values: []any{queueField, item},
	}).Result()
	if err != nil {
		return "", fmt.Errorf("redisstore: enqueue for %s: %w", owner, err)
	}
	return seq, nil
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

// Ack implements store.Queues with XDEL. A sequence that is not a stream
// entry id names no item, so acknowledging it does nothing.
func (s *Store) Ack(ctx context.Context, owner ids.Owner, seq string) error {
	if !validStreamID(seq) {
		return nil
	}
	if err := s.client.XDel(ctx, s.keys.queue(owner), seq).Err(); err != nil {
		return fmt.Errorf("redisstore: ack %s of %s: %w", seq, owner, err)
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
