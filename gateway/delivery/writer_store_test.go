package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// batchStore is a real store (sqlite or Redis) that the Writer's tests
// watch and steer: it records what each WriteBatch call was given,
// counts the roles' separate writes, and can hold a WriteBatch call
// until released, fail it, or refuse every batch with store.ErrNoBatch.
type batchStore struct {
	store.Store
	inner store.Batcher
	// noBatch refuses every batch with store.ErrNoBatch (as the Redis
	// store does under owner fences or Cluster) before calling inner.
	noBatch bool
	// afterAppend, if set, runs after each successful write that
	// appended, with its appends: the state of the store then is what a
	// crash right after that write would leave.
	afterAppend func(appends []store.QueueAppend)
	// afterAck is afterAppend for writes that acked.
	afterAck func(acks []store.QueueRef)

	mu      sync.Mutex
	batches []store.Batch // every WriteBatch call's batch, in call order
	steps   []*batchStep  // what the next WriteBatch calls do, in order
	apart   int           // the roles' separate write calls
}

// batchStep steers one WriteBatch call.
type batchStep struct {
	entered chan struct{} // closed once the call has started
	release chan struct{} // if set, the call waits for it to be closed
	err     error         // if set, returned without writing
}

var _ store.Batcher = (*batchStore)(nil)

// newBatchStore wraps st, which must be a store.Batcher.
func newBatchStore(t *testing.T, st store.Store) *batchStore {
	t.Helper()
	b, ok := st.(store.Batcher)
	if !ok {
		t.Fatalf("%T is not a store.Batcher", st)
	}
	return &batchStore{Store: st, inner: b}
}

// next makes the next WriteBatch call without a step yet follow s.
func (s *batchStore) next(st *batchStep) *batchStep {
	st.entered = make(chan struct{})
	s.mu.Lock()
	s.steps = append(s.steps, st)
	s.mu.Unlock()
	return st
}

// hold makes the next WriteBatch call wait until the returned step's
// release is closed, then fail with err if err is not nil.
func (s *batchStore) hold(err error) *batchStep {
	return s.next(&batchStep{release: make(chan struct{}), err: err})
}

// calls returns the batches WriteBatch was called with so far.
func (s *batchStore) calls() []store.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Batch(nil), s.batches...)
}

// apartCalls is the number of the roles' separate write calls so far.
func (s *batchStore) apartCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apart
}

func (s *batchStore) WriteBatch(ctx context.Context, b store.Batch) ([]string, error) {
	s.mu.Lock()
	s.batches = append(s.batches, b)
	var st *batchStep
	if len(s.steps) > 0 {
		st, s.steps = s.steps[0], s.steps[1:]
	}
	s.mu.Unlock()
	if st != nil {
		close(st.entered)
		if st.release != nil {
			select {
			case <-st.release:
			case <-ctx.Done():
				return nil, fmt.Errorf("batchStore: held batch: %w", ctx.Err())
			}
		}
		if st.err != nil {
			return nil, st.err
		}
	}
	if s.noBatch {
		return nil, store.ErrNoBatch
	}
	seqs, err := s.inner.WriteBatch(ctx, b)
	if err == nil {
		s.appended(b.Appends)
		s.acked(b.Acks)
	}
	return seqs, err
}

func (s *batchStore) countApart() {
	s.mu.Lock()
	s.apart++
	s.mu.Unlock()
}

func (s *batchStore) appended(items []store.QueueAppend) {
	if len(items) > 0 && s.afterAppend != nil {
		s.afterAppend(items)
	}
}

func (s *batchStore) acked(refs []store.QueueRef) {
	if len(refs) > 0 && s.afterAck != nil {
		s.afterAck(refs)
	}
}

func (s *batchStore) PutMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string, platformID ids.MessageID, ttl time.Duration) error {
	s.countApart()
	return s.Store.PutMessageID(ctx, owner, chat, xmppID, platformID, ttl)
}

func (s *batchStore) PutMessageIDs(ctx context.Context, pairs []store.MessageIDPair) error {
	s.countApart()
	return s.Store.PutMessageIDs(ctx, pairs)
}

