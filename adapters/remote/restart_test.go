package remote_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestChildKilledMidConversation: the adapter child is killed between
// messages; the host launches it again, loads and connects the session
// again and tells the hub of the outage; every message sent before and
// after the kill gets its echo (counts both ways).
func TestChildKilledMidConversation(t *testing.T) {
	testChildRecovers(t, syscall.SIGKILL)
}

// TestHungChildIsRestarted: a child that stops answering (SIGSTOP) fails
// the health checks and is replaced; the conversation goes on.
func TestHungChildIsRestarted(t *testing.T) {
	testChildRecovers(t, syscall.SIGSTOP)
}

func testChildRecovers(t *testing.T, sig syscall.Signal) {
	a := launchChild(t)
	a.SetHealthInterval(100 * time.Millisecond)
	h := gatewaytest.NewHost(t)
	h.Timeout = 20 * time.Second
	if err := a.Init(h, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	acct := gatewaytest.Link(t, a, h, gatewaytest.Conformance{
		Answer: func(*testing.T, gateway.LoginStep) map[string]string {
			return map[string]string{sandbox.FieldPhone: "+15550009999"}
		},
	})
	sess, err := a.LoadSession(t.Context(), acct)
	if err != nil {
		t.Fatal(err)
	}
	sess.Connect(t.Context())
	h.WaitState(t, acct, event.StateConnected)

	echoes := func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Sender == sandbox.EchoBot && m.Account == acct
	}
	sent := 0
	send := func(n int) {
		t.Helper()
		for range n {
			sent++
			_, err := sess.SendMessage(t.Context(), &event.Message{
				Meta: event.Meta{Account: acct, Chat: ids.DirectChat(sandbox.EchoBot), Sender: ids.UserID(acct), FromMe: true, Time: time.Now()},
				Body: "ping " + strings.Repeat("x", sent),
			})
			if err != nil {
				t.Fatalf("SendMessage %d: %v", sent, err)
			}
		}
		h.WaitEvents(t, sent, echoes)
	}
	send(5)

	pid := a.ChildPID()
	if pid == 0 {
		t.Fatal("no child pid")
	}
	before := len(h.StateChanges())
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	}
	testutil.WaitFor(t, "the child launched again and the session connected", func() bool {
		if a.Restarts() < 1 || a.ChildPID() == pid {
			return false
		}
		changes := h.StateChanges()[before:]
		return len(changes) > 0 && changes[len(changes)-1].State == event.StateConnected
	})
	told := false
	for _, c := range h.StateChanges()[before:] {
		if c.Account == acct && c.State == event.StateDisconnected && strings.Contains(c.Detail, "adapter") {
			told = true
		}
	}
	if !told {
		t.Errorf("the outage was not reported: %+v", h.StateChanges()[before:])
	}

	send(5)
	if got := len(h.EventsFor(echoes)); got != sent {
		t.Errorf("%d echoes for %d messages", got, sent)
	}
}
