package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// ledger is what the workers of one test believe they own: Start puts an
// owner in, Stop takes it out. A Start for an owner another worker still
// runs is a double ownership, the failure these tests look for.
type ledger struct {
	t  *testing.T
	mu sync.Mutex
	by map[string]string // owner → worker
}

func newLedger(t *testing.T) *ledger { return &ledger{t: t, by: map[string]string{}} }

func (l *ledger) start(worker, owner string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.by[owner]; ok {
		l.t.Errorf("owner %s started on %s while %s still runs it", owner, worker, cur)
	}
	l.by[owner] = worker
}

func (l *ledger) stop(worker, owner string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := l.by[owner]; cur != worker {
		l.t.Errorf("owner %s stopped on %s, but it runs on %q", owner, worker, cur)
	}
	delete(l.by, owner)
}

// crashed forgets what worker ran: its process is gone.
func (l *ledger) crashed(worker string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for o, w := range l.by {
		if w == worker {
			delete(l.by, o)
		}
	}
}

func (l *ledger) snapshot() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.by))
	for o, w := range l.by {
		out[o] = w
	}
	return out
}

// worker is one Assigner of a test, with its Run goroutine.
type worker struct {
	id     string
	a      *cluster.Assigner
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends Run (without releasing anything, as a crash would).
func (w *worker) stop() {
	w.cancel()
	<-w.done
}

type assignerSetup struct {
	client *redis.Client
	owners func() []string
	ledger *ledger
	ttl    time.Duration
	moves  float64
	// onStop runs in Stop before the ledger is updated (nil: nothing).
	onStop func(worker, owner string)
}

func (s *assignerSetup) assigner(t *testing.T, id string) *cluster.Assigner {
	t.Helper()
	a, err := cluster.NewAssigner(cluster.AssignerOptions{
		Client:            s.client,
		Prefix:            prefix,
		Instance:          cluster.Instance{ID: id},
		TTL:               s.ttl,
		RenewEvery:        s.ttl / 10,
		MaxMovesPerSecond: s.moves,
		Owners:            func(context.Context) ([]string, error) { return s.owners(), nil },
		Start: func(_ context.Context, owner string, g cluster.Grant) error {
			if g.Holder != id || g.Token == 0 {
				t.Errorf("Start of %s on %s with grant %+v", owner, id, g)
			}
			s.ledger.start(id, owner)
			return nil
		},
		Stop: func(_ context.Context, owner string) {
			if s.onStop != nil {
				s.onStop(id, owner)
			}
			s.ledger.stop(id, owner)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (s *assignerSetup) run(t *testing.T, id string) *worker {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	w := &worker{id: id, a: s.assigner(t, id), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		if err := w.a.Run(ctx); err != nil {
			t.Errorf("Run of %s: %v", id, err)
		}
	}()
	t.Cleanup(w.stop)
	return w
}

// holders reads every owner lease's holder and token from Redis.
func holders(t *testing.T, c *redis.Client, owners []string) map[string]cluster.LeaseState {
	t.Helper()
	out := make(map[string]cluster.LeaseState, len(owners))
	for _, o := range owners {
		st, err := cluster.NewOwnerLease(c, prefix, o).State(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out[o] = st
	}
	return out
}

// settled reports whether every owner is owned exactly once, by its
// preferred worker among live, as both Redis and the workers' own view
// (Owned, and the ledger of Start/Stop) say.
func settled(t *testing.T, c *redis.Client, all []string, live []*worker, l *ledger) bool {
	ids := make([]string, len(live))
	owned := map[string]string{}
	for i, w := range live {
		ids[i] = w.id
		for _, o := range w.a.Owned() {
			if prev, dup := owned[o]; dup {
				t.Errorf("owner %s is in Owned of both %s and %s", o, prev, w.id)
			}
			owned[o] = w.id
		}
	}
	run := l.snapshot()
	if len(owned) != len(all) || len(run) != len(all) {
		return false
	}
	hs := holders(t, c, all)
	for _, o := range all {
		want := cluster.Preferred(o, ids)
		if owned[o] != want || run[o] != want || hs[o].Holder != want {
			return false
		}
	}
	return true
}

func TestAssignersOwnEveryOwnerOnceAndMoveACrashedWorkersOwners(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	all := owners(300)
	s := &assignerSetup{client: c, owners: func() []string { return all }, ledger: newLedger(t), ttl: 3 * time.Second, moves: 10000}
	ws := []*worker{s.run(t, "gw-a"), s.run(t, "gw-b"), s.run(t, "gw-c")}
	testutil.Eventually(t, waitTimeout, "300 owners each owned once by its preferred worker", func() bool {
		return settled(t, c, all, ws, s.ledger)
	})
	for _, w := range ws {
		n := len(w.a.Owned())
		if n == 0 {
			t.Errorf("worker %s owns nothing", w.id)
		}
		t.Logf("%s owns %d owners", w.id, n)
	}
	counts, err := cluster.OwnersByWorker(t.Context(), c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if counts[w.id] != len(w.a.Owned()) {
			t.Errorf("OwnersByWorker says %s holds %d owners, it owns %d", w.id, counts[w.id], len(w.a.Owned()))
		}
	}
	if len(counts) != 3 {
		t.Errorf("OwnersByWorker = %v, want three workers", counts)
	}
	before := holders(t, c, all)

	// gw-b crashes: it stops renewing without releasing anything.
	dead := ws[1]
	deadFences := map[string]cluster.Fence{}
	for _, o := range dead.a.Owned() {
		f, _ := dead.a.Fence(o)
		deadFences[o] = f
	}
	dead.stop()
	s.ledger.crashed(dead.id)
	live := []*worker{ws[0], ws[2]}
	testutil.Eventually(t, waitTimeout, "gw-b's owners taken over by gw-a and gw-c", func() bool {
		return settled(t, c, all, live, s.ledger)
	})
	after := holders(t, c, all)
	for _, o := range all {
		b, a := before[o], after[o]
		switch {
		case b.Holder == dead.id && a.Token <= b.Token:
			t.Errorf("owner %s moved from %s to %s without a newer token (%d, then %d)", o, b.Holder, a.Holder, b.Token, a.Token)
		case b.Holder != dead.id && (a.Holder != b.Holder || a.Token != b.Token):
			t.Errorf("owner %s of live %s (token %d) moved to %s (token %d)", o, b.Holder, b.Token, a.Holder, a.Token)
		}
	}
	// The crashed worker's writes to its former owners' data are refused.
	for o, f := range deadFences {
		err := f.Run(t.Context(), c, appendScript, []string{"test:log:" + cluster.OwnerTag(o)}, "late").Err()
		if !errors.Is(err, cluster.ErrFenced) {
			t.Fatalf("write of %s with the crashed worker's token %d: %v, want ErrFenced", o, f.Token, err)
		}
		break
	}
}

func TestAssignerDrainStopsEachOwnerBeforeReleasingIt(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	all := owners(60)
	s := &assignerSetup{client: c, owners: func() []string { return all }, ledger: newLedger(t), ttl: 10 * time.Second, moves: 10000}
	// A Stop on a draining worker must come while Redis still says the
	// lease is its own: the sessions are down before anyone else may
	// start them.
	s.onStop = func(w, o string) {
		st, err := cluster.NewOwnerLease(c, prefix, o).State(context.Background())
		if err != nil || st.Holder != w {
			t.Errorf("Stop of %s on %s: the lease is %q's (%v), want still %s's", o, w, st.Holder, err, w)
		}
	}
	ws := []*worker{s.run(t, "gw-a"), s.run(t, "gw-b"), s.run(t, "gw-c")}
	testutil.Eventually(t, waitTimeout, "owners settled over three workers", func() bool {
		return settled(t, c, all, ws, s.ledger)
	})
	leaving := ws[2]
	had := leaving.a.Owned()
	leaving.stop()
	if err := leaving.a.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := leaving.a.Owned(); len(got) != 0 {
		t.Errorf("after Drain %s still owns %v", leaving.id, got)
	}
	for o, w := range s.ledger.snapshot() {
		if w == leaving.id {
			t.Errorf("owner %s still runs on drained %s", o, w)
		}
	}
	// The leases' TTL is 30 s: only the hand-over, not an expiry, lets the
	// others take these owners within the wait.
	testutil.Eventually(t, waitTimeout, "the drained worker's owners taken by the other two", func() bool {
		return settled(t, c, all, ws[:2], s.ledger)
	})
	t.Logf("%s handed over %d owners", leaving.id, len(had))
}

func TestAssignerCapsMovesPerStep(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	all := owners(50)
	s := &assignerSetup{client: c, owners: func() []string { return all }, ledger: newLedger(t), ttl: 30 * time.Second, moves: 5}
	a := s.assigner(t, "gw-a")
	// The limiter gives a burst of 5 and refills 5 per second: the
	// first step claims exactly 5, the second at most 5 more.
	if err := a.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(a.Owned()); got != 5 {
		t.Errorf("after one step gw-a owns %d owners, want 5 (cap 5 per second)", got)
	}
	if err := a.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(a.Owned()); got < 5 || got > 10 {
		t.Errorf("after two steps gw-a owns %d owners, want 5 to 10 (cap 5 per second)", got)
	}
}

func TestAssignerPausedWorkerGivesUpAndIsFenced(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	all := []string{"alice@example.test"}
	// Each worker has its own ledger: the paused process still runs the
	// owner's sessions in its memory while the other one starts them
	// (fencing protects Redis, not the platform; see docs/cluster.md).
	stopped := map[string]bool{}
	var mu sync.Mutex
	setup := func() *assignerSetup {
		return &assignerSetup{client: c, owners: func() []string { return all }, ledger: newLedger(t), ttl: 400 * time.Millisecond, moves: 100,
			onStop: func(w, o string) { mu.Lock(); stopped[w+" "+o] = true; mu.Unlock() }}
	}
	paused := setup().assigner(t, "gw-a")
	if err := paused.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	old, ok := paused.Fence(all[0])
	if !ok {
		t.Fatalf("gw-a does not own %s after a step alone", all[0])
	}
	// gw-a is paused (no step): its lease and its worker entry expire, and
	// gw-b takes the owner.
	other := setup().assigner(t, "gw-b")
	testutil.Eventually(t, waitTimeout, "gw-b owns the paused worker's owner", func() bool {
		if err := other.Step(t.Context()); err != nil {
			t.Fatal(err)
		}
		_, ok := other.Grant(all[0])
		return ok
	})
	err := old.Run(t.Context(), c, appendScript, []string{"test:log:" + cluster.OwnerTag(all[0])}, "late").Err()
	if !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("write with the paused worker's token: %v, want ErrFenced", err)
	}
	// Woken up, gw-a gives the owner up (Stop) without touching the lease.
	if err := paused.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !stopped["gw-a "+all[0]] || len(paused.Owned()) != 0 {
		t.Errorf("woken gw-a: stopped %v, owns %v; want it stopped and owning nothing", stopped, paused.Owned())
	}
	if st := holders(t, c, all)[all[0]]; st.Holder != "gw-b" {
		t.Errorf("after gw-a woke up the lease is %q's, want gw-b's", st.Holder)
	}
}

func TestAssignerReleasesUnlinkedOwners(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	var mu sync.Mutex
	all := owners(4)
	s := &assignerSetup{client: c, ledger: newLedger(t), ttl: 30 * time.Second, moves: 100}
	s.owners = func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(all) }
	a := s.assigner(t, "gw-a")
	if err := a.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := a.Owned(); !slices.Equal(got, owners(4)) {
		t.Fatalf("owned %v, want %v", got, owners(4))
	}
	mu.Lock()
	all = all[:2]
	mu.Unlock()
	if err := a.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := a.Owned(); !slices.Equal(got, owners(2)) {
		t.Errorf("after two owners unlinked, owned %v, want %v", got, owners(2))
	}
	for _, o := range owners(4)[2:] {
		if st := holders(t, c, []string{o})[o]; st.Holder != "" {
			t.Errorf("unlinked owner %s still leased to %q", o, st.Holder)
		}
	}
	if n := len(s.ledger.snapshot()); n != 2 {
		t.Errorf("%d owners still running, want 2", n)
	}
}

// TestOwnersByWorkerMatchesItsPrefixOnly: a key prefix with glob
// characters counts its own owner leases, not another prefix's.
func TestOwnersByWorkerMatchesItsPrefixOnly(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	for i, p := range []string{"a*:", "ab:", "a?:"} {
		for j := range i + 1 {
			if _, err := cluster.NewOwnerLease(c, p, fmt.Sprintf("o%d@example.test", j)).Acquire(ctx, "w"+p, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := cluster.OwnersByWorker(ctx, c, "a*:")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["wa*:"] != 1 {
		t.Errorf("OwnersByWorker(a*:) = %v, want map[wa*::1]", got)
	}
}
