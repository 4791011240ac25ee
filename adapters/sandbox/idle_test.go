package sandbox_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestIdleSessionsHoldNoGoroutine checks that connected sessions with
// nothing to emit hold no goroutine, and that they emit what comes next,
// in order, and still stop and reconnect.
func TestIdleSessionsHoldNoGoroutine(t *testing.T) {
	const accounts = 20
	e := newEnv(t, nil, sandbox.Options{})
	var (
		accts    []ids.AccountID
		sessions []*sandbox.Session
	)
	for i := range accounts {
		accts = append(accts, e.link(t, fmt.Sprintf("+49151000020%02d", i)))
	}
	base := runtime.NumGoroutine()
	for _, acct := range accts {
		sessions = append(sessions, e.connect(t, acct))
	}
	// Each prelude ends with Bob's presence.
	for _, acct := range accts {
		e.h.WaitEvent(t, of[*event.Presence](acct, sandbox.Bob))
	}
	waitGoroutines(t, base)

	// Woken by new events: each account gets them, in order.
	for n := range 3 {
		for _, acct := range accts {
			if _, err := e.p.SendAs(ctx(t), sandbox.Alice, acct, fmt.Sprintf("m%d", n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, acct := range accts {
		got := e.h.WaitEvents(t, 3, of[*event.Message](acct, sandbox.Alice))
		for n, ev := range got {
			if body := ev.(*event.Message).Body; body != fmt.Sprintf("m%d", n) {
				t.Errorf("%s message %d = %q", acct, n, body)
			}
		}
	}
	waitGoroutines(t, base)

	// Idle sessions disconnect (other accounts do not see them go: they
	// are not each other's contacts) and connect again.
	for _, s := range sessions {
		s.Disconnect()
	}
	for i, s := range sessions {
		s.Connect(ctx(t))
		e.h.WaitState(t, accts[i], event.StateConnected)
	}
	for _, acct := range accts {
		e.h.WaitEvents(t, 2, of[*event.Presence](acct, sandbox.Bob))
	}
	waitGoroutines(t, base)
	// An idle session whose device is unlinked logs out.
	if err := e.p.UnlinkDevices(accts[0]); err != nil {
		t.Fatal(err)
	}
	e.h.WaitState(t, accts[0], event.StateLoggedOut)
}

// waitGoroutines waits until no more than base+2 goroutines run.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	if !testutil.Poll(5*time.Second, func() bool { return runtime.NumGoroutine() <= base+2 }) {
		t.Fatalf("%d goroutines with idle sessions, want at most %d", runtime.NumGoroutine(), base+2)
	}
}
