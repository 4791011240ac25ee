package whatsapp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// TestKeepAliveLossShowsConnecting: unanswered keep-alives report the
// account as connecting (once), restored ones as connected again.
func TestKeepAliveLossShowsConnecting(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	before := len(e.h.StateChanges())
	last := time.Date(2026, 5, 1, 11, 58, 0, 0, time.UTC)
	c.Dispatch(&events.KeepAliveTimeout{ErrorCount: 1, LastSuccess: last})
	c.Dispatch(&events.KeepAliveTimeout{ErrorCount: 2, LastSuccess: last})
	changes := e.h.StateChanges()[before:]
	if len(changes) != 1 || changes[0].State != event.StateConnecting || !strings.Contains(changes[0].Detail, "11:58 UTC") {
		t.Fatalf("after two lost keep-alives: %+v, want one change to connecting naming 11:58 UTC", changes)
	}
	if d := s.Diagnose(e.ctx); !d.KeepAliveLost.Equal(last) {
		t.Errorf("Diagnose().KeepAliveLost = %v, want %v", d.KeepAliveLost, last)
	}
	c.Dispatch(&events.KeepAliveRestored{})
	if st := e.lastState(acct); st.State != event.StateConnected || !strings.Contains(st.Detail, "works again") {
		t.Errorf("after restore: %+v", st)
	}
	// A restore without a loss says nothing.
	n := len(e.h.StateChanges())
	c.Dispatch(&events.KeepAliveRestored{})
	if len(e.h.StateChanges()) != n {
		t.Error("a restore without a loss changed the state")
	}
}

// TestBanWithoutEndBacksOff: a temporary ban without an end is retried
// after 1, 2, 4 hours while it lasts, and the owner is told each time; a
// connection that WhatsApp accepts starts again from 1 hour.
func TestBanWithoutEndBacksOff(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	ban := &events.TemporaryBan{Code: events.TempBanSentToTooManyPeople}
	c.Lock()
	c.ConnectEvent = ban // WhatsApp keeps refusing the device
	c.Unlock()
	expect := func(want string, wait time.Duration, before int) {
		t.Helper()
		st := e.waitState(acct, event.StateBanned, before)
		if !strings.Contains(st.Detail, "did not say when it ends") || !strings.Contains(st.Detail, "tries again in "+want) {
			t.Errorf("ban detail %q, want a retry in %s", st.Detail, want)
		}
		if got := s.Diagnose(e.ctx).ReconnectAt.Sub(e.clock.Now()); got != wait {
			t.Errorf("reconnect scheduled in %s, want %s", got, wait)
		}
	}
	before := len(e.h.StateChanges())
	c.Disconnect()
	c.Dispatch(ban)
	expect("1 hour", time.Hour, before)
	for _, tc := range []struct {
		want string
		wait time.Duration
	}{{"2 hours", 2 * time.Hour}, {"4 hours", 4 * time.Hour}} {
		// The run loop would reconnect after the wait; the test does now.
		before := len(e.h.StateChanges())
		s.Connect(e.ctx)
		expect(tc.want, tc.wait, before)
	}
	if _, err := s.SendMessage(e.ctx, text(s, "hi")); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("SendMessage while banned = %v", err)
	}
	c.Lock()
	c.ConnectEvent = nil // the ban ended
	c.Unlock()
	before = len(e.h.StateChanges())
	s.Connect(e.ctx)
	e.waitState(acct, event.StateConnected, before)
	if d := s.Diagnose(e.ctx); !d.ReconnectAt.IsZero() {
		t.Errorf("connected, yet a reconnection is scheduled at %v", d.ReconnectAt)
	}
	before = len(e.h.StateChanges())
	c.Disconnect()
	c.Dispatch(ban)
	expect("1 hour", time.Hour, before)
}

