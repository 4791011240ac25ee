package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// handled is one entry a worker handled.
type handled struct {
	worker, id, data string
}

// routeLog is what every worker of a test handled, per owner, in order.
type routeLog struct {
	mu sync.Mutex
	by map[string][]handled
}

func (l *routeLog) add(owner string, h handled) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.by[owner] = append(l.by[owner], h)
}

// get is the data of owner's entries handled, in order.
func (l *routeLog) get(owner string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, h := range l.by[owner] {
		out = append(out, h.data)
	}
	return out
}

// distinct counts the distinct entries handled.
func (l *routeLog) distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, hs := range l.by {
		seen := map[string]bool{}
		for _, h := range hs {
			if !seen[h.id] {
				seen[h.id] = true
				n++
			}
		}
	}
	return n
}

// TestRoutingThroughRedisAcrossAWorkerCrash: three Workers share 300
// owners; a Router (the front) routes 10 messages per owner (3000). After
// the first half, the worker gw-b is made to die in the middle of handling
// the next message of each of its owners (handled, not acknowledged), and
// is killed (no drain) while the front keeps routing and its owners move.
// In the end every message was handled, each owner's in the order routed
// (counting each entry's first handling), exactly one copy per owner of
// gw-b (the entry it had not acknowledged, read again first by the next
// holder), every owner owned exactly once, every inbox empty.
func TestRoutingThroughRedisAcrossAWorkerCrash(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	all := owners(300)
	const perOwner = 10
	log := &routeLog{by: map[string][]handled{}}
	type running struct {
		w      *cluster.Worker
		cancel context.CancelFunc
		done   chan struct{}
		// dying makes Handle record the entry, then hang until the
		// worker is killed: it dies between handling and acknowledging.
		dying atomic.Bool
	}
	start := func(id string) *running {
		r := &running{done: make(chan struct{})}
		w, err := cluster.NewWorker(cluster.WorkerOptions{
			AssignerOptions: cluster.AssignerOptions{
				Client: c, Prefix: prefix, Instance: cluster.Instance{ID: id},
				TTL: 3 * time.Second, RenewEvery: 300 * time.Millisecond, MaxMovesPerSecond: 10000,
				Owners: func(context.Context) ([]string, error) { return all, nil },
				Start:  func(context.Context, string, cluster.Grant) error { return nil },
				Stop:   func(context.Context, string) {},
			},
			Handle: func(ctx context.Context, owner string, e cluster.Entry) error {
				log.add(owner, handled{worker: id, id: e.ID, data: string(e.Data)})
				if r.dying.Load() {
					<-ctx.Done()
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		r.w = w
		rctx, cancel := context.WithCancel(ctx)
		r.cancel = cancel
		go func() {
			defer close(r.done)
			_ = w.Run(rctx)
		}()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}
	ws := []*running{start("gw-a"), start("gw-b"), start("gw-c")}
	testutil.Eventually(t, waitTimeout, "300 owners claimed", func() bool {
		n := 0
		for _, r := range ws {
			n += len(r.w.Assigner().Owned())
		}
		return n == len(all)
	})
	front := cluster.NewRouter(c, prefix)
	post := func(from, to int) {
		for i := from; i <= to; i++ {
			for _, o := range all {
				if _, err := front.Route(ctx, o, []byte(fmt.Sprintf("%s#%02d", o, i))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	post(1, perOwner/2)
	testutil.Eventually(t, waitTimeout, "the first half handled", func() bool { return log.distinct() == len(all)*perOwner/2 })

	dead := ws[1]
	deadOwned := dead.w.Assigner().Owned()
	dead.dying.Store(true)
	post(perOwner/2+1, perOwner/2+1)
	// gw-b hangs in the Handle of each of its owners; the others handle theirs.
	testutil.Eventually(t, waitTimeout, "gw-b handling one message", func() bool {
		return log.distinct() >= len(all)*perOwner/2+1
	})
	dead.cancel()
	<-dead.done
	post(perOwner/2+2, perOwner)
	testutil.Eventually(t, 2*waitTimeout, "every message handled", func() bool { return log.distinct() == len(all)*perOwner })

	live := []*cluster.Worker{ws[0].w, ws[2].w}
	copies := 0
	for _, o := range all {
		var got []string
		seen := map[string]string{}
		for _, h := range log.by[o] {
			if first, dup := seen[h.id]; dup {
				copies++
				if first != "gw-b" {
					t.Errorf("owner %s: entry %s handled again after %s, which is alive", o, h.data, first)
				}
				continue
			}
			seen[h.id] = h.worker
			got = append(got, h.data)
		}
		want := make([]string, perOwner)
		for i := range want {
			want[i] = fmt.Sprintf("%s#%02d", o, i+1)
		}
		if !slices.Equal(got, want) {
			t.Errorf("owner %s handled %v, want %v", o, got, want)
		}
		n := 0
		for _, w := range live {
			if _, ok := w.Assigner().Grant(o); ok {
				n++
			}
		}
		if n != 1 {
			t.Errorf("owner %s owned by %d live workers", o, n)
		}
		if lag, err := cluster.NewOwnerInbox(c, prefix, o).Lag(ctx); err != nil || lag != (cluster.QueueLag{}) {
			t.Errorf("owner %s's inbox lag %+v (%v), want none", o, lag, err)
		}
	}
	// gw-b hung in the Handle of one entry of each owner it was handling
	// (one goroutine per owner); those entries were left pending, and the
	// next holders handled them again, first.
	if copies < 1 || copies > len(deadOwned) {
		t.Errorf("%d copies, want 1 to %d (one per owner whose entry gw-b died handling)", copies, len(deadOwned))
	}
	t.Logf("gw-b owned %d owners when killed; %d copies", len(deadOwned), copies)
}

// TestWorkerSlowOwnerDoesNotHoldOthers: while the handling of one
// owner's stanza hangs (a platform that does not answer), the worker
// handles the other owners' stanzas; the slow owner's next stanzas wait
// for it, in order.
func TestWorkerSlowOwnerDoesNotHoldOthers(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	all := owners(2)
	slow, quick := all[0], all[1]
	release := make(chan struct{})
	log := &routeLog{by: map[string][]handled{}}
	w, err := cluster.NewWorker(cluster.WorkerOptions{
		AssignerOptions: cluster.AssignerOptions{
			Client: c, Prefix: prefix, Instance: cluster.Instance{ID: "gw-a"},
			TTL: 3 * time.Second, RenewEvery: 300 * time.Millisecond, MaxMovesPerSecond: 100,
			Owners: func(context.Context) ([]string, error) { return all, nil },
			Start:  func(context.Context, string, cluster.Grant) error { return nil },
			Stop:   func(context.Context, string) {},
		},
		Handle: func(ctx context.Context, owner string, e cluster.Entry) error {
			if owner == slow {
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			log.add(owner, handled{worker: "gw-a", id: e.ID, data: string(e.Data)})
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(rctx) }()
	defer func() { cancel(); <-done }()
	testutil.Eventually(t, waitTimeout, "both owners claimed", func() bool { return len(w.Assigner().Owned()) == 2 })
	front := cluster.NewRouter(c, prefix)
	for i := 1; i <= 3; i++ {
		for _, o := range []string{slow, quick} {
			if _, err := front.Route(ctx, o, []byte(fmt.Sprintf("%s#%d", o, i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	testutil.Eventually(t, waitTimeout, "the quick owner's three stanzas handled while the slow one hangs", func() bool {
		return len(log.get(quick)) == 3
	})
	if got := log.get(slow); len(got) != 0 {
		t.Fatalf("the slow owner's stanzas handled before the release: %v", got)
	}
	close(release)
	testutil.Eventually(t, waitTimeout, "the slow owner's stanzas handled", func() bool { return len(log.get(slow)) == 3 })
	for _, o := range []string{slow, quick} {
		want := []string{o + "#1", o + "#2", o + "#3"}
		if got := log.get(o); !slices.Equal(got, want) {
			t.Errorf("%s handled %v, want %v", o, got, want)
		}
	}
}

// TestRouteToWorker: stanzas of a user with no owner lease go to the
// worker rendezvous hashing prefers among the live workers, through its
// own inbox, in order; Handle sees them with no owner.
func TestRouteToWorker(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	log := &routeLog{by: map[string][]handled{}}
	for _, id := range []string{"gw-a", "gw-b"} {
		w, err := cluster.NewWorker(cluster.WorkerOptions{
			AssignerOptions: cluster.AssignerOptions{
				Client: c, Prefix: prefix, Instance: cluster.Instance{ID: id},
				TTL: 3 * time.Second, RenewEvery: 300 * time.Millisecond, MaxMovesPerSecond: 100,
				Owners: func(context.Context) ([]string, error) { return nil, nil },
				Start:  func(context.Context, string, cluster.Grant) error { return nil },
				Stop:   func(context.Context, string) {},
			},
			Handle: func(_ context.Context, owner string, e cluster.Entry) error {
				log.add(id, handled{worker: id, id: e.ID, data: owner + "|" + string(e.Data)})
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = w.Run(rctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	var live []string
	testutil.Eventually(t, waitTimeout, "two live workers", func() bool {
		var err error
		live, err = cluster.LiveWorkers(ctx, c, prefix)
		return err == nil && len(live) == 2
	})
	router := cluster.NewRouter(c, prefix)
	want := map[string][]string{}
	for i, u := range []string{"new1@example.test", "new2@example.test", "new3@example.test", "new4@example.test"} {
		to := cluster.Preferred(u, live)
		for j := range 2 {
			data := fmt.Sprintf("%s#%d.%d", u, i, j)
			if _, err := router.RouteToWorker(ctx, to, []byte(data), cluster.PostOptions{}); err != nil {
				t.Fatal(err)
			}
			want[to] = append(want[to], "|"+data)
		}
	}
	testutil.Eventually(t, waitTimeout, "every stanza handled", func() bool {
		return len(log.get("gw-a"))+len(log.get("gw-b")) == 8
	})
	for _, id := range []string{"gw-a", "gw-b"} {
		if got := log.get(id); !slices.Equal(got, want[id]) {
			t.Errorf("%s handled %v, want %v", id, got, want[id])
		}
	}
}
