package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// confirmingFrontend is a frontend that confirms deliveries at once, or
// holds the confirmations while hold is set.
type confirmingFrontend struct {
	*frontend
	mu      sync.Mutex
	hold    bool
	pending []func()
}

// Deliver records d and confirms it, at once or when released.
func (f *confirmingFrontend) Deliver(_ context.Context, d gateway.Delivery) error {
	f.record(d)
	if d.Done == nil {
		return nil
	}
	f.mu.Lock()
	hold := f.hold
	if hold {
		f.pending = append(f.pending, d.Done)
	}
	f.mu.Unlock()
	if !hold {
		d.Done()
	}
	return nil
}

// newJournalHub is newHub with a confirming frontend (and an observer, if
// given).
func newJournalHub(t testing.TB, st store.Store, hold bool, obs ...gateway.Observer) (*hub, *confirmingFrontend) {
	t.Helper()
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	opts := gateway.Options{
		Store:         st,
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		RegistrationAllowed: func(o ids.Owner) bool {
			return strings.HasSuffix(string(o), "@example.test")
		},
	}
	if len(obs) > 0 {
		opts.Observer = obs[0]
	}
	gw, err := gateway.New(opts)
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

// waitPending waits until owner's journal holds n items.
func waitPending(t *testing.T, st store.Store, owner ids.Owner, n int) []store.QueueItem {
	t.Helper()
	var items []store.QueueItem
	if !testutil.Poll(testutil.DefaultTimeout, func() bool {
		var err error
		if items, err = st.Pending(t.Context(), owner, 0); err != nil {
			t.Fatalf("Pending: %v", err)
		}
		return len(items) == n
	}) {
		t.Fatalf("journal of %s holds %d items, want %d", owner, len(items), n)
	}
	return items
}

func isEchoMessage(ev event.Event) bool {
	m, ok := ev.(*event.Message)
	return ok && strings.HasPrefix(m.Body, "echo: ")
}

// TestJournalRemovesConfirmedEvents checks that journaled events leave the
// store once the frontend confirms them.
func TestJournalRemovesConfirmedEvents(t *testing.T) {
	st := openStore(t)
	h, _ := newJournalHub(t, st, false)
	const owner = ids.Owner("alice@example.test")
	h.link(t, owner, "+15557654321")
	const n = 5
	for i := range n {
		if _, err := h.gw.SendMessage(t.Context(), owner, sb, &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: fmt.Sprint(i)}, gateway.SendOptions{XMPPIDs: []string{fmt.Sprintf("x%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	h.fe.wait(t, owner, n, isEchoMessage)
	waitPending(t, st, owner, 0)
}

// TestJournalReplaysAfterRestart checks that events delivered but never
// confirmed (the process died) are delivered again, in order, by the next
// process on the same store, and then removed.
func TestJournalReplaysAfterRestart(t *testing.T) {
	st := openStore(t)
	const owner = ids.Owner("alice@example.test")
	first, _ := newJournalHub(t, st, true)
	first.link(t, owner, "+15557654321")
	const n = 5
	var want []string
	for i := range n {
		if _, err := first.gw.SendMessage(t.Context(), owner, sb, &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: fmt.Sprint(i)}, gateway.SendOptions{XMPPIDs: []string{fmt.Sprintf("x%d", i)}}); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("echo: %d", i))
	}
	first.fe.wait(t, owner, n, isEchoMessage)
	// Each echo, and the delivery receipt the Echo Bot sends before it.
	items := waitPending(t, st, owner, 2*n)
	if err := first.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	second, fe := newJournalHub(t, st, false)
	got := second.fe.wait(t, owner, n, isEchoMessage)
	for i, ev := range got {
		m := ev.(*event.Message)
		if m.Body != want[i] {
			t.Errorf("replayed message %d = %q, want %q", i, m.Body, want[i])
		}
	}
	waitPending(t, st, owner, 0)
	fe.mu.Lock()
	held := len(fe.pending)
	fe.mu.Unlock()
	if held != 0 || len(items) != 2*n {
		t.Errorf("held %d confirmations, journal had %d items", held, len(items))
	}
}

// TestTrackActivityKeepsConfirmation checks that the admin's activity
// tracker passes the confirmation on: the journal still hears of it.
func TestTrackActivityKeepsConfirmation(t *testing.T) {
	h := newHub(t, openStore(t), true)
	admin := gateway.NewAdmin(h.gw, gateway.AdminOptions{})
	f := admin.TrackActivity(&confirmingFrontend{frontend: newFrontend()})
	called := false
	d := gateway.Delivery{Owner: "alice@example.test", Platform: sb, Event: &event.Message{}, Done: func() { called = true }}
	if err := f.Deliver(t.Context(), d); err != nil || !called {
		t.Errorf("Deliver through the tracker: %v, confirmed %v", err, called)
	}
}

// TestJournalReplaysMoreThanOnePage checks that a journal longer than one
// replay pass (store.DefaultPendingLimit) is replayed to the end, in order.
func TestJournalReplaysMoreThanOnePage(t *testing.T) {
	st := openStore(t)
	const owner = ids.Owner("alice@example.test")
	n := store.DefaultPendingLimit + 50
	for i := range n {
		item := fmt.Sprintf(`{"v":1,"p":"sandbox","t":"message","e":{"Chat":"c","Body":"%d"}}`, i)
		if _, err := st.Enqueue(t.Context(), owner, []byte(item)); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := newJournalHub(t, st, false)
	got := h.fe.wait(t, owner, n, func(ev event.Event) bool { _, ok := ev.(*event.Message); return ok })
	for i, ev := range got {
		if body := ev.(*event.Message).Body; body != fmt.Sprint(i) {
			t.Fatalf("replayed message %d has body %q", i, body)
		}
	}
	waitPending(t, st, owner, 0)
}
