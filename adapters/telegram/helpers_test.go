package telegram_test

import (
	"context"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The cast on the fake Telegram: the account the owner links, and Alice.
const (
	ownerID    = 1001
	ownerPhone = "+15550000100"
	aliceID    = 2002
	alicePhone = "+15550001111"
)

var section = map[string]any{"api_id": telegramtest.APIID, "api_hash": telegramtest.APIHash}

// fixture is an adapter on a fake Telegram, with a recording host.
type fixture struct {
	srv  *telegramtest.Server
	a    gateway.Adapter
	host *gatewaytest.Host
	ctx  context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return placedFixture(t, false)
}

// newRemoteFixture is newFixture with the adapter out of process: served
// by the remote adapter host on a loopback port and dialed, so every call
// and event crosses the adapter protocol.
func newRemoteFixture(t *testing.T) *fixture {
	t.Helper()
	return placedFixture(t, true)
}

func placedFixture(t *testing.T, remote bool) *fixture {
	t.Helper()
	srv := telegramtest.New(t)
	srv.AddUser(ownerID, ownerPhone, "Owen", "owen")
	srv.AddUser(aliceID, alicePhone, "Alice", "alice")
	var a gateway.Adapter = telegram.New(telegram.WithClientOptions(srv.Options))
	if remote {
		served := a
		t.Cleanup(func() { _ = served.Stop(context.Background()) })
		a = dialRemote(t, served)
	}
	h := gatewaytest.NewHost(t)
	if err := a.Init(h, section); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if remote {
		if err := a.Start(ctx); err != nil { // attaches the host stream
			t.Fatal(err)
		}
	}
	return &fixture{srv: srv, a: a, host: h, ctx: ctx}
}

// link runs the phone flow for the owner's account.
func (f *fixture) link(t *testing.T) ids.AccountID {
	t.Helper()
	l, err := f.a.NewLogin(f.ctx, "owner@example.org", telegram.FlowPhone)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Cancel()
	if _, err := l.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	step, err := l.Submit(f.ctx, map[string]string{telegram.FieldPhone: ownerPhone})
	if err != nil {
		t.Fatalf("submit phone: %v", err)
	}
	if step.Kind != gateway.StepInput || step.Fields[0].ID != telegram.FieldCode {
		t.Fatalf("after the phone: %+v, want the code asked", step)
	}
	code, err := f.srv.LastCode(f.ctx, ownerPhone)
	if err != nil {
		t.Fatal(err)
	}
	step, err = l.Submit(f.ctx, map[string]string{telegram.FieldCode: code})
	if err != nil {
		t.Fatalf("submit code: %v", err)
	}
	if step.Kind != gateway.StepDone || step.Account != "1001" {
		t.Fatalf("after the code: %+v, want done as 1001", step)
	}
	return step.Account
}

// connect links, loads and connects the owner's session.
func (f *fixture) connect(t *testing.T) (ids.AccountID, gateway.Session) {
	t.Helper()
	acct := f.link(t)
	sess, err := f.a.LoadSession(f.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	sess.Connect(f.ctx)
	f.host.WaitState(t, acct, event.StateConnected)
	return acct, sess
}
