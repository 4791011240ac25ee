package sandbox_test

import (
	"context"
	"errors"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

func TestLoadSession(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	for _, tc := range []struct {
		acct ids.AccountID
		want error
	}{
		{phoneA, gateway.ErrNotLinked}, // no device token in the KV
		{"not-a-phone", gateway.ErrBadRequest},
		{"+1 555 000 1111", gateway.ErrBadRequest}, // not E.164 as written
	} {
		if _, err := e.a.LoadSession(ctx(t), tc.acct); !errors.Is(err, tc.want) {
			t.Errorf("LoadSession(%q) = %v, want %v", tc.acct, err, tc.want)
		}
	}
	if _, err := sandbox.New(nil).LoadSession(context.Background(), phoneA); err == nil {
		t.Error("LoadSession before Init succeeded")
	}
	acct := e.link(t, phoneA)
	s1 := e.connect(t, acct)
	// The hub's pattern when it attaches an account again: load, connect
	// the new session, then disconnect the old one.
	s2 := e.session(t, acct)
	s2.Connect(ctx(t))
	s1.Disconnect()
	s1.Connect(ctx(t))
	if got := e.h.States(acct); len(got) != 4 || got[3] != event.StateConnected {
		t.Errorf("states %v; want connecting, connected twice", got)
	}
	if _, err := s1.SendMessage(ctx(t), &event.Message{Meta: event.Meta{Chat: ids.DirectChat(sandbox.Alice)}, Body: "x"}); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("SendMessage on the superseded session = %v", err)
	}
	if err := s1.Logout(ctx(t)); err != nil {
		t.Errorf("Logout of the superseded session = %v", err)
	}
	id, err := e.p.SendAs(ctx(t), sandbox.Alice, acct, "to the new session")
	if err != nil {
		t.Fatal(err)
	}
	if m := e.h.WaitEvent(t, messagesTo(acct)); m.EventMeta().ID != id {
		t.Errorf("got %s", gatewaytest.Describe(m))
	}
	send(t, s2, sandbox.Alice, "still linked")
}

func TestRestart(t *testing.T) {
	h := gatewaytest.NewHost(t)
	first := newEnvOn(t, sandbox.NewPlatform(sandbox.Options{}), h, nil)
	acct := first.link(t, phoneA)
	first.connect(t, acct)
	if err := first.a.Stop(ctx(t)); err != nil {
		t.Fatal(err)
	}

	// A new process: new platform, new adapter, the same hub storage.
	second := newEnvOn(t, sandbox.NewPlatform(sandbox.Options{}), h, nil)
	s := second.session(t, acct)
	s.Connect(ctx(t))
	if got := h.States(acct); got[len(got)-1] != event.StateConnected {
		t.Fatalf("states %v", got)
	}
	if id := send(t, s, sandbox.EchoBot, "still here"); id != "SB1" {
		t.Errorf("id %s on the new platform", id)
	}
	if u, ok := second.p.User(ids.UserID(acct)); !ok || !u.Linked {
		t.Errorf("the account did not sign up again: %+v", u)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	if err := s.Logout(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx(t)); err != nil {
		t.Errorf("second Logout: %v", err)
	}
	if _, err := e.h.KV(acct).Get(ctx(t), "device_token"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("device token after Logout: %v", err)
	}
	if _, err := e.a.LoadSession(ctx(t), acct); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("LoadSession after Logout = %v", err)
	}
	if _, err := s.SendMessage(ctx(t), &event.Message{Meta: event.Meta{Chat: ids.DirectChat(sandbox.Alice)}, Body: "x"}); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("SendMessage after Logout = %v", err)
	}
	if _, err := s.ListContacts(ctx(t)); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("ListContacts after Logout = %v", err)
	}
	s.Connect(ctx(t))
	if got := e.h.States(acct); got[len(got)-1] != event.StateLoggedOut {
		t.Errorf("Connect after Logout: states %v", got)
	}
	// Linking again works and gives a fresh session.
	e.link(t, phoneA)
	if s2 := e.connect(t, acct); s2 == s {
		t.Error("the logged-out session came back")
	}
}

