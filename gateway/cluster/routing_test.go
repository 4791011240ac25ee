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

// routedWorker is a worker as sharding runs it, without XMPP: its
// Assigner claims owners; on a claim it rings its own bell, so that it
// reads what the owner's inbox holds (left by a dead worker first); the
// front rings it for each new entry; it handles each entry (records it)
// and acknowledges it fenced by the owner's lease.
type routedWorker struct {
	id   string
	c    redis.UniversalClient
	bell *cluster.Bell
	log  *routeLog
	a    *cluster.Assigner

	mu      sync.Mutex
	readers map[string]*cluster.Reader
	// noAck makes the worker handle entries without acknowledging them,
	// as a process that dies between the two does.
	noAck bool
}

func (w *routedWorker) start(ctx context.Context, owner string, _ cluster.Grant) error {
	w.mu.Lock()
	w.readers[owner] = cluster.NewOwnerInbox(w.c, prefix, owner).Reader(w.id)
	w.mu.Unlock()
	return w.bell.Ring(ctx, w.id, owner)
}

func (w *routedWorker) stop(_ context.Context, owner string) {
	w.mu.Lock()
	delete(w.readers, owner)
	w.mu.Unlock()
}

func (w *routedWorker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		owners, err := w.bell.Wait(ctx, w.id, 100, time.Second)
		if err != nil {
			continue
		}
		for _, o := range owners {
			w.drain(ctx, o)
		}
	}
}

func (w *routedWorker) drain(ctx context.Context, owner string) {
	w.mu.Lock()
	r := w.readers[owner]
	w.mu.Unlock()
	f, ok := w.a.Fence(owner)
	if r == nil || !ok {
		return
	}
	q := cluster.NewOwnerInbox(w.c, prefix, owner)
	for ctx.Err() == nil {
		es, err := r.Read(ctx, 20, 0)
		if err != nil || len(es) == 0 {
			return
		}
		ids := make([]string, len(es))
		for i, e := range es {
			w.log.add(owner, handled{worker: w.id, id: e.ID, data: string(e.Data)})
			ids[i] = e.ID
		}
		w.mu.Lock()
		noAck := w.noAck
		w.mu.Unlock()
		if noAck {
			continue
		}
		if err := q.Ack(ctx, &f, ids...); err != nil {
			return // fenced: the owner moved on
		}
	}
}

// front posts to owners' inboxes and rings their workers.
func frontPost(ctx context.Context, c redis.UniversalClient, bell *cluster.Bell, owner, data string) error {
	if _, err := cluster.NewOwnerInbox(c, prefix, owner).Post(ctx, []byte(data)); err != nil {
		return err
	}
	st, err := cluster.NewOwnerLease(c, prefix, owner).State(ctx)
	if err != nil || st.Holder == "" {
		return err // no holder: the next one reads the inbox when it claims
	}
	return bell.Ring(ctx, st.Holder, owner)
}

// TestRoutingThroughRedisAcrossAWorkerCrash: three workers share 300
// owners; a front posts 10 messages per owner (3000) to the owners'
// inboxes; after the first half the worker gw-b handles one more message
// per owner without acknowledging it, and is killed (no drain). The front
// keeps posting while its owners move. In the end every message was
// handled, each owner's messages in the order posted (counting each
// entry's first handling), exactly one copy per owner of gw-b (the entry
// it had not acknowledged, read again by the next owner first), and every
// owner owned exactly once.
func TestRoutingThroughRedisAcrossAWorkerCrash(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	all := owners(300)
	const perOwner = 10
	bell := cluster.NewBell(c, prefix)
	log := &routeLog{by: map[string][]handled{}}
	type running struct {
		w      *routedWorker
		cancel context.CancelFunc
		done   sync.WaitGroup
	}
	start := func(id string) *running {
		w := &routedWorker{id: id, c: c, bell: bell, log: log, readers: map[string]*cluster.Reader{}}
		a, err := cluster.NewAssigner(cluster.AssignerOptions{
			Client: c, Prefix: prefix, Instance: cluster.Instance{ID: id},
			TTL: 1500 * time.Millisecond, RenewEvery: 150 * time.Millisecond, MaxMovesPerSecond: 10000,
			Owners: func(context.Context) ([]string, error) { return all, nil },
			Start:  w.start, Stop: w.stop,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.a = a
		rctx, cancel := context.WithCancel(ctx)
		r := &running{w: w, cancel: cancel}
		r.done.Go(func() { _ = a.Run(rctx) })
		r.done.Go(func() { w.loop(rctx) })
		t.Cleanup(func() { cancel(); r.done.Wait() })
		return r
	}
	ws := []*running{start("gw-a"), start("gw-b"), start("gw-c")}
	testutil.Eventually(t, waitTimeout, "300 owners claimed", func() bool {
		n := 0
		for _, r := range ws {
			n += len(r.w.a.Owned())
		}
		return n == len(all)
	})
	post := func(from, to int) {
		for i := from; i <= to; i++ {
			for _, o := range all {
				if err := frontPost(ctx, c, bell, o, fmt.Sprintf("%s#%02d", o, i)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	post(1, perOwner/2)
	testutil.Eventually(t, waitTimeout, "the first half handled", func() bool { return log.distinct() == len(all)*perOwner/2 })

	// gw-b handles the next message of its owners and dies before it
	// acknowledges it; the front goes on posting meanwhile.
	dead := ws[1]
	deadOwned := dead.w.a.Owned()
	dead.w.mu.Lock()
	dead.w.noAck = true
	dead.w.mu.Unlock()
	post(perOwner/2+1, perOwner/2+1)
	testutil.Eventually(t, waitTimeout, "the next message handled everywhere", func() bool { return log.distinct() == len(all)*(perOwner/2+1) })
	dead.cancel()
	dead.done.Wait()
	post(perOwner/2+2, perOwner)
	testutil.Eventually(t, 2*waitTimeout, "every message handled", func() bool { return log.distinct() == len(all)*perOwner })

	live := []*routedWorker{ws[0].w, ws[2].w}
	for _, o := range all {
		var got []string
		seen := map[string]string{}
		copies := 0
		for _, h := range log.by[o] {
			if first, dup := seen[h.id]; dup {
				copies++
				if first != dead.w.id {
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
	}
	for _, o := range all {
		n := 0
		for _, w := range live {
			if _, ok := w.a.Grant(o); ok {
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
	copies := 0
	for _, o := range deadOwned {
		n := len(log.by[o])
		copies += n - perOwner
	}
	// Each of gw-b's owners had exactly one entry handled and not
	// acknowledged: the next owner handled it again.
	if copies != len(deadOwned) {
		t.Errorf("%d copies over gw-b's %d owners, want one each (the entry it handled without acknowledging)", copies, len(deadOwned))
	}
	t.Logf("gw-b owned %d owners when killed; %d copies", len(deadOwned), copies)
	if errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal("test context ended early")
	}
}
