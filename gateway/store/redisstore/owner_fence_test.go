package redisstore

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// leasedOwners is a worker's view of the owner leases it holds, as
// cluster.Assigner.Fence gives it.
type leasedOwners struct {
	mu     sync.Mutex
	fences map[ids.Owner]cluster.Fence
}

func (l *leasedOwners) fence(o ids.Owner) (cluster.Fence, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.fences[o]
	return f, ok
}

func (l *leasedOwners) acquire(t *testing.T, c redis.UniversalClient, prefix, holder string, o ids.Owner) {
	t.Helper()
	lease := cluster.NewOwnerLease(c, prefix, string(o))
	g, err := lease.Acquire(t.Context(), holder, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fences == nil {
		l.fences = map[ids.Owner]cluster.Fence{}
	}
	l.fences[o] = g.Fence(lease)
}

// TestConformanceOwnerFenced runs the suite on a store whose writes are
// fenced per owner, by leases it holds for every owner the suite uses
// (taken on first sight, as a worker that owns them all).
func TestConformanceOwnerFenced(t *testing.T) {
	addr := storetest.StartRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		prefix := freshPrefix()
		client := redis.NewClient(&redis.Options{Addr: addr})
		s := New(client, Options{KeyPrefix: prefix})
		var mu sync.Mutex
		fences := map[ids.Owner]cluster.Fence{}
		s.SetOwnerFences(func(o ids.Owner) (cluster.Fence, bool) {
			mu.Lock()
			defer mu.Unlock()
			if f, ok := fences[o]; ok {
				return f, true
			}
			lease := cluster.NewOwnerLease(client, prefix, string(o))
			g, err := lease.Acquire(t.Context(), "worker", time.Hour)
			if err != nil {
				t.Errorf("owner lease of %s: %v", o, err)
				return cluster.Fence{}, false
			}
			fences[o] = g.Fence(lease)
			return fences[o], true
		})
		return s
	})
}

// TestOwnerFencedWritesOfAStaleWorker: alice's lease passes from worker
// "old" to worker "new" behind old's back (it expired while old was
// paused). Old's journal appends, id map writes and acks of alice are
// refused with store.ErrFenced and leave nothing behind; a write for an
// owner a worker does not hold at all is refused before it is sent; the
// new worker's writes land, and bob's, held by old, still do.
func TestOwnerFencedWritesOfAStaleWorker(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	prefix := freshPrefix()
	const (
		alice ids.Owner = "alice@example.org"
		bob   ids.Owner = "bob@example.org"
		carol ids.Owner = "carol@example.org"
	)
	chat := ids.ChatID("c1")
	oldClient := redis.NewClient(&redis.Options{Addr: addr})
	old := New(oldClient, Options{KeyPrefix: prefix})
	t.Cleanup(func() { old.Close() })
	var oldLeases leasedOwners
	oldLeases.acquire(t, oldClient, prefix, "old", alice)
	oldLeases.acquire(t, oldClient, prefix, "old", bob)
	old.SetOwnerFences(oldLeases.fence)

	before, err := old.Enqueue(ctx, alice, []byte("before"))
	if err != nil {
		t.Fatalf("the owner's append: %v", err)
	}
	acked, err := old.Enqueue(ctx, alice, []byte("acked-by-old"))
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Ack(ctx, alice, acked); err != nil {
		t.Fatalf("the owner's ack: %v", err)
	}
	if err := old.PutMessageID(ctx, alice, chat, "x-before", "p-before", time.Hour); err != nil {
		t.Fatalf("the owner's id map write: %v", err)
	}

	if err := oldClient.Del(ctx, cluster.NewOwnerLease(oldClient, prefix, string(alice)).Key()).Err(); err != nil {
		t.Fatal(err)
	}
	newClient := redis.NewClient(&redis.Options{Addr: addr})
	fresh := New(newClient, Options{KeyPrefix: prefix})
	t.Cleanup(func() { fresh.Close() })
	var newLeases leasedOwners
	newLeases.acquire(t, newClient, prefix, "new", alice)
	fresh.SetOwnerFences(newLeases.fence)

	writes := []struct {
		name  string
		write func() error
	}{
		{"Enqueue", func() error { _, err := old.Enqueue(ctx, alice, []byte("stale")); return err }},
		{"EnqueueAll", func() error {
			_, err := old.EnqueueAll(ctx, []store.QueueAppend{{Owner: alice, Data: []byte("stale-1")}, {Owner: alice, Data: []byte("stale-2")}})
			return err
		}},
		{"PutMessageID", func() error { return old.PutMessageID(ctx, alice, chat, "x-stale", "p-stale", time.Hour) }},
		{"PutMessageIDs", func() error {
			return old.PutMessageIDs(ctx, []store.MessageIDPair{{Owner: alice, Chat: chat, XMPPID: "x-stale2", PlatformID: "p-stale2", TTL: time.Hour}})
		}},
		{"Ack", func() error { return old.Ack(ctx, alice, before) }},
		{"AckAll", func() error { return old.AckAll(ctx, []store.QueueRef{{Owner: alice, Seq: before}}) }},
		{"Enqueue of an owner not held", func() error { _, err := old.Enqueue(ctx, carol, []byte("x")); return err }},
		{"new worker's Enqueue of an owner not held", func() error { _, err := fresh.Enqueue(ctx, bob, []byte("x")); return err }},
	}
	for _, w := range writes {
		if err := w.write(); !errors.Is(err, store.ErrFenced) {
			t.Errorf("%s: %v, want store.ErrFenced", w.name, err)
		} else {
			t.Logf("%s refused: %v", w.name, err)
		}
	}
	if _, err := fresh.Enqueue(ctx, alice, []byte("after")); err != nil {
		t.Fatalf("the new owner's append: %v", err)
	}
	if _, err := old.Enqueue(ctx, bob, []byte("bob's")); err != nil {
		t.Errorf("old's append for bob, whose lease it still holds: %v", err)
	}
	items, err := fresh.Pending(ctx, alice, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, string(it.Data))
	}
	if len(got) != 2 || got[0] != "before" || got[1] != "after" {
		t.Errorf("alice's journal %q, want [before after]", got)
	}
	for _, o := range []ids.Owner{carol} {
		if p, err := fresh.Pending(ctx, o, 0); err != nil || len(p) != 0 {
			t.Errorf("%s's journal %v (%v), want empty", o, p, err)
		}
	}
	for _, x := range []string{"x-stale", "x-stale2"} {
		if _, err := fresh.PlatformMessageID(ctx, alice, chat, x); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("id map has the stale write %s (%v)", x, err)
		}
	}
}

