package telegram_test

import (
	"errors"
	"strings"
	"testing"
	"time"

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

// TestLoginQR links by QR code: the first code expires and is replaced
// by a new one, the phone accepts the new one, and the flow ends linked;
// for an account with two-step verification the password comes after.
func TestLoginQR(t *testing.T) {
	for _, withPassword := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "2FA"}[withPassword], func(t *testing.T) {
			f := newFixture(t)
			if withPassword {
				if err := f.srv.SetPassword(ownerID, "pw"); err != nil {
					t.Fatal(err)
				}
			}
			f.srv.SetTokenLifetime(time.Second)
			l, err := f.a.NewLogin(f.ctx, "owner@example.org", telegram.FlowQR)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Cancel()
			first, err := l.Start(f.ctx)
			if err != nil || first.Kind != gateway.StepQR || !strings.HasPrefix(first.Data, "tg://login?token=") {
				t.Fatalf("Start = %+v, %v; want a tg://login QR code", first, err)
			}
			// Nobody scans it: it expires and a new code comes.
			second, err := l.Wait(f.ctx)
			if err != nil || second.Kind != gateway.StepQR || second.Data == first.Data {
				t.Fatalf("Wait after expiry = %+v, %v; want a new QR code", second, err)
			}
			f.srv.SetTokenLifetime(time.Minute)
			if err := f.srv.AcceptLoginToken(f.ctx, ownerID, first.Data); err == nil {
				t.Error("the expired code was accepted")
			}
			// The code may have been renewed again meanwhile: scan the latest.
			step := second
			for step.Kind == gateway.StepQR {
				if err := f.srv.AcceptLoginToken(f.ctx, ownerID, step.Data); err != nil {
					step, err = l.Wait(f.ctx) // expired while we looked: the next one
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				if step, err = l.Wait(f.ctx); err != nil {
					t.Fatalf("Wait after the scan: %v", err)
				}
			}
			if withPassword {
				if step.Kind != gateway.StepInput || step.Fields[0].ID != telegram.FieldPassword {
					t.Fatalf("after the scan of a 2FA account: %+v, want the password", step)
				}
				if step, err = l.Submit(f.ctx, map[string]string{telegram.FieldPassword: "pw"}); err != nil {
					t.Fatal(err)
				}
			}
			if step.Kind != gateway.StepDone || step.Account != "1001" {
				t.Fatalf("end of the QR flow: %+v, want done as 1001", step)
			}
			sess, err := f.a.LoadSession(f.ctx, step.Account)
			if err != nil {
				t.Fatal(err)
			}
			sess.Connect(f.ctx)
			f.host.WaitState(t, step.Account, event.StateConnected)
		})
	}
}
