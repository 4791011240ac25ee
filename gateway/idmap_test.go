package gateway_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// sendIDs sends body to the echo bot with the given stanza id and
// origin-id, and returns the platform's id.
func (h *hub) sendIDs(t *testing.T, body, id, origin string) ids.MessageID {
	t.Helper()
	pid, err := h.gw.SendMessage(t.Context(), retryOwner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: body}, gateway.SendOptions{XMPPIDs: []string{id, origin}})
	if err != nil {
		t.Fatalf("send %q (%s/%s): %v", body, id, origin, err)
	}
	return pid
}

func receivedBodies(p *sandbox.Platform) []string {
	var got []string
	for _, m := range p.Received(sandbox.EchoBot) {
		got = append(got, m.Body)
	}
	return got
}

func TestDuplicateMessagesAreSentOnce(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{})
	first := h.sendIDs(t, "hello", "s1", "o1")
	waitReceived(t, h.platform, "hello")

	for _, tc := range []struct {
		name, body, id, origin string
		dup                    bool
	}{
		{"same stanza and origin id", "hello", "s1", "o1", true},
		{"a new stanza id, the same origin-id", "hello", "s2", "o1", true},
		{"the same stanza id, no origin-id", "hello", "s1", "", true},
		{"a reused stanza id with other content", "bye", "s1", "", false},
		{"new ids, the same content", "hello", "s3", "o3", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.platform.Received(sandbox.EchoBot))
			pid := h.sendIDs(t, tc.body, tc.id, tc.origin)
			if tc.dup {
				if pid != first {
					t.Errorf("a copy got platform id %q, want the original's %q", pid, first)
				}
				// A later distinct message proves the copy would have
				// arrived by now.
				h.sendIDs(t, "marker "+tc.name, "m-"+tc.name, "")
				testutil.WaitFor(t, "the marker", func() bool { return len(h.platform.Received(sandbox.EchoBot)) == before+1 })
				if got := receivedBodies(h.platform); got[before] != "marker "+tc.name {
					t.Errorf("after a copy the platform received %q, want only the marker", got[before:])
				}
				return
			}
			if pid == first {
				t.Errorf("a new message got the original's platform id %q", pid)
			}
			testutil.WaitFor(t, "the new message", func() bool { return len(h.platform.Received(sandbox.EchoBot)) == before+1 })
		})
	}
}

func TestDuplicateAfterARestartIsSentOnce(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{})
	first := h.sendIDs(t, "before the restart", "s1", "o1")
	waitReceived(t, h.platform, "before the restart")
	if err := h.gw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A new process knows nothing in memory; the origin-id recorded in the
	// store still names the message. A bare stanza id (no origin-id) is
	// not trusted across a restart: some clients reuse them.
	h2, _ := startRetryHub(t, h.store, h.platform, delivery.SendRetry{})
	// Loaded is not connected: sessions connect after Start returned.
	h2.fe.wait(t, retryOwner, 1, func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateConnected
	})
	pid, err := h2.gw.SendMessage(t.Context(), retryOwner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: "before the restart"}, gateway.SendOptions{XMPPIDs: []string{"s9", "o1"}})
	if err != nil {
		t.Fatal(err)
	}
	if pid != first {
		t.Errorf("the copy got platform id %q, want %q", pid, first)
	}
	if _, err := h2.gw.SendMessage(t.Context(), retryOwner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: "after"}, gateway.SendOptions{XMPPIDs: []string{"s1"}}); err != nil {
		t.Fatal(err)
	}
	waitReceived(t, h.platform, "before the restart", "after")
}

func TestMessageIDsReachTheStoreByStop(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{})
	var pids []ids.MessageID
	for i := range 50 {
		pids = append(pids, h.sendIDs(t, "m", "s"+string(rune('A'+i)), ""))
	}
	if err := h.gw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, pid := range pids {
		x := "s" + string(rune('A'+i))
		got, err := h.store.PlatformMessageID(ctx, retryOwner, delivery.ChatKey(sb, echoChat), x)
		if err != nil || got != pid {
			t.Fatalf("store maps %s to %q (%v), want %q", x, got, err, pid)
		}
		back, err := h.store.XMPPMessageID(ctx, retryOwner, delivery.ChatKey(sb, echoChat), pid)
		if err != nil || back != x {
			t.Fatalf("store maps %s back to %q (%v), want %q", pid, back, err, x)
		}
	}
}

func TestPlatformCopyOfADeliveredMessageIsDropped(t *testing.T) {
	h, _ := newRetryHub(t, delivery.SendRetry{})
	ctx := t.Context()
	isMsg := func(body string) func(event.Event) bool {
		return func(ev event.Event) bool {
			m, ok := ev.(*event.Message)
			return ok && m.Body == body
		}
	}
	id, err := h.platform.SendAs(ctx, sandbox.Alice, retryAcct, "only once")
	if err != nil {
		t.Fatal(err)
	}
	h.fe.wait(t, retryOwner, 1, isMsg("only once"))
	// The platform offers it again, as after a lost acknowledgement, then
	// sends a new message: once that one is delivered, so would the copy be.
	if err := h.platform.Redeliver(retryAcct, id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.platform.SendAs(ctx, sandbox.Alice, retryAcct, "next"); err != nil {
		t.Fatal(err)
	}
	h.fe.wait(t, retryOwner, 1, isMsg("next"))
	if got := h.fe.count(retryOwner, isMsg("only once")); got != 1 {
		t.Errorf("the message was delivered %d times", got)
	}
	if err := h.platform.Redeliver(retryAcct, "no-such-id"); !errors.Is(err, gateway.ErrTargetNotFound) {
		t.Errorf("Redeliver of an unknown id: %v", err)
	}
}