// TestOwnerFencedBatch: under owner fences a batch is one script that
// checks the lease of every owner it writes for (outbox and intake
// queues by their owner's lease). It writes when all are held; it is
// refused with store.ErrNoBatch, writing nothing, when one owner is not
// held here or its lease moved on (a stale worker), so that the roles'
// calls refuse that owner alone.
func TestOwnerFencedBatch(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	prefix := freshPrefix()
	const (
		alice ids.Owner = "alice@example.org"
		bob   ids.Owner = "bob@example.org"
		carol ids.Owner = "carol@example.org"
	)
	client := redis.NewClient(&redis.Options{Addr: addr})
	st := New(client, Options{KeyPrefix: prefix})
	t.Cleanup(func() { st.Close() })
	var leases leasedOwners
	leases.acquire(t, client, prefix, "w", alice)
	leases.acquire(t, client, prefix, "w", bob)
	st.SetOwnerFences(func(o ids.Owner) (cluster.Fence, bool) {
		name, _ := strings.CutPrefix(string(o), "outbox:")
		return leases.fence(ids.Owner(name))
	})
	chat := ids.ChatID("c1")
	held := store.Batch{
		Pairs:   []store.MessageIDPair{{Owner: alice, Chat: chat, XMPPID: "x1", PlatformID: "p1", TTL: time.Hour}},
		Appends: []store.QueueAppend{{Owner: alice, Data: []byte("a1")}, {Owner: bob, Data: []byte("b1")}, {Owner: "outbox:" + bob, Data: []byte("ob1")}},
	}
	seqs, err := st.WriteBatch(ctx, held)
	if err != nil || len(seqs) != 3 {
		t.Fatalf("batch of owners held: %v, %v", seqs, err)
	}
	if p, err := st.PlatformMessageID(ctx, alice, chat, "x1"); err != nil || p != "p1" {
		t.Errorf("the batch's pair: %q, %v", p, err)
	}

	count := func(o ids.Owner) int {
		items, err := st.Pending(ctx, o, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	refused := []struct {
		name  string
		batch store.Batch
	}{
		{"an owner not held", store.Batch{Appends: []store.QueueAppend{{Owner: alice, Data: []byte("a2")}, {Owner: carol, Data: []byte("c2")}}}},
		{"an ack of an owner not held", store.Batch{Appends: []store.QueueAppend{{Owner: alice, Data: []byte("a3")}}, Acks: []store.QueueRef{{Owner: carol, Seq: "1-1"}}}},
	}
	for _, r := range refused {
		if _, err := st.WriteBatch(ctx, r.batch); !errors.Is(err, store.ErrNoBatch) {
			t.Errorf("%s: %v, want store.ErrNoBatch", r.name, err)
		}
	}
	// bob's lease moves to another worker: this one is stale for bob.
	if err := client.Del(ctx, cluster.NewOwnerLease(client, prefix, string(bob)).Key()).Err(); err != nil {
		t.Fatal(err)
	}
	var other leasedOwners
	other.acquire(t, client, prefix, "other", bob)
	if _, err := st.WriteBatch(ctx, store.Batch{Appends: []store.QueueAppend{{Owner: alice, Data: []byte("a4")}, {Owner: bob, Data: []byte("b4")}}}); !errors.Is(err, store.ErrNoBatch) {
		t.Errorf("a batch with a stale owner: %v, want store.ErrNoBatch", err)
	}
	if n := count(alice); n != 1 {
		t.Errorf("alice's queue holds %d items, want 1: a refused batch wrote nothing", n)
	}
	if n := count(bob); n != 1 {
		t.Errorf("bob's queue holds %d items, want 1", n)
	}
}
