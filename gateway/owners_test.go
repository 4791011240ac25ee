package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// shardStores are the stores two sharded hubs share in these tests: the
// sqlite file (two hubs in one process) and a real redis-server.
var shardStores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store { return openStore(t) }},
	{"redis", func(t *testing.T) store.Store {
		st := redisstore.New(redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)}), redisstore.Options{})
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// newShardHub starts a sharded hub on st and p: one worker of a cluster.
// Its frontend holds confirmations while hold is set.
func newShardHub(t *testing.T, st store.Store, p *sandbox.Platform, hold bool, retry delivery.SendRetry) (*hub, *confirmingFrontend) {
	t.Helper()
	gw, err := gateway.New(gateway.Options{
		Store:         st,
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		SendRetry:     retry,
		Sharded:       true,
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := &confirmingFrontend{frontend: newFrontend(), hold: hold}
	gw.SetFrontend(fe)
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	return &hub{gw: gw, fe: fe.frontend, platform: p, store: st}, fe
}

// startOwner starts owner on h, failing the test on error.
func (h *hub) startOwner(t *testing.T, owner ids.Owner) {
	t.Helper()
	if err := h.gw.StartOwner(t.Context(), owner); err != nil {
		t.Fatalf("StartOwner(%s): %v", owner, err)
	}
}

func fromUser(u ids.UserID) func(event.Event) bool {
	return func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Chat == ids.ChatID(u)
	}
}

// TestShardedHubsServeOnlyTheirOwners runs two sharded hubs on one store
// and one platform, alice's owner on A and bob's on B: each delivers and
// sends for its own owner only, refuses the other's with ErrNotOwned, and
// a replay of the journal on one leaves the other's events alone.
func TestShardedHubsServeOnlyTheirOwners(t *testing.T) {
	for _, tc := range shardStores {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
			t.Cleanup(p.Close)
			a, _ := newShardHub(t, st, p, true, delivery.SendRetry{})
			b, _ := newShardHub(t, st, p, false, delivery.SendRetry{})
			const (
				alice, alicePhone = ids.Owner("alice@example.test"), "+15557654321"
				bob, bobPhone     = ids.Owner("bob@example.test"), "+15557654322"
			)
			a.startOwner(t, alice)
			a.link(t, alice, alicePhone)
			b.startOwner(t, bob)
			b.link(t, bob, bobPhone)
			if !a.gw.Owns(alice) || a.gw.Owns(bob) || !b.gw.Owns(bob) || b.gw.Owns(alice) {
				t.Fatalf("owns: A alice %v bob %v, B alice %v bob %v", a.gw.Owns(alice), a.gw.Owns(bob), b.gw.Owns(alice), b.gw.Owns(bob))
			}

			for _, to := range []string{alicePhone, bobPhone} {
				if _, err := p.SendAs(t.Context(), sandbox.Alice, ids.AccountID(to), "hello "+to); err != nil {
					t.Fatal(err)
				}
			}
			a.fe.wait(t, alice, 1, fromUser(sandbox.Alice))
			b.fe.wait(t, bob, 1, fromUser(sandbox.Alice))
			// A holds alice's confirmation: her message stays journaled.
			waitPending(t, st, alice, 1)
			// B's replay pass leaves alice's journal to A.
			b.gw.ReplayJournal(t.Context())
			if n := b.fe.count(alice, func(event.Event) bool { return true }); n != 0 {
				t.Errorf("B delivered %d events of alice, whom it does not serve", n)
			}
			if n := a.fe.count(bob, func(event.Event) bool { return true }); n != 0 {
				t.Errorf("A delivered %d events of bob, whom it does not serve", n)
			}

			msg := func(body string) *event.Message {
				return &event.Message{Meta: event.Meta{Chat: echoChat}, Body: body}
			}
			if _, err := a.gw.SendMessage(t.Context(), bob, sb, msg("from A"), gateway.SendOptions{}); !errors.Is(err, gateway.ErrNotOwned) {
				t.Errorf("A sends for bob: %v, want ErrNotOwned", err)
			}
			if err := a.gw.StopOwner(t.Context(), bob); !errors.Is(err, gateway.ErrNotOwned) {
				t.Errorf("A stops bob: %v, want ErrNotOwned", err)
			}
			if err := a.gw.StartOwner(t.Context(), alice); err == nil {
				t.Error("A starts alice twice: no error")
			}
			if _, err := b.gw.SendMessage(t.Context(), bob, sb, msg("from B"), gateway.SendOptions{XMPPIDs: []string{"b1"}}); err != nil {
				t.Errorf("B sends for bob: %v", err)
			}
			waitReceived(t, p, "from B")
		})
	}
}