func (s *batchStore) Enqueue(ctx context.Context, owner ids.Owner, item []byte) (string, error) {
	s.countApart()
	seq, err := s.Store.Enqueue(ctx, owner, item)
	if err == nil {
		s.appended([]store.QueueAppend{{Owner: owner, Data: item}})
	}
	return seq, err
}

func (s *batchStore) EnqueueAll(ctx context.Context, items []store.QueueAppend) ([]string, error) {
	s.countApart()
	seqs, err := s.Store.EnqueueAll(ctx, items)
	if err == nil {
		s.appended(items)
	}
	return seqs, err
}

func (s *batchStore) Ack(ctx context.Context, owner ids.Owner, seq string) error {
	s.countApart()
	err := s.Store.Ack(ctx, owner, seq)
	if err == nil {
		s.acked([]store.QueueRef{{Owner: owner, Seq: seq}})
	}
	return err
}

func (s *batchStore) AckAll(ctx context.Context, items []store.QueueRef) error {
	s.countApart()
	err := s.Store.AckAll(ctx, items)
	if err == nil {
		s.acked(items)
	}
	return err
}

// writerBackend is a real store for the Writer's tests.
type writerBackend struct {
	name string
	// open returns a fresh store; it skips the test under -short if it
	// needs a server.
	open func(t *testing.T) *batchStore
	// apart: the backend refuses batches (store.ErrNoBatch), so every
	// write goes through the roles' separate calls.
	apart bool
}

// writerBackends: sqlite in a temp dir, a real redis-server, the same
// Redis store with owner fences (a batch is one script checking every
// owner's lease), and that store refusing batches (store.ErrNoBatch, as
// it does for a batch with an owner it does not hold), so that every
// write goes through the owner-fenced separate calls.
var writerBackends = []writerBackend{
	{name: "sqlite", open: func(t *testing.T) *batchStore { return newBatchStore(t, openStore(t)) }},
	{name: "redis", open: func(t *testing.T) *batchStore { return newBatchStore(t, openRedis(t, false)) }},
	{name: "redis-owner-fences", open: func(t *testing.T) *batchStore { return newBatchStore(t, openRedis(t, true)) }},
	{name: "redis-owner-fences-apart", apart: true, open: func(t *testing.T) *batchStore {
		st := newBatchStore(t, openRedis(t, true))
		st.noBatch = true
		return st
	}},
}

// openRedis starts a redis-server for t and returns a store on it; with
// fenced, its writes are fenced by owner leases it takes for every owner
// but notHeld on first sight (a worker that holds them all).
func openRedis(t *testing.T, fenced bool) *redisstore.Store {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	const prefix = "wt:"
	st := redisstore.New(client, redisstore.Options{KeyPrefix: prefix})
	t.Cleanup(func() { st.Close() })
	if !fenced {
		return st
	}
	var mu sync.Mutex
	fences := map[ids.Owner]cluster.Fence{}
	st.SetOwnerFences(func(o ids.Owner) (cluster.Fence, bool) {
		if o == notHeld {
			return cluster.Fence{}, false
		}
		mu.Lock()
		defer mu.Unlock()
		if f, ok := fences[o]; ok {
			return f, true
		}
		lease := cluster.NewOwnerLease(client, prefix, string(o))
		g, err := lease.Acquire(context.Background(), "worker", time.Hour)
		if err != nil {
			t.Errorf("owner lease of %s: %v", o, err)
			return cluster.Fence{}, false
		}
		fences[o] = g.Fence(lease)
		return fences[o], true
	})
	// A batch of owners held is one script; one with an owner not held is
	// refused as a whole (the separate calls refuse that owner alone).
	if _, err := st.WriteBatch(t.Context(), store.Batch{Appends: []store.QueueAppend{{Owner: "probe@example.test", Data: []byte("x")}}}); err != nil {
		t.Fatalf("WriteBatch under owner fences, owner held: %v", err)
	}
	if _, err := st.WriteBatch(t.Context(), store.Batch{Appends: []store.QueueAppend{{Owner: "probe@example.test", Data: []byte("y")}, {Owner: notHeld, Data: []byte("z")}}}); !errors.Is(err, store.ErrNoBatch) {
		t.Fatalf("WriteBatch under owner fences with an owner not held: %v, want store.ErrNoBatch", err)
	}
	return st
}
