package whatsapp_test

import (
	"slices"
	"testing"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

const (
	avail   = types.PresenceAvailable
	unavail = types.PresenceUnavailable
)

// TestPresenceFollowsOwner checks the account's own WhatsApp presence by
// default: nothing before the first app-state sync of a new link (the push
// name is not known yet), "unavailable" after it, "available" only while
// the owner has an available XMPP resource or types, "unavailable" again
// once they leave.
func TestPresenceFollowsOwner(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	ctx := e.ctx
	step := func(what string, do func(), want ...types.Presence) {
		t.Helper()
		do()
		if got := c.Presences(); !slices.Equal(got, want) {
			t.Fatalf("after %s: SendPresence calls = %v, want %v", what, got, want)
		}
	}
	owner := func(on bool) func() {
		return func() {
			if err := s.SetOwnerPresence(ctx, on); err != nil {
				t.Fatal(err)
			}
		}
	}
	typing := func(state event.ChatStateKind) func() {
		return func() {
			cs := &event.ChatState{Meta: event.Meta{Account: s.Account(), Chat: aliceChat}, State: state}
			if err := s.SendChatState(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
	}
	step("connecting a new link", func() {})
	step("an app-state patch of the first sync", func() {
		c.Dispatch(&events.AppStateSyncComplete{Name: appstate.WAPatchCriticalBlock})
	}, unavail)
	step("the owner coming online", owner(true), unavail, avail)
	step("a second resource", owner(true), unavail, avail)
	step("the owner typing while online", typing(event.Composing), unavail, avail)
	step("the last resource leaving", owner(false), unavail, avail)
	step("stopping to type", typing(event.Paused), unavail, avail, unavail)
	step("typing while offline", typing(event.Composing), unavail, avail, unavail, avail)
	step("stopping to type while offline", typing(event.Active), unavail, avail, unavail, avail, unavail)
}

// TestPresenceAfterRestart: a session loaded from the device store knows
// its push name and goes "unavailable" on connecting, and "available"
// again on each new connection while the owner is online.
func TestPresenceAfterRestart(t *testing.T) {
	e := newEnv(t, nil)
	acct, _ := e.link()
	if err := e.a.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	e2 := newEnvOn(t, e.h, e.db, nil)
	sess, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.h.StateChanges())
	sess.Connect(e2.ctx)
	e2.waitState(acct, event.StateConnected, before)
	c := e2.client(0)
	if got := c.Presences(); !slices.Equal(got, []types.Presence{unavail}) {
		t.Fatalf("presences after connecting = %v, want [unavailable]", got)
	}
	s := sess.(*whatsapp.Session)
	if err := s.SetOwnerPresence(e2.ctx, true); err != nil {
		t.Fatal(err)
	}
	// WhatsApp drops the connection; whatsmeow reconnects.
	c.Dispatch(&events.Disconnected{})
	c.Dispatch(&events.Connected{})
	if got := c.Presences(); !slices.Equal(got, []types.Presence{unavail, avail, avail}) {
		t.Fatalf("presences after a reconnection = %v, want [unavailable available available]", got)
	}
}

// TestMarkOnlineAlways: mark_online true keeps the account available.
func TestMarkOnlineAlways(t *testing.T) {
	e := newEnv(t, map[string]any{whatsapp.ConfigMarkOnline: true})
	s, c := e.connected()
	c.Dispatch(&events.AppStateSyncComplete{Name: appstate.WAPatchCriticalBlock})
	if err := s.SetOwnerPresence(e.ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := c.Presences(); !slices.Equal(got, []types.Presence{avail}) {
		t.Fatalf("presences = %v, want [available]", got)
	}
}

// TestPresenceWaitsForPushName: a device whose push name is not known yet
// (a restart before the first app-state sync finished) sends no presence
// until whatsmeow reports the push name (PushNameSetting).
func TestPresenceWaitsForPushName(t *testing.T) {
	e := newEnv(t, nil)
	acct, c0 := e.link()
	c0.Device.PushName = ""
	if err := c0.Device.Save(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.a.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	e2 := newEnvOn(t, e.h, e.db, nil)
	sess, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.h.StateChanges())
	sess.Connect(e2.ctx)
	e2.waitState(acct, event.StateConnected, before)
	c := e2.client(0)
	if got := c.Presences(); len(got) != 0 {
		t.Fatalf("presence sent without a push name: %v", got)
	}
	// whatsmeow stores the push name from the app state, then reports it.
	c.Device.PushName = "Romeo"
	c.Dispatch(&events.PushNameSetting{})
	if got := c.Presences(); !slices.Equal(got, []types.Presence{unavail}) {
		t.Fatalf("presences after the push name = %v, want [unavailable]", got)
	}
}