func TestUnlinkDevices(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	a, b := e.link(t, phoneA), e.link(t, phoneB)
	e.connect(t, a)
	sb := e.session(t, b) // not connected
	for _, acct := range []ids.AccountID{a, b} {
		if err := e.p.UnlinkDevices(acct); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.p.UnlinkDevices("+15557777777"); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("UnlinkDevices(unknown) = %v", err)
	}
	e.h.WaitState(t, a, event.StateLoggedOut)
	sb.Connect(ctx(t))
	e.h.WaitState(t, b, event.StateLoggedOut)
	for _, acct := range []ids.AccountID{a, b} {
		if _, err := e.h.KV(acct).Get(ctx(t), "device_token"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: device token kept: %v", acct, err)
		}
		if _, err := e.a.LoadSession(ctx(t), acct); !errors.Is(err, gateway.ErrNotLinked) {
			t.Errorf("%s: LoadSession = %v", acct, err)
		}
	}
}

func TestSecondDeviceGetsCopies(t *testing.T) {
	// Two gateways in front of one platform link the same number: both
	// devices work, and each sees what the other sent as FromMe.
	p := sandbox.NewPlatform(sandbox.Options{})
	one := newEnvOn(t, p, gatewaytest.NewHost(t), nil)
	two := newEnvOn(t, p, gatewaytest.NewHost(t), nil)
	acct := one.link(t, phoneA)
	if two.link(t, phoneA) != acct {
		t.Fatal("second link gave another account")
	}
	s1, _ := one.connect(t, acct), two.connect(t, acct)
	id := send(t, s1, sandbox.Alice, "from device one")
	m := two.h.WaitEvent(t, messagesTo(acct)).(*event.Message)
	if !m.FromMe || m.ID != id || m.Chat != ids.DirectChat(sandbox.Alice) || m.Sender != ids.UserID(acct) {
		t.Errorf("copy = %s", gatewaytest.Describe(m))
	}
	if _, err := p.SendAs(ctx(t), sandbox.Bob, acct, "to both"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*gatewaytest.Host{one.h, two.h} {
		h.WaitEvent(t, gatewaytest.All(messagesTo(acct), gatewaytest.InChat(acct, ids.DirectChat(sandbox.Bob))))
	}
	if n := len(one.h.EventsFor(gatewaytest.All(messagesTo(acct), gatewaytest.InChat(acct, ids.DirectChat(sandbox.Alice))))); n != 0 {
		t.Errorf("the sending device got %d copies of its own message", n)
	}
}

func TestRelink(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s1 := e.connect(t, acct)
	tok1, _ := e.h.KV(acct).Get(ctx(t), "device_token")

	// Linking the number again (whoever asks) leaves the running session
	// alone: the hub decides whether the new link stands.
	e.link(t, phoneA)
	tok2, _ := e.h.KV(acct).Get(ctx(t), "device_token")
	if string(tok1) == string(tok2) {
		t.Fatalf("same device token %q after linking again", tok1)
	}
	send(t, s1, sandbox.Alice, "old device still works")

	// The hub attaches the new link: the new session replaces the old one,
	// whose device is unlinked.
	s2 := e.session(t, acct)
	s2.Connect(ctx(t))
	s1.Disconnect()
	if _, err := s1.SendMessage(ctx(t), &event.Message{Meta: event.Meta{Chat: ids.DirectChat(sandbox.Alice)}, Body: "x"}); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("old session SendMessage = %v", err)
	}
	send(t, s2, sandbox.Alice, "new device works")
	if got := e.h.States(acct); got[len(got)-1] != event.StateConnected {
		t.Errorf("states %v", got)
	}
}
