package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// commandCalls is INFO commandstats's calls of each command at addr.
func commandCalls(t *testing.T, addr string) map[string]int64 {
	t.Helper()
	return parseCommandStats(redisInfo(t, addr, "commandstats"))
}

// TestShardRouterSkipsLeaseReadOfHeldOwner: the router reads the lease
// of an owner once; while a worker holds it, the owner's next stanzas
// are admitted and posted with no read of the lease before (the post
// reads it), each admitted once, in order. Once the owner is free its
// next stanza takes the full path: admitted once, posted to its inbox
// while linked; once unlinked too, its stanzas go to the live worker
// rendezvous hashing prefers.
func TestShardRouterSkipsLeaseReadOfHeldOwner(t *testing.T) {
	addr := storetest.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	ctx := t.Context()
	const owner = "alice@example.test"
	lease := cluster.NewOwnerLease(client, shardPrefix, owner)
	g, err := lease.Acquire(ctx, "beta", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.NewWorkerRegistry(client, shardPrefix).Heartbeat(ctx, cluster.Instance{ID: "beta", Role: cluster.RoleWorker}, time.Minute); err != nil {
		t.Fatal(err)
	}
	var linked atomic.Bool
	linked.Store(true)
	var local []string
	r := newShardRouter(client, shardPrefix, "alpha",
		func(_ context.Context, p stanza.Packet) { local = append(local, stanzaID(p)) },
		func(context.Context, string) (bool, error) { return linked.Load(), nil },
		slog.New(slog.DiscardHandler))
	var admits []string
	r.Admit = func(p stanza.Packet) (stanza.Packet, bool) {
		admits = append(admits, stanzaID(p))
		return nil, true
	}
	send := func(id string) {
		t.Helper()
		r.Handle(ctx, shardMsg(id, owner+"/phone", "+15550000001@gw.example.test"))
	}
	leaseReads := func() int64 { return commandCalls(t, addr)["hmget"] }

	before := leaseReads()
	send("a1")
	if n := leaseReads() - before; n != 1 {
		t.Errorf("first stanza: %d lease reads, want 1", n)
	}
	before = leaseReads()
	for i := 2; i <= 4; i++ {
		send(fmt.Sprintf("a%d", i))
	}
	if n := leaseReads() - before; n != 0 {
		t.Errorf("stanzas of an owner held lately: %d lease reads, want 0", n)
	}
	rung, err := cluster.NewBell(client, shardPrefix).Wait(ctx, "beta", 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{owner}; !slices.Equal(rung, want) {
		t.Errorf("beta's bell: %v, want %v", rung, want)
	}

	// Free, still linked (a move in progress): to the inbox, for the
	// next holder.
	if err := lease.Release(ctx, g); err != nil {
		t.Fatal(err)
	}
	send("a5")
	// Free and unlinked: to the preferred worker's own inbox.
	linked.Store(false)
	send("a6")

	if want := []string{"a1", "a2", "a3", "a4", "a5"}; !slices.Equal(admits, want) {
		t.Errorf("admitted %v, want %v (each once; a6 is no linked owner's)", admits, want)
	}
	if got, want := inboxEntries(t, cluster.NewOwnerInbox(client, shardPrefix, owner)), []string{"a1 admitted", "a2 admitted", "a3 admitted", "a4 admitted", "a5 admitted"}; !slices.Equal(got, want) {
		t.Errorf("owner's inbox: %v, want %v", got, want)
	}
	if got, want := inboxEntries(t, cluster.NewWorkerInbox(client, shardPrefix, "beta")), []string{"a6"}; !slices.Equal(got, want) {
		t.Errorf("beta's own inbox: %v, want %v", got, want)
	}
	if len(local) != 0 {
		t.Errorf("handled here: %v, want none", local)
	}
}

// TestOutboxAckerBatches: the ids queued while a flush runs are
// acknowledged together by the next one (at most maxAckBatch a call),
// and wait returns once all are.
func TestOutboxAckerBatches(t *testing.T) {
	tests := []struct {
		name    string
		entries int
		calls   int64
	}{
		{"one", 1, 1},
		{"a message's four stanzas", 4, 1},
		{"more than a batch", maxAckBatch*2 + 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := storetest.StartRedis(t)
			client := redis.NewClient(&redis.Options{Addr: addr})
			ctx := t.Context()
			outbox := cluster.NewFrontOutbox(client, shardPrefix)
			for i := range tt.entries {
				if _, err := outbox.Post(ctx, fmt.Appendf(nil, "e%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			es, err := outbox.Reader("front").Read(ctx, tt.entries, 0)
			if err != nil || len(es) != tt.entries {
				t.Fatalf("read %d entries, %v; want %d", len(es), err, tt.entries)
			}
			a := &outboxAcker{outbox: outbox, log: slog.New(slog.DiscardHandler)}
			// As if a flush ran: add only queues.
			running := make(chan struct{})
			a.done = running
			for _, e := range es {
				a.add(e.ID)
			}
			before := commandCalls(t, addr)["xack"]
			a.flush(running)
			a.wait(ctx)
			if n := commandCalls(t, addr)["xack"] - before; n != tt.calls {
				t.Errorf("%d XACK calls for %d entries, want %d", n, tt.entries, tt.calls)
			}
			if lg, err := outbox.Lag(ctx); err != nil || lg != (cluster.QueueLag{}) {
				t.Errorf("outbox after the acknowledgements: %+v, %v; want empty", lg, err)
			}
			// A later add starts a flush of its own.
			if _, err := outbox.Post(ctx, []byte("late")); err != nil {
				t.Fatal(err)
			}
			late, err := outbox.Reader("front").Read(ctx, 1, 0)
			if err != nil || len(late) != 1 {
				t.Fatalf("read %v, %v; want the late entry", late, err)
			}
			a.add(late[0].ID)
			a.wait(ctx)
			if lg, err := outbox.Lag(ctx); err != nil || lg != (cluster.QueueLag{}) {
				t.Errorf("outbox after a late acknowledgement: %+v, %v; want empty", lg, err)
			}
		})
	}
}

// TestHeldHint: an owner marked is held in its period and the next,
// forgotten after, or at once by forget.
func TestHeldHint(t *testing.T) {
	const ttl = time.Second
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name   string
		after  time.Duration // from the mark to the look-up
		forget bool
		want   bool
	}{
		{"just marked", 0, false, true},
		{"within the period", ttl / 2, false, true},
		{"in the next period", ttl + ttl/2, false, true},
		{"two periods on", 2*ttl + ttl/2, false, false},
		{"forgotten", 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			h := &heldHint{ttl: ttl, now: func() time.Time { return now }}
			if h.has("alice@example.test") {
				t.Fatal("an empty hint holds alice")
			}
			h.mark("alice@example.test")
			if tt.forget {
				h.forget("alice@example.test")
			}
			// Looked at in between, as traffic does: periods rotate.
			for step := time.Duration(0); step < tt.after; step += ttl / 4 {
				now = t0.Add(step)
				h.has("bob@example.test")
			}
			now = t0.Add(tt.after)
			if got := h.has("alice@example.test"); got != tt.want {
				t.Errorf("has after %v: %v, want %v", tt.after, got, tt.want)
			}
		})
	}
}
