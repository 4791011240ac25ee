package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// failure is one FailureNotifier call.
type failure struct {
	owner   ids.Owner
	body    string
	xmppIDs []string
	tag     string
	err     error
}

// notifyingFrontend is a frontend that also hears about queued messages
// given up on.
type notifyingFrontend struct {
	*frontend
	failed chan failure
}

func (f *notifyingFrontend) SendFailed(_ context.Context, owner ids.Owner, _ ids.PlatformID, msg *event.Message, xmppIDs []string, tag string, err error) {
	f.failed <- failure{owner, msg.Body, xmppIDs, tag, err}
}

const (
	retryOwner = ids.Owner("alice@example.test")
	retryAcct  = ids.AccountID("+15557654321")
	echoChat   = ids.ChatID(sandbox.EchoBot)
)

func newRetryHub(t *testing.T, retry delivery.SendRetry) (*hub, *notifyingFrontend) {
	t.Helper()
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	h, fe := startRetryHub(t, openStore(t), p, retry)
	h.link(t, retryOwner, string(retryAcct))
	return h, fe
}

// startRetryHub starts a hub on st and p, as a process would: a second one
// on the same store and platform is the same gateway restarted.
func startRetryHub(t *testing.T, st store.Store, p *sandbox.Platform, retry delivery.SendRetry) (*hub, *notifyingFrontend) {
	t.Helper()
	gw, err := gateway.New(gateway.Options{
		Store:         st,
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		SendRetry:     retry,
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := &notifyingFrontend{frontend: newFrontend(), failed: make(chan failure, 16)}
	gw.SetFrontend(fe)
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	return &hub{gw: gw, fe: fe.frontend, platform: p, store: st}, fe
}

func (h *hub) send(t *testing.T, ctx context.Context, body, xmppID string) error {
	t.Helper()
	return h.sendTagged(t, ctx, "", body, xmppID)
}

// sendTagged sends with the frontend's tag for a failure report.
func (h *hub) sendTagged(t *testing.T, ctx context.Context, tag, body, xmppID string) error {
	t.Helper()
	_, err := h.gw.SendMessage(ctx, retryOwner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: body}, gateway.SendOptions{XMPPIDs: []string{xmppID}, Tag: tag})
	return err
}

// waitReceived waits until the echo bot has received want, in order.
func waitReceived(t *testing.T, p *sandbox.Platform, want ...string) {
	t.Helper()
	var got []string
	if !testutil.Poll(testutil.DefaultTimeout, func() bool {
		got = got[:0]
		for _, m := range p.Received(sandbox.EchoBot) {
			got = append(got, m.Body)
		}
		return strings.Join(got, "|") == strings.Join(want, "|")
	}) {
		t.Fatalf("echo bot received %q, want %q", got, want)
	}
}

func TestQueuedSendsGoOutAfterAnOutageInOrder(t *testing.T) {
	h, fe := newRetryHub(t, delivery.SendRetry{Deadline: time.Minute, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	ctx := t.Context()
	h.platform.SetOutage(retryAcct, true)
	for i, body := range []string{"one", "two"} {
		if err := h.send(t, ctx, body, "x"+body); !errors.Is(err, gateway.ErrQueued) {
			t.Fatalf("send %d during the outage: %v, want ErrQueued", i, err)
		}
	}
	h.platform.SetOutage(retryAcct, false)
	// A message sent now waits behind the queued ones.
	if err := h.send(t, ctx, "three", "xthree"); err != nil && !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("send after the outage: %v", err)
	}
	waitReceived(t, h.platform, "one", "two", "three")
	// The id mapping is recorded as for a direct send: the echo bot's
	// receipts name the XMPP ids.
	var got []string
	for _, ev := range h.fe.wait(t, retryOwner, 3, func(ev event.Event) bool {
		r, ok := ev.(*event.Receipt)
		return ok && r.Kind == event.Delivered && r.Chat == echoChat
	}) {
		got = append(got, describe(ev))
	}
	if want := "receipt delivered xone|receipt delivered xtwo|receipt delivered xthree"; strings.Join(got, "|") != want {
		t.Errorf("receipts = %q, want %s", got, want)
	}
	select {
	case f := <-fe.failed:
		t.Fatalf("unexpected failure %+v", f)
	default:
	}
}

func TestQueuedSendGivesUpAfterTheDeadline(t *testing.T) {
	h, fe := newRetryHub(t, delivery.SendRetry{Deadline: 100 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	h.platform.SetOutage(retryAcct, true)
	tag := "tag-1"
	if err := h.sendTagged(t, t.Context(), tag, "lost in the outage", "x1"); !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("send: %v, want ErrQueued", err)
	}
	if err := h.send(t, t.Context(), "behind it", "x2"); !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("second send: %v, want ErrQueued", err)
	}
	for _, want := range []failure{{retryOwner, "lost in the outage", []string{"x1"}, "tag-1", nil}, {retryOwner, "behind it", []string{"x2"}, "", nil}} {
		select {
		case f := <-fe.failed:
			if f.owner != want.owner || f.body != want.body || strings.Join(f.xmppIDs, ",") != strings.Join(want.xmppIDs, ",") || f.tag != want.tag {
				t.Errorf("failure = %+v, want %+v", f, want)
			}
			if !errors.Is(f.err, gateway.ErrUnavailable) {
				t.Errorf("failure error = %v, want ErrUnavailable", f.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no failure for %q", want.body)
		}
	}
	if got := h.platform.Received(sandbox.EchoBot); len(got) != 0 {
		t.Errorf("echo bot received %+v", got)
	}
	// The queue is empty again: after the outage, a send goes straight out.
	h.platform.SetOutage(retryAcct, false)
	if err := h.send(t, t.Context(), "after", "x3"); err != nil {
		t.Fatalf("send after the outage: %v", err)
	}
	waitReceived(t, h.platform, "after")
}

func TestQueueIsBounded(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{Deadline: time.Minute, MinBackoff: time.Minute, MaxPerOwner: 2})
	h.platform.SetOutage(retryAcct, true)
	for i := range 2 {
		if err := h.send(t, t.Context(), "m", fmt.Sprint("x", i)); !errors.Is(err, gateway.ErrQueued) {
			t.Fatalf("send %d: %v, want ErrQueued", i, err)
		}
	}
	err := h.send(t, t.Context(), "over", "x2")
	if errors.Is(err, gateway.ErrQueued) || !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("send over the bound: %v, want ErrUnavailable", err)
	}
}

func TestNoQueueWithoutADeadline(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{})
	h.platform.SetOutage(retryAcct, true)
	err := h.send(t, t.Context(), "m", "x")
	if errors.Is(err, gateway.ErrQueued) || !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("send: %v, want ErrUnavailable", err)
	}
}