// TestOwnerMovesMidConversation moves alice's owner from A to B while A
// holds three delivered and unconfirmed messages and a message queued for
// the platform: StopOwner leaves A nothing running for her and
// acknowledges nothing, B replays the three with their original ids, once
// each, receives what the platform sent in between, and sends the queued
// message, once.
func TestOwnerMovesMidConversation(t *testing.T) {
	for _, tc := range shardStores {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
			t.Cleanup(p.Close)
			a, afe := newShardHub(t, st, p, true, delivery.SendRetry{Deadline: time.Minute, MinBackoff: time.Minute})
			b, _ := newShardHub(t, st, p, false, delivery.SendRetry{Deadline: time.Minute, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
			const owner, phone = retryOwner, retryAcct
			a.startOwner(t, owner)
			a.link(t, owner, string(phone))

			var want []ids.MessageID
			for i := range 3 {
				id, err := p.SendAs(t.Context(), sandbox.Alice, phone, fmt.Sprint("m", i))
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, id)
			}
			a.fe.wait(t, owner, 3, fromUser(sandbox.Alice))
			waitPending(t, st, owner, 3)
			p.SetOutage(phone, true)
			if _, err := a.gw.SendMessage(t.Context(), owner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: "queued on A"}, gateway.SendOptions{XMPPIDs: []string{"q1"}}); !errors.Is(err, gateway.ErrQueued) {
				t.Fatalf("send during the outage: %v, want ErrQueued", err)
			}
			if senders, inflight := a.gw.OwnerWork(owner); senders != 1 || inflight != 3 {
				t.Fatalf("A before StopOwner: %d senders, %d in flight; want 1, 3", senders, inflight)
			}

			if err := a.gw.StopOwner(t.Context(), owner); err != nil {
				t.Fatal(err)
			}
			if senders, inflight := a.gw.OwnerWork(owner); senders != 0 || inflight != 0 {
				t.Errorf("A after StopOwner: %d senders, %d in flight; want none", senders, inflight)
			}
			if n := a.gw.Loaded(owner); n != 0 {
				t.Errorf("A after StopOwner: %d sessions loaded, want none", n)
			}
			if _, err := a.gw.SendMessage(t.Context(), owner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: "late"}, gateway.SendOptions{}); !errors.Is(err, gateway.ErrNotOwned) {
				t.Errorf("A sends after StopOwner: %v, want ErrNotOwned", err)
			}
			// Nothing was acknowledged: the journal and the outbox still
			// hold what A had.
			waitPending(t, st, owner, 3)
			if got := outboxQueues(t, st); len(got) != 1 {
				t.Fatalf("outboxes after StopOwner: %v, want alice's", got)
			}
			aBefore := a.fe.count(owner, func(event.Event) bool { return true })
			// Between the two workers the platform keeps what it sends.
			id, err := p.SendAs(t.Context(), sandbox.Alice, phone, "m3")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, id)

			p.SetOutage(phone, false)
			b.startOwner(t, owner)
			got := b.fe.wait(t, owner, 4, fromUser(sandbox.Alice))
			for i, ev := range got {
				if id := ev.(*event.Message).ID; id != want[i] {
					t.Errorf("B's message %d has id %q, want %q (the original)", i, id, want[i])
				}
			}
			waitReceived(t, p, "queued on A")
			b.fe.wait(t, owner, 1, func(ev event.Event) bool {
				m, ok := ev.(*event.Message)
				return ok && m.Body == "echo: queued on A"
			})
			testutil.WaitFor(t, "the journal and the outbox to empty", func() bool {
				items, err := st.Pending(t.Context(), owner, 0)
				return err == nil && len(items) == 0 && len(outboxQueues(t, st)) == 0
			})
			// A's late confirmations change nothing.
			afe.mu.Lock()
			late := afe.pending
			afe.pending = nil
			afe.mu.Unlock()
			for _, done := range late {
				done()
			}
			if n := b.fe.count(owner, fromUser(sandbox.Alice)); n != 4 {
				t.Errorf("B delivered %d messages of the contact, want 4 (once each)", n)
			}
			if n := a.fe.count(owner, func(event.Event) bool { return true }); n != aBefore {
				t.Errorf("A delivered %d events for alice after StopOwner", n-aBefore)
			}
			if n := strings.Count(strings.Join(receivedBodies(p), "|"), "queued on A"); n != 1 {
				t.Errorf("the echo bot received the queued message %d times, want once", n)
			}
		})
	}
}

