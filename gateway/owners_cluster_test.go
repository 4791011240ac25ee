package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestClusterWorkersStartAndStopOwners runs two sharded hubs as the
// workers of a cluster on one redis-server: each hub's Assigner starts and
// stops owners on it (StartOwner, StopOwner). Every owner ends up served
// by the hub rendezvous hashing prefers, never by both at once; a contact's
// message reaches the owner through that hub only; when one worker drains,
// the other serves all.
func TestClusterWorkersStartAndStopOwners(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	st := redisstore.New(client, redisstore.Options{})
	t.Cleanup(func() { st.Close() })
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	hubs := map[string]*hub{}
	hubs["alpha"], _ = newShardHub(t, st, p, false, delivery.SendRetry{})
	hubs["beta"], _ = newShardHub(t, st, p, false, delivery.SendRetry{})

	var owners []ids.Owner
	phones := map[ids.Owner]ids.AccountID{}
	for i := range 4 {
		o := ids.Owner(fmt.Sprintf("user%d@example.test", i))
		phones[o] = ids.AccountID(fmt.Sprintf("+1555765432%d", i))
		owners = append(owners, o)
		// Linked on alpha, then let go: the workers share them out.
		hubs["alpha"].startOwner(t, o)
		hubs["alpha"].link(t, o, string(phones[o]))
		if err := hubs["alpha"].gw.StopOwner(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}

	other := map[string]string{"alpha": "beta", "beta": "alpha"}
	run := func(id string) (*cluster.Assigner, context.CancelFunc, chan struct{}) {
		h := hubs[id]
		a, err := cluster.NewAssigner(cluster.AssignerOptions{
			Client:            client,
			Prefix:            "ownertest:",
			Instance:          cluster.Instance{ID: id},
			TTL:               3 * time.Second,
			RenewEvery:        100 * time.Millisecond,
			MaxMovesPerSecond: 100,
			Owners: func(ctx context.Context) ([]string, error) {
				accts, err := st.ListAccounts(ctx)
				if err != nil {
					return nil, err
				}
				var out []string
				for _, a := range accts {
					out = append(out, string(a.Owner))
				}
				return out, nil
			},
			Start: func(ctx context.Context, owner string, _ cluster.Grant) error {
				if hubs[other[id]].gw.Owns(ids.Owner(owner)) {
					t.Errorf("%s starts %s, which %s still serves", id, owner, other[id])
				}
				return h.gw.StartOwner(ctx, ids.Owner(owner))
			},
			Stop: func(ctx context.Context, owner string) {
				if err := h.gw.StopOwner(ctx, ids.Owner(owner)); err != nil {
					t.Errorf("%s stops %s: %v", id, owner, err)
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = a.Run(ctx)
		}()
		t.Cleanup(func() { cancel(); <-done })
		return a, cancel, done
	}
	// served waits until each owner is served by want(owner) alone.
	served := func(what string, want func(ids.Owner) string) {
		t.Helper()
		testutil.WaitFor(t, what, func() bool {
			for _, o := range owners {
				for id, h := range hubs {
					if h.gw.Owns(o) != (id == want(o)) {
						return false
					}
				}
			}
			return true
		})
	}
	// reaches checks that a contact's message to each owner reaches it
	// through want(owner)'s hub, and not through the other.
	reaches := func(body string, want func(ids.Owner) string) {
		t.Helper()
		for _, o := range owners {
			if _, err := p.SendAs(t.Context(), sandbox.Alice, phones[o], body); err != nil {
				t.Fatal(err)
			}
		}
		isBody := func(ev event.Event) bool {
			m, ok := ev.(*event.Message)
			return ok && m.Body == body
		}
		for _, o := range owners {
			hubs[want(o)].fe.wait(t, o, 1, isBody)
			if n := hubs[other[want(o)]].fe.count(o, isBody); n != 0 {
				t.Errorf("%q reached %s through %s too", body, o, other[want(o)])
			}
		}
	}

	_, _, _ = run("alpha")
	served("alpha to serve every owner", func(ids.Owner) string { return "alpha" })
	b, stopB, doneB := run("beta")
	preferred := func(o ids.Owner) string { return cluster.Preferred(string(o), []string{"alpha", "beta"}) }
	split := map[string]int{}
	for _, o := range owners {
		split[preferred(o)]++
	}
	if split["alpha"] == 0 || split["beta"] == 0 {
		t.Fatalf("rendezvous hashing puts every owner on one worker (%v): pick other owners", split)
	}
	served("the owners to be shared out", preferred)
	reaches("while shared", preferred)

	stopB()
	<-doneB
	if err := b.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	served("alpha to serve every owner after beta drained", func(ids.Owner) string { return "alpha" })
	reaches("after the drain", func(ids.Owner) string { return "alpha" })
}
