package sandbox_test

import (
	"errors"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestSendFromPhone(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	e.connect(t, acct)

	id, err := e.p.SendFromPhone(ctx(t), acct, sandbox.EchoBot, "typed on the phone")
	if err != nil {
		t.Fatal(err)
	}
	// The gateway's device gets the FromMe copy, then the bot's answer.
	m := waitOne[*event.Message](t, e.h, 1, acct, sandbox.EchoBot)
	if !m.FromMe || m.ID != id || m.Body != "typed on the phone" || m.Sender != ids.UserID(acct) {
		t.Errorf("copy = %s", gatewaytest.Describe(m))
	}
	reply := waitOne[*event.Message](t, e.h, 2, acct, sandbox.EchoBot)
	if reply.FromMe || reply.Body != "echo: typed on the phone" {
		t.Errorf("reply = %s", gatewaytest.Describe(reply))
	}
	if got := e.p.Received(sandbox.EchoBot); len(got) != 1 || got[0].From != ids.UserID(acct) {
		t.Errorf("the bot received %+v", got)
	}

	for _, tc := range []struct {
		acct ids.AccountID
		to   ids.UserID
		body string
		want error
	}{
		{acct, sandbox.EchoBot, "", gateway.ErrBadRequest},
		{phoneB, sandbox.EchoBot, "x", gateway.ErrUnknownChat},
		{acct, "+19999999999", "x", gateway.ErrUnknownChat},
	} {
		if _, err := e.p.SendFromPhone(ctx(t), tc.acct, tc.to, tc.body); !errors.Is(err, tc.want) {
			t.Errorf("SendFromPhone(%s, %s, %q) = %v, want %v", tc.acct, tc.to, tc.body, err, tc.want)
		}
	}
}