// TestStartOwnerNeedsSharded checks that an unsharded hub refuses
// StartOwner and still serves every owner.
func TestStartOwnerNeedsSharded(t *testing.T) {
	h := newHub(t, openStore(t), true)
	if err := h.gw.StartOwner(t.Context(), "alice@example.test"); err == nil {
		t.Error("StartOwner on an unsharded hub: no error")
	}
	if !h.gw.Owns("anyone@example.test") {
		t.Error("an unsharded hub does not serve every owner")
	}
}

// TestLinkForAnOwnerServedElsewhere links an account through a sharded
// hub that does not serve its owner (as a front's local worker would for a
// new user): the account is recorded but no session is loaded there; the
// owner's session connects on the hub that starts the owner.
func TestLinkForAnOwnerServedElsewhere(t *testing.T) {
	st := openStore(t)
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	a, _ := newShardHub(t, st, p, false, delivery.SendRetry{})
	b, _ := newShardHub(t, st, p, false, delivery.SendRetry{})
	const owner, phone = retryOwner, retryAcct
	ctx := t.Context()
	run, step, err := a.gw.StartLogin(ctx, owner, sb, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Submit(ctx, map[string]string{step.Fields[0].ID: string(phone)}); err != nil {
		t.Fatal(err)
	}
	if step, err := run.Wait(ctx); err != nil || step.Kind != gateway.StepDone {
		t.Fatalf("login: %+v, %v; want done", step, err)
	}
	if acct, err := st.AccountByOwner(ctx, owner, sb); err != nil || acct.ID != phone {
		t.Fatalf("account after the login: %+v, %v; want %s", acct, err, phone)
	}
	send := func(h *hub) error {
		_, err := h.gw.SendMessage(ctx, owner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: "hi"}, gateway.SendOptions{XMPPIDs: []string{"x1"}})
		return err
	}
	if n := a.gw.Loaded(owner); n != 0 {
		t.Errorf("the hub that linked it loaded %d sessions of an owner it does not serve", n)
	}
	if err := send(a); !errors.Is(err, gateway.ErrNotOwned) {
		t.Errorf("send through the hub that linked it: %v, want ErrNotOwned", err)
	}
	b.startOwner(t, owner)
	if n := b.gw.Loaded(owner); n != 1 {
		t.Errorf("the hub serving the owner loaded %d sessions, want 1", n)
	}
	b.fe.wait(t, owner, 1, func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateConnected
	})
	if err := send(b); err != nil {
		t.Errorf("send through the hub serving the owner: %v", err)
	}
	waitReceived(t, p, "hi")
}

// hostKeeper is an adapter that keeps the Host the hub gave it.
type hostKeeper struct {
	gateway.Adapter
	host gateway.Host
}

func (k *hostKeeper) Init(h gateway.Host, cfg map[string]any) error {
	k.host = h
	return k.Adapter.Init(h, cfg)
}

