package telegram_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// TestLoginTwoStepPassword links an account that has a two-step
// verification password: after the code the flow asks for it, a wrong
// one is refused (and the step stays), the right one, checked by SRP
// against the server, links the account, whose session then connects.
func TestLoginTwoStepPassword(t *testing.T) {
	f := newFixture(t)
	if err := f.srv.SetPassword(ownerID, "correct horse"); err != nil {
		t.Fatal(err)
	}
	l, err := f.a.NewLogin(f.ctx, "owner@example.org", telegram.FlowPhone)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Cancel()
	if _, err := l.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Submit(f.ctx, map[string]string{telegram.FieldPhone: ownerPhone}); err != nil {
		t.Fatal(err)
	}
	code, err := f.srv.LastCode(f.ctx, ownerPhone)
	if err != nil {
		t.Fatal(err)
	}
	step, err := l.Submit(f.ctx, map[string]string{telegram.FieldCode: code})
	if err != nil {
		t.Fatal(err)
	}
	if step.Kind != gateway.StepInput || len(step.Fields) != 1 || step.Fields[0].ID != telegram.FieldPassword {
		t.Fatalf("after the code of a 2FA account: %+v, want the password asked", step)
	}
	_, err = l.Submit(f.ctx, map[string]string{telegram.FieldPassword: "wrong"})
	if !errors.Is(err, gateway.ErrBadRequest) || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("wrong password: %v, want ErrBadRequest saying so", err)
	}
	step, err = l.Submit(f.ctx, map[string]string{telegram.FieldPassword: "correct horse"})
	if err != nil || step.Kind != gateway.StepDone || step.Account != "1001" {
		t.Fatalf("right password: %+v, %v; want done as 1001", step, err)
	}
	sess, err := f.a.LoadSession(f.ctx, step.Account)
	if err != nil {
		t.Fatal(err)
	}
	sess.Connect(f.ctx)
	f.host.WaitState(t, step.Account, event.StateConnected)
}