// TestConnectFailures: refusals that waiting cannot heal stop retrying and
// say what to do; others back off.
func TestConnectFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason events.ConnectFailureReason
		want   []string
		retry  []time.Duration
	}{
		{"bad user agent", events.ConnectFailureBadUserAgent, []string{"409", "update Drawbridge", "does not retry"}, []time.Duration{0, 0}},
		{"client unknown", events.ConnectFailureClientUnknown, []string{"418", "Link the account again", "does not retry"}, []time.Duration{0, 0}},
		{"generic", events.ConnectFailureGeneric, []string{"400", "retrying in"}, []time.Duration{time.Minute, 2 * time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s, c := e.connected()
			refusal := &events.ConnectFailure{Reason: tc.reason, Message: "refused"}
			c.Lock()
			c.ConnectEvent = refusal
			c.Unlock()
			for i, wait := range tc.retry {
				before := len(e.h.StateChanges())
				if i == 0 {
					c.Disconnect()
					c.Dispatch(refusal)
				} else {
					s.Connect(e.ctx)
				}
				st := e.waitState(s.Account(), event.StateDisconnected, before)
				for _, w := range tc.want {
					if !strings.Contains(st.Detail, w) {
						t.Errorf("detail %q lacks %q", st.Detail, w)
					}
				}
				got := time.Duration(0)
				if at := s.Diagnose(e.ctx).ReconnectAt; !at.IsZero() {
					got = at.Sub(e.clock.Now())
				}
				if got != wait {
					t.Errorf("refusal %d: reconnect in %s, want %s", i+1, got, wait)
				}
			}
		})
	}
}

// TestLockedAndBannedLogouts: logouts with reason 403 and 406 say the
// account is locked or banned before the device is forgotten.
func TestLockedAndBannedLogouts(t *testing.T) {
	for _, tc := range []struct {
		reason events.ConnectFailureReason
		want   string
	}{
		{events.ConnectFailureMainDeviceGone, "locked"},
		{events.ConnectFailureUnknownLogout, "banned this account (406)"},
	} {
		t.Run(tc.reason.NumberString(), func(t *testing.T) {
			e := newEnv(t, nil)
			s, c := e.connected()
			if err := c.Device.Delete(e.ctx); err != nil {
				t.Fatal(err)
			}
			before := len(e.h.StateChanges())
			c.Dispatch(&events.LoggedOut{OnConnect: true, Reason: tc.reason})
			banned := e.waitState(s.Account(), event.StateBanned, before)
			if !strings.Contains(banned.Detail, tc.want) {
				t.Errorf("banned detail %q lacks %q", banned.Detail, tc.want)
			}
			e.waitState(s.Account(), event.StateLoggedOut, before)
		})
	}
}

// TestPanicInHandlerIsRecovered: a bug while handling an event does not
// acknowledge it (WhatsApp offers it again), the owner is told once, and
// the session goes on.
func TestPanicInHandlerIsRecovered(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	before := len(e.h.StateChanges())
	// A nil event makes the handler dereference nil: the stand-in for
	// any bug.
	if c.Dispatch((*events.Receipt)(nil)) {
		t.Error("an event whose handling panicked was acknowledged")
	}
	if c.Dispatch((*events.Receipt)(nil)) {
		t.Error("the second one too")
	}
	changes := e.h.StateChanges()[before:]
	if len(changes) != 1 || changes[0].State != event.StateConnected || !strings.Contains(changes[0].Detail, "bug") {
		t.Errorf("owner told %+v, want one connected notice naming a bug", changes)
	}
	if n := s.Diagnose(e.ctx).PanicsRecovered; n != 2 {
		t.Errorf("PanicsRecovered = %d, want 2", n)
	}
	if !c.Dispatch(&events.Receipt{MessageSource: types.MessageSource{Chat: alice, Sender: alice}, MessageIDs: []types.MessageID{"X"}, Timestamp: when}) {
		t.Error("the session no longer takes events after a panic")
	}
}
