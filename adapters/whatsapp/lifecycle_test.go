package whatsapp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

func text(s *whatsapp.Session, body string) *event.Message {
	return &event.Message{Meta: event.Meta{Account: s.Account(), Chat: aliceChat}, Body: body}
}

func TestConnectedAfterLinkAndMarkedOnline(t *testing.T) {
	e := newEnv(t, map[string]any{whatsapp.ConfigMarkOnline: true})
	s, c := e.connected()
	c.Dispatch(&events.AppStateSyncComplete{Name: appstate.WAPatchCriticalBlock})
	states := e.h.States(s.Account())
	if len(states) < 2 || states[0] != event.StateConnecting || states[len(states)-1] != event.StateConnected {
		t.Errorf("states = %v, want connecting … connected", states)
	}
	testutil.WaitFor(t, "marked online", func() bool { return len(c.Presences()) > 0 })
	if p := c.Presences()[0]; p != types.PresenceAvailable {
		t.Errorf("presence = %q", p)
	}
}

// TestRestart plays a gateway restart: a new adapter on the same device
// store and host loads the account, makes a new client and connects it.
func TestRestart(t *testing.T) {
	e := newEnv(t, nil)
	acct, _ := e.link()
	if err := e.a.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	e2 := newEnvOn(t, e.h, e.db, nil)
	sess, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatalf("LoadSession after restart: %v", err)
	}
	before := len(e.h.StateChanges())
	sess.Connect(e2.ctx)
	e2.waitState(acct, event.StateConnected, before)
	c := e2.client(0)
	if c.Device.ID == nil || c.Device.ID.User != "15550000100" || c.Device.LID.User != ownerLID {
		t.Errorf("loaded device = %v / %v", c.Device.ID, c.Device.LID)
	}
	if _, err := sess.SendMessage(e2.ctx, text(sess.(*whatsapp.Session), "after restart")); err != nil {
		t.Errorf("SendMessage: %v", err)
	}
}

func TestConnectRetries(t *testing.T) {
	e := newEnv(t, nil)
	acct, _ := e.link()
	e.a.Stop(e.ctx)
	e2 := newEnvOn(t, e.h, e.db, nil)
	e2.f.Configure = func(c *wt.Client) { c.ConnectErr = errors.New("dial tcp: i/o timeout") }
	sess, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.h.StateChanges())
	sess.Connect(e2.ctx)
	st := e2.waitState(acct, event.StateDisconnected, before)
	if !strings.Contains(st.Detail, "Cannot reach WhatsApp") || !strings.Contains(st.Detail, "i/o timeout") {
		t.Errorf("detail = %q", st.Detail)
	}
	c := e2.client(0)
	c.Lock()
	c.ConnectErr = nil
	c.Unlock()
	e2.waitState(acct, event.StateConnected, before)
	sess.Disconnect()
}

func TestDisconnectAndReconnect(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	before := len(e.h.StateChanges())
	c.Dispatch(&events.Disconnected{})
	st := e.waitState(acct, event.StateDisconnected, before)
	if !strings.Contains(st.Detail, "reconnecting") {
		t.Errorf("detail = %q", st.Detail)
	}
	if _, err := s.SendMessage(e.ctx, text(s, "while away")); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("SendMessage while reconnecting = %v, want ErrUnavailable", err)
	}
	c.Dispatch(&events.Connected{})
	e.waitState(acct, event.StateConnected, before)

	// Disconnect by the hub: reported once, events are no longer taken.
	before = len(e.h.StateChanges())
	s.Disconnect()
	if st := e.lastState(acct); st.State != event.StateDisconnected || st.Detail != "" {
		t.Errorf("after Disconnect: %+v", st)
	}
	if c.IsConnected() {
		t.Error("client still connected")
	}
	if c.Dispatch(wt.Msg{Chat: alice, ID: "LATE", Time: time.Now()}.Event(textMsg("late"))) {
		t.Error("a message after Disconnect was acknowledged; it would be lost")
	}
	s.Connect(e.ctx)
	e.waitState(acct, event.StateConnected, before)
}

func TestLoggedOutRemotely(t *testing.T) {
	for _, tc := range []struct {
		name string
		evt  *events.LoggedOut
		want string
	}{
		{"from phone", &events.LoggedOut{}, "removed from Linked devices"},
		{"on connect", &events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureMainDeviceGone}, "primary device was logged out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s, c := e.connected()
			acct := s.Account()
			// whatsmeow deletes the device's keys before telling.
			if err := c.Device.Delete(e.ctx); err != nil {
				t.Fatal(err)
			}
			c.Dispatch(tc.evt)
			st := e.h.WaitState(t, acct, event.StateLoggedOut)
			if !strings.Contains(st.Detail, tc.want) || !strings.Contains(st.Detail, "link") {
				t.Errorf("detail = %q", st.Detail)
			}
			if _, err := e.h.KV(acct).Get(e.ctx, "device_jid"); err == nil {
				t.Error("device JID kept after logout")
			}
			if _, err := s.SendMessage(e.ctx, text(s, "hi")); !errors.Is(err, gateway.ErrNotLinked) {
				t.Errorf("SendMessage after logout = %v, want ErrNotLinked", err)
			}
			if _, err := e.a.LoadSession(e.ctx, acct); !errors.Is(err, gateway.ErrNotLinked) {
				t.Errorf("LoadSession after logout = %v, want ErrNotLinked", err)
			}
			s.Connect(e.ctx)
			if st := e.lastState(acct); st.State != event.StateLoggedOut {
				t.Errorf("Connect after logout reported %s", st.State)
			}
			if err := s.Logout(e.ctx); err != nil {
				t.Errorf("Logout after remote logout: %v", err)
			}
		})
	}
}