func TestStopKeepsQueuedSendsForTheNextStart(t *testing.T) {
	h, fe := newRetryHub(t, delivery.SendRetry{Deadline: time.Minute, MinBackoff: time.Minute})
	h.platform.SetOutage(retryAcct, true)
	tag := "tag-1"
	for i, body := range []string{"first", "second", "third"} {
		if err := h.sendTagged(t, t.Context(), tag, body, fmt.Sprint("x", i)); !errors.Is(err, gateway.ErrQueued) {
			t.Fatalf("send %q: %v, want ErrQueued", body, err)
		}
	}
	if err := h.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-fe.failed:
		t.Fatalf("failure on stop: %+v", f)
	default:
	}
	if got := h.platform.Received(sandbox.EchoBot); len(got) != 0 {
		t.Fatalf("echo bot received %+v during the outage", got)
	}

	// The same gateway starts again; the platform is back.
	h.platform.SetOutage(retryAcct, false)
	h2, fe2 := startRetryHub(t, h.store, h.platform, delivery.SendRetry{Deadline: time.Minute, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	waitReceived(t, h.platform, "first", "second", "third")
	// Sent once each, and the outbox is empty.
	testutil.WaitFor(t, "the outbox to empty", func() bool { return len(outboxQueues(t, h.store)) == 0 })
	if err := h2.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	h3, _ := startRetryHub(t, h.store, h.platform, delivery.SendRetry{Deadline: time.Minute, MinBackoff: time.Millisecond})
	if err := h3.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitReceived(t, h.platform, "first", "second", "third")
	select {
	case f := <-fe2.failed:
		t.Fatalf("unexpected failure %+v", f)
	default:
	}
}

func TestRestoredSendPastItsDeadlineIsReported(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{Deadline: 200 * time.Millisecond, MinBackoff: time.Minute})
	h.platform.SetOutage(retryAcct, true)
	tag := `{"id":"x1"}`
	if err := h.sendTagged(t, t.Context(), tag, "too late", "x1"); !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("send: %v, want ErrQueued", err)
	}
	if err := h.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Restarted after the deadline, the platform still down: the user hears
	// about the message, with the tag the first process was given.
	h2, fe2 := startRetryHub(t, h.store, h.platform, delivery.SendRetry{Deadline: 200 * time.Millisecond, MinBackoff: time.Millisecond})
	select {
	case f := <-fe2.failed:
		if f.body != "too late" || f.tag != `{"id":"x1"}` || strings.Join(f.xmppIDs, ",") != "x1" || !errors.Is(f.err, gateway.ErrUnavailable) {
			t.Errorf("failure = %+v", f)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no failure for the restored message")
	}
	testutil.WaitFor(t, "the outbox to empty", func() bool { return len(outboxQueues(t, h2.store)) == 0 })
}

// outboxQueues lists the store's queues that hold queued outbound messages.
func outboxQueues(t *testing.T, st store.Store) []ids.Owner {
	t.Helper()
	owners, err := st.PendingOwners(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []ids.Owner
	for _, o := range owners {
		if strings.HasPrefix(string(o), "outbox:") {
			out = append(out, o)
		}
	}
	return out
}

func TestAdminTestMessageIsNotQueued(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{Deadline: time.Minute, MinBackoff: time.Minute})
	admin := gateway.NewAdmin(h.gw, gateway.AdminOptions{})
	h.platform.SetOutage(retryAcct, true)
	_, _, err := admin.SendTestMessage(t.Context(), retryOwner, sb, string(sandbox.EchoBot), "test")
	if errors.Is(err, gateway.ErrQueued) || !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("test message during an outage: %v, want ErrUnavailable at once", err)
	}
	if got := outboxQueues(t, h.store); len(got) != 0 {
		t.Errorf("the test message was queued: %v", got)
	}
	h.platform.SetOutage(retryAcct, false)
	if _, _, err := admin.SendTestMessage(t.Context(), retryOwner, sb, string(sandbox.EchoBot), "test"); err != nil {
		t.Fatalf("test message after the outage: %v", err)
	}
	waitReceived(t, h.platform, "test")
}
