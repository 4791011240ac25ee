package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// failure is one FailureNotifier call.
type failure struct {
	owner   ids.Owner
	body    string
	xmppIDs []string
	tag     any
	err     error
}

// notifyingFrontend is a frontend that also hears about queued messages
// given up on.
type notifyingFrontend struct {
	*frontend
	failed chan failure
}

func (f *notifyingFrontend) SendFailed(_ context.Context, owner ids.Owner, _ ids.PlatformID, msg *event.Message, xmppIDs []string, tag any, err error) {
	f.failed <- failure{owner, msg.Body, xmppIDs, tag, err}
}

const (
	retryOwner = ids.Owner("alice@example.test")
	retryAcct  = ids.AccountID("+15557654321")
	echoChat   = ids.ChatID(sandbox.EchoBot)
)

func newRetryHub(t *testing.T, retry gateway.SendRetry) (*hub, *notifyingFrontend) {
	t.Helper()
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	gw, err := gateway.New(gateway.Options{
		Store:         openStore(t),
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
	h := &hub{gw: gw, fe: fe.frontend, platform: p}
	h.link(t, retryOwner, string(retryAcct))
	return h, fe
}

func (h *hub) send(t *testing.T, ctx context.Context, body, xmppID string) error {
	t.Helper()
	_, err := h.gw.SendMessage(ctx, retryOwner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: body}, xmppID)
	return err
}

// waitReceived waits until the echo bot has received want, in order.
func waitReceived(t *testing.T, p *sandbox.Platform, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var got []string
		for _, m := range p.Received(sandbox.EchoBot) {
			got = append(got, m.Body)
		}
		if strings.Join(got, "|") == strings.Join(want, "|") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo bot received %q, want %q", got, want)
		}
		<-tick.C
	}
}

func TestQueuedSendsGoOutAfterAnOutageInOrder(t *testing.T) {
	h, fe := newRetryHub(t, gateway.SendRetry{Deadline: time.Minute, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
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
	h, fe := newRetryHub(t, gateway.SendRetry{Deadline: 100 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	h.platform.SetOutage(retryAcct, true)
	ctx := gateway.WithSendTag(t.Context(), "tag-1")
	if err := h.send(t, ctx, "lost in the outage", "x1"); !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("send: %v, want ErrQueued", err)
	}
	if err := h.send(t, t.Context(), "behind it", "x2"); !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("second send: %v, want ErrQueued", err)
	}
	for _, want := range []failure{{retryOwner, "lost in the outage", []string{"x1"}, "tag-1", nil}, {retryOwner, "behind it", []string{"x2"}, nil, nil}} {
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
	h, _ := newRetryHub(t, gateway.SendRetry{Deadline: time.Minute, MinBackoff: time.Minute, MaxPerOwner: 2})
	h.platform.SetOutage(retryAcct, true)
	for i := range 2 {
		if err := h.send(t, t.Context(), "m", "x"); !errors.Is(err, gateway.ErrQueued) {
			t.Fatalf("send %d: %v, want ErrQueued", i, err)
		}
	}
	err := h.send(t, t.Context(), "over", "x")
	if errors.Is(err, gateway.ErrQueued) || !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("send over the bound: %v, want ErrUnavailable", err)
	}
}

func TestNoQueueWithoutADeadline(t *testing.T) {
	h, _ := newRetryHub(t, gateway.SendRetry{})
	h.platform.SetOutage(retryAcct, true)
	err := h.send(t, t.Context(), "m", "x")
	if errors.Is(err, gateway.ErrQueued) || !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("send: %v, want ErrUnavailable", err)
	}
}

func TestStopDropsQueuedSends(t *testing.T) {
	h, fe := newRetryHub(t, gateway.SendRetry{Deadline: time.Minute, MinBackoff: time.Minute})
	h.platform.SetOutage(retryAcct, true)
	if err := h.send(t, t.Context(), "m", "x"); !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("send: %v, want ErrQueued", err)
	}
	if err := h.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-fe.failed:
		t.Fatalf("failure on stop: %+v", f)
	default:
	}
}