func TestPermanentDisconnects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		evt   any
		state event.State
		want  []string
	}{
		{"stream replaced", &events.StreamReplaced{}, event.StateDisconnected, []string{"Another program"}},
		{"client outdated", &events.ClientOutdated{}, event.StateDisconnected, []string{"outdated", "update Drawbridge"}},
		{"temporary ban", &events.TemporaryBan{Code: events.TempBanSentToTooManyPeople, Expire: 26 * time.Hour},
			event.StateBanned, []string{"temporarily banned", "101", "ends in about 26h0m0s", "UTC"}},
		{"connect failure", &events.ConnectFailure{Reason: events.ConnectFailureServiceUnavailable}, event.StateDisconnected, []string{"refused", "503"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s, c := e.connected()
			before := len(e.h.StateChanges())
			c.Disconnect() // whatsmeow closes the connection, then tells
			c.Dispatch(tc.evt)
			st := e.waitState(s.Account(), tc.state, before)
			for _, w := range tc.want {
				if !strings.Contains(st.Detail, w) {
					t.Errorf("detail %q lacks %q", st.Detail, w)
				}
			}
			if _, err := s.SendMessage(e.ctx, text(s, "hi")); !errors.Is(err, gateway.ErrUnavailable) {
				t.Errorf("SendMessage = %v, want ErrUnavailable", err)
			}
			// The hub (or a restart) may connect it again at once.
			before = len(e.h.StateChanges())
			s.Connect(e.ctx)
			e.waitState(s.Account(), event.StateConnected, before)
		})
	}
}

func TestPhoneOffline(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	e.clock.Add(13 * 24 * time.Hour)
	before := len(e.h.StateChanges())
	// The hourly check runs on connecting too.
	c.Dispatch(&events.Connected{})
	st := e.waitState(acct, event.StatePhoneOffline, before)
	if !strings.Contains(st.Detail, "13 days") || !strings.Contains(st.Detail, "14 days") {
		t.Errorf("detail = %q", st.Detail)
	}
	// A read receipt from the phone (device 0) shows it is back.
	before = len(e.h.StateChanges())
	c.Dispatch(&events.Receipt{
		MessageSource: types.MessageSource{Chat: alice, Sender: types.JID{User: "15550000100", Server: types.DefaultUserServer}, IsFromMe: true},
		MessageIDs:    []types.MessageID{"A1"}, Timestamp: e.clock.Now(), Type: types.ReceiptTypeRead,
	})
	st = e.waitState(acct, event.StateConnected, before)
	if !strings.Contains(st.Detail, "online again") {
		t.Errorf("detail = %q", st.Detail)
	}
	seen, err := e.h.KV(acct).Get(e.ctx, "phone_last_seen")
	if err != nil || !strings.HasPrefix(string(seen), e.clock.Now().UTC().Format("2006-01-02T15")) {
		t.Errorf("phone_last_seen = %q, %v", seen, err)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	if err := s.Logout(e.ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	calls := strings.Join(c.Calls(), ",")
	if !strings.Contains(calls, "Logout") {
		t.Errorf("calls = %s", calls)
	}
	if _, err := e.a.LoadSession(e.ctx, acct); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("LoadSession after Logout = %v", err)
	}
	for _, st := range e.h.StateChanges()[1:] {
		if st.State == event.StateDisconnected && strings.Contains(st.Detail, "reconnecting") {
			t.Errorf("Logout reported a lost connection: %+v", st)
		}
	}
	if err := s.Logout(e.ctx); err != nil {
		t.Errorf("second Logout: %v", err)
	}
}

// TestSupersede: loading the account again stops the old session quietly.
func TestSupersede(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	s2, err := e.a.LoadSession(e.ctx, s.Account())
	if err != nil {
		t.Fatal(err)
	}
	if c.IsConnected() {
		t.Error("the superseded session's client is still connected")
	}
	before := len(e.h.StateChanges())
	s2.Connect(e.ctx)
	e.waitState(s.Account(), event.StateConnected, before)
	if _, err := s.SendMessage(e.ctx, text(s, "old")); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("old session SendMessage = %v", err)
	}
	if err := s.Logout(e.ctx); err != nil {
		t.Errorf("Logout of a superseded session = %v", err)
	}
	if _, err := e.h.KV(s.Account()).Get(e.ctx, "device_jid"); err != nil {
		t.Errorf("Logout of a superseded session forgot the device: %v", err)
	}
}
