package redisstore

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// TestConformanceFenced runs the suite on stores fenced by a lease they
// hold: the fenced scripts of the journal and the id map behave as the
// unfenced writes do.
func TestConformanceFenced(t *testing.T) {
	addr := storetest.StartRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		prefix := freshPrefix()
		client := redis.NewClient(&redis.Options{Addr: addr})
		s := New(client, Options{KeyPrefix: prefix})
		l := cluster.NewLease(client, prefix, cluster.FrontLease)
		g, err := l.Acquire(t.Context(), "holder", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f := g.Fence(l)
		s.SetFence(&f)
		return s
	})
}

// TestFencedWritesOfAStaleHolder: the store's holder loses the lease to
// another instance (its lease expired while it was paused); its journal
// appends (one and several) and id map writes are refused with
// store.ErrFenced and leave nothing behind, while the new holder's land.
func TestFencedWritesOfAStaleHolder(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	prefix := freshPrefix()
	oldClient := redis.NewClient(&redis.Options{Addr: addr})
	old := New(oldClient, Options{KeyPrefix: prefix})
	t.Cleanup(func() { old.Close() })
	l := cluster.NewLease(oldClient, prefix, cluster.FrontLease)
	const owner ids.Owner = "alice@example.org"
	chat := ids.ChatID("c1")

	g, err := l.Acquire(ctx, "old", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := g.Fence(l)
	old.SetFence(&f)
	if _, err := old.Enqueue(ctx, owner, []byte("before")); err != nil {
		t.Fatalf("the holder's append: %v", err)
	}
	if err := old.PutMessageID(ctx, owner, chat, "x-before", "p-before", time.Hour); err != nil {
		t.Fatalf("the holder's id map write: %v", err)
	}

	// The lease passes to another instance behind the old holder's back,
	// as when it expires during a pause and a standby takes it.
	if err := oldClient.Del(ctx, l.Key()).Err(); err != nil {
		t.Fatal(err)
	}
	newClient := redis.NewClient(&redis.Options{Addr: addr})
	fresh := New(newClient, Options{KeyPrefix: prefix})
	t.Cleanup(func() { fresh.Close() })
	g2, err := cluster.NewLease(newClient, prefix, cluster.FrontLease).Acquire(ctx, "new", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f2 := g2.Fence(l)
	fresh.SetFence(&f2)

	writes := []struct {
		name  string
		write func() error
	}{
		{"Enqueue", func() error { _, err := old.Enqueue(ctx, owner, []byte("stale")); return err }},
		{"EnqueueAll", func() error {
			_, err := old.EnqueueAll(ctx, []store.QueueAppend{{Owner: owner, Data: []byte("stale-1")}, {Owner: "bob@example.org", Data: []byte("stale-2")}})
			return err
		}},
		{"PutMessageID", func() error { return old.PutMessageID(ctx, owner, chat, "x-stale", "p-stale", time.Hour) }},
		{"PutMessageIDs", func() error {
			return old.PutMessageIDs(ctx, []store.MessageIDPair{
				{Owner: owner, Chat: chat, XMPPID: "x-stale2", PlatformID: "p-stale2", TTL: time.Hour},
				{Owner: "bob@example.org", Chat: chat, XMPPID: "x-stale3", PlatformID: "p-stale3", TTL: time.Hour},
			})
		}},
	}
	for _, w := range writes {
		err := w.write()
		if !errors.Is(err, store.ErrFenced) {
			t.Errorf("%s by the stale holder: %v, want store.ErrFenced", w.name, err)
		} else {
			t.Logf("%s refused: %v", w.name, err)
		}
	}
	if _, err := fresh.Enqueue(ctx, owner, []byte("after")); err != nil {
		t.Fatalf("the new holder's append: %v", err)
	}
	items, err := fresh.Pending(ctx, owner, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, string(it.Data))
	}
	if len(got) != 2 || got[0] != "before" || got[1] != "after" {
		t.Errorf("journal %q, want [before after]", got)
	}
	if bob, err := fresh.Pending(ctx, "bob@example.org", 0); err != nil || len(bob) != 0 {
		t.Errorf("bob's journal %v (%v), want empty", bob, err)
	}
	for _, x := range []string{"x-stale", "x-stale2"} {
		if _, err := fresh.PlatformMessageID(ctx, owner, chat, x); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("id map has the stale write %s (%v)", x, err)
		}
	}
	if p, err := fresh.PlatformMessageID(ctx, owner, chat, "x-before"); err != nil || p != "p-before" {
		t.Errorf("id map x-before → %q, %v; want p-before", p, err)
	}
	// Without a fence the store writes as before.
	old.SetFence(nil)
	if _, err := old.Enqueue(ctx, owner, []byte("unfenced")); err != nil {
		t.Errorf("append without a fence: %v", err)
	}
}
