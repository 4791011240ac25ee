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
)

func TestSeededDirectory(t *testing.T) {
	p := sandbox.NewPlatform(sandbox.Options{})
	want := []sandbox.User{
		{ID: "+15550000001", Name: "Echo Bot", Kind: sandbox.KindBot, Available: true, Status: "I repeat what you write"},
		{ID: "+15550000002", Name: "Quiet Bot", Kind: sandbox.KindBot, Available: true, Status: "I read everything and never answer"},
		{ID: "+15550001111", Name: "Alice Sandbox", Kind: sandbox.KindHuman, Available: true},
		{ID: "+15550002222", Name: "Bob Sandbox", Kind: sandbox.KindHuman, Available: true},
	}
	got := p.Users()
	if len(got) != len(want) {
		t.Fatalf("Users = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("user %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, ok := p.User("+15559999999"); ok {
		t.Error("unknown user found")
	}
}

func TestAddHuman(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	const carol ids.UserID = "+15553334444"
	if err := e.p.AddHuman(carol, "Carol"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []ids.UserID{carol, "carol", "+1 555 333 4444"} {
		if err := e.p.AddHuman(id, "Carol"); !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("AddHuman(%q) = %v, want ErrBadRequest", id, err)
		}
	}
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	contacts, err := s.ListContacts(ctx(t))
	if err != nil || len(contacts) != 5 || contacts[4].Sender != carol || contacts[4].Name != "Carol" {
		t.Errorf("contacts %d, %v", len(contacts), err)
	}
}

func TestPlatformAPI(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	e.connect(t, acct)
	e.h.WaitEvents(t, 8, gatewaytest.Is[event.Event]) // the prelude

	if err := e.p.SetPresence(sandbox.Alice, false, "gone fishing"); err != nil {
		t.Fatal(err)
	}
	if err := e.p.Typing(sandbox.Alice, acct, event.Composing); err != nil {
		t.Fatal(err)
	}
	id, err := e.p.SendAs(ctx(t), sandbox.Alice, acct, "caught one")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.p.SendReceipt(ctx(t), sandbox.Alice, acct, event.Displayed, "SB42"); err != nil {
		t.Fatal(err)
	}
	alice := gatewaytest.InChat(acct, ids.DirectChat(sandbox.Alice))
	evs := e.h.WaitEvents(t, 6, alice)[2:] // after the prelude's two
	if pr, ok := evs[0].(*event.Presence); !ok || pr.Available || pr.Status != "gone fishing" || pr.LastSeen.IsZero() {
		t.Errorf("event 0 = %s", gatewaytest.Describe(evs[0]))
	}
	if cs, ok := evs[1].(*event.ChatState); !ok || cs.State != event.Composing || cs.Sender != sandbox.Alice {
		t.Errorf("event 1 = %s", gatewaytest.Describe(evs[1]))
	}
	if m, ok := evs[2].(*event.Message); !ok || m.ID != id || m.Body != "caught one" || m.Sender != sandbox.Alice {
		t.Errorf("event 2 = %s", gatewaytest.Describe(evs[2]))
	}
	wantReceipt(t, evs[3], sandbox.Alice, event.Displayed, "SB42")
	if got := e.p.Received(ids.UserID(acct)); len(got) != 1 || got[0].From != sandbox.Alice {
		t.Errorf("Received = %+v", got)
	}
	if u, _ := e.p.User(sandbox.Alice); u.Available || u.Status != "gone fishing" {
		t.Errorf("User(Alice) = %+v", u)
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"SetPresence unknown", e.p.SetPresence("+15559999999", true, ""), gateway.ErrUnknownChat},
		{"Typing to non-account", e.p.Typing(sandbox.Alice, phoneB, event.Composing), gateway.ErrUnknownChat},
		{"Typing from unknown", e.p.Typing("+15559999999", acct, event.Composing), gateway.ErrUnknownChat},
		{"Typing bad state", e.p.Typing(sandbox.Alice, acct, "dancing"), gateway.ErrBadRequest},
		{"SendAs empty", second(e.p.SendAs(ctx(t), sandbox.Alice, acct, "")), gateway.ErrBadRequest},
		{"SendAs to non-account", second(e.p.SendAs(ctx(t), sandbox.Alice, phoneB, "x")), gateway.ErrUnknownChat},
		{"SendAs from unknown", second(e.p.SendAs(ctx(t), "+15559999999", acct, "x")), gateway.ErrUnknownChat},
		{"SendAs cancelled", second(e.p.SendAs(cancelled, sandbox.Alice, acct, "x")), context.Canceled},
		{"SendReceipt no targets", e.p.SendReceipt(ctx(t), sandbox.Alice, acct, event.Displayed), gateway.ErrBadRequest},
		{"SendReceipt bad kind", e.p.SendReceipt(ctx(t), sandbox.Alice, acct, 0, "SB1"), gateway.ErrBadRequest},
		{"SendReceipt from unknown", e.p.SendReceipt(ctx(t), "+15559999999", acct, event.Delivered, "SB1"), gateway.ErrUnknownChat},
		{"ConfirmPairing nothing pending", e.p.ConfirmPairing(phoneB, "AAAA-AAAA"), gateway.ErrBadRequest},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if code, ok := e.p.PendingPairingCode("garbage"); ok {
		t.Errorf("PendingPairingCode(garbage) = %q", code)
	}
}

func second[T any](_ T, err error) error { return err }

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+15550001111", "+15550001111"},
		{" +1 555-000.1111 ", "+15550001111"},
		{"(+49) 151 0000 0001", "+4915100000001"},
		{"004915100000001", "+4915100000001"},
		{"+12345678", "+12345678"},
		{"+123456789012345", "+123456789012345"},
	} {
		got, err := sandbox.NormalizePhone(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "+", "+1234567", "+1234567890123456", "15550001111", "+0155500011", "+1555000111a", "++15550001111"} {
		if _, err := sandbox.NormalizePhone(in); !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("NormalizePhone(%q) = %v, want ErrBadRequest", in, err)
		}
	}
}