// TestEmitForAnOwnerNotServedIsRefused checks that a sharded hub refuses
// an event of an owner it stopped serving with ErrNotOwned, journaling
// nothing, so that the adapter leaves it to the platform for the owner's
// next worker.
func TestEmitForAnOwnerNotServedIsRefused(t *testing.T) {
	st := openStore(t)
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	keeper := &hostKeeper{Adapter: sandbox.New(p)}
	gw, err := gateway.New(gateway.Options{
		Store:         st,
		Adapters:      []gateway.Adapter{keeper},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		Sharded:       true,
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := &confirmingFrontend{frontend: newFrontend(), hold: true}
	gw.SetFrontend(fe)
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	h := &hub{gw: gw, fe: fe.frontend, platform: p, store: st}
	const owner, phone = retryOwner, retryAcct
	h.startOwner(t, owner)
	h.link(t, owner, string(phone))
	emit := func(id ids.MessageID) error {
		return keeper.host.Emit(t.Context(), &event.Message{Meta: event.Meta{Account: phone, Chat: ids.ChatID(sandbox.Alice), ID: id}, Body: string(id)})
	}
	if err := emit("served"); err != nil {
		t.Fatalf("Emit while served: %v", err)
	}
	waitPending(t, st, owner, 1)
	if err := gw.StopOwner(t.Context(), owner); err != nil {
		t.Fatal(err)
	}
	if err := emit("not served"); !errors.Is(err, gateway.ErrNotOwned) {
		t.Errorf("Emit after StopOwner: %v, want ErrNotOwned", err)
	}
	waitPending(t, st, owner, 1)
	if n := fe.count(owner, fromUser(sandbox.Alice)); n != 1 {
		t.Errorf("%d messages delivered, want 1 (the one emitted while served)", n)
	}
}

// gatedAdapter is an adapter whose LoadSession waits, once armed, until
// the test lets it go on.
type gatedAdapter struct {
	gateway.Adapter
	entered chan struct{} // receives when a gated LoadSession began
	release chan struct{} // closed to let it go on
	armed   atomic.Bool
}

func (a *gatedAdapter) LoadSession(ctx context.Context, acct ids.AccountID) (gateway.Session, error) {
	if a.armed.CompareAndSwap(true, false) {
		a.entered <- struct{}{}
		<-a.release
	}
	return a.Adapter.LoadSession(ctx, acct)
}

// TestStopOwnerDuringStartOwner stops an owner while StartOwner is
// loading its session: StopOwner waits for it, StartOwner fails with
// ErrNotOwned, and the hub is left with no session of the owner, which
// then starts again cleanly.
func TestStopOwnerDuringStartOwner(t *testing.T) {
	st := openStore(t)
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	gated := &gatedAdapter{Adapter: sandbox.New(p), entered: make(chan struct{}), release: make(chan struct{})}
	gw, err := gateway.New(gateway.Options{
		Store:         st,
		Adapters:      []gateway.Adapter{gated},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		Sharded:       true,
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := newFrontend()
	gw.SetFrontend(fe)
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	h := &hub{gw: gw, fe: fe, platform: p, store: st}
	const owner, phone = retryOwner, retryAcct
	h.startOwner(t, owner)
	h.link(t, owner, string(phone))
	if err := gw.StopOwner(t.Context(), owner); err != nil {
		t.Fatal(err)
	}

	gated.armed.Store(true)
	started := make(chan error, 1)
	go func() { started <- gw.StartOwner(t.Context(), owner) }()
	<-gated.entered // StartOwner is loading the session
	stopped := make(chan error, 1)
	go func() { stopped <- gw.StopOwner(t.Context(), owner) }()
	testutil.WaitFor(t, "StopOwner to begin", func() bool { return !gw.Owns(owner) })
	close(gated.release)
	if err := <-started; !errors.Is(err, gateway.ErrNotOwned) {
		t.Errorf("StartOwner stopped midway: %v, want ErrNotOwned", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("StopOwner: %v", err)
	}
	if n := gw.Loaded(owner); n != 0 {
		t.Errorf("%d sessions of the stopped owner loaded, want none", n)
	}
	h.startOwner(t, owner)
	if n := gw.Loaded(owner); n != 1 {
		t.Errorf("%d sessions loaded after starting again, want 1", n)
	}
}
