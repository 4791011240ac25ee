package remote_test

import (
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestSupersededSessionOverTheWire: LoadSession gives a new session each
// time (the contract's supersede rule), and over the wire each is its own
// handle: the hub connects the replacement, then disconnects the old
// session, and the replacement stays connected.
func TestSupersededSessionOverTheWire(t *testing.T) {
	a := launchChild(t)
	h := gatewaytest.NewHost(t)
	if err := a.Init(h, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	acct := gatewaytest.Link(t, a, h, gatewaytest.Conformance{
		Answer: func(*testing.T, gateway.LoginStep) map[string]string {
			return map[string]string{sandbox.FieldPhone: "+15550006666"}
		},
	})
	old, err := a.LoadSession(t.Context(), acct)
	if err != nil {
		t.Fatal(err)
	}
	old.Connect(t.Context())
	h.WaitState(t, acct, event.StateConnected)
	repl, err := a.LoadSession(t.Context(), acct)
	if err != nil {
		t.Fatal(err)
	}
	repl.Connect(t.Context())
	old.Disconnect()

	if _, err := repl.SendMessage(t.Context(), &event.Message{
		Meta: event.Meta{Account: acct, Chat: ids.DirectChat(sandbox.EchoBot), Sender: ids.UserID(acct), FromMe: true, Time: time.Now()},
		Body: "still here",
	}); err != nil {
		t.Fatalf("SendMessage on the replacement after the old session's Disconnect: %v", err)
	}
	h.WaitEvent(t, func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Sender == sandbox.EchoBot && m.Body == "echo: still here"
	})
}
