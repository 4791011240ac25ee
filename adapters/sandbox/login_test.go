package sandbox_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var codeRE = regexp.MustCompile(`^[1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4}$`)

// startLogin returns a login past Start.
func startLogin(t *testing.T, e *env) gateway.Login {
	t.Helper()
	l, err := e.a.NewLogin(ctx(t), "user@example.org", sandbox.FlowPairingCode)
	if err != nil {
		t.Fatalf("NewLogin: %v", err)
	}
	t.Cleanup(l.Cancel)
	step, err := l.Start(ctx(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if step.Kind != gateway.StepInput || len(step.Fields) != 1 || step.Fields[0].ID != sandbox.FieldPhone {
		t.Fatalf("Start = %+v, want StepInput asking for %q", step, sandbox.FieldPhone)
	}
	if step.Fields[0].Pattern != sandbox.PhonePattern {
		t.Errorf("Pattern = %q", step.Fields[0].Pattern)
	}
	return l
}

func TestLoginBadInput(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	l := startLogin(t, e)
	for _, tc := range []struct {
		name  string
		input map[string]string
	}{
		{"missing field", map[string]string{}},
		{"empty", map[string]string{"phone": ""}},
		{"no plus", map[string]string{"phone": "15550001111x"}},
		{"letters", map[string]string{"phone": "+1555abc1111"}},
		{"leading zero", map[string]string{"phone": "+0123456789"}},
		{"7 digits", map[string]string{"phone": "+1234567"}},
		{"16 digits", map[string]string{"phone": "+1234567890123456"}},
		{"bot", map[string]string{"phone": string(sandbox.EchoBot)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Submit(ctx(t), tc.input)
			if !errors.Is(err, gateway.ErrBadRequest) {
				t.Fatalf("Submit(%v) = %v, want ErrBadRequest", tc.input, err)
			}
		})
	}
	// The flow still waits for a good number.
	step, err := l.Submit(ctx(t), map[string]string{"phone": "+49 151 0000-0001"})
	if err != nil || step.Kind != gateway.StepCode {
		t.Fatalf("Submit(good) = %+v, %v", step, err)
	}
	if _, err := l.Submit(ctx(t), map[string]string{"phone": phoneA}); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("second Submit = %v, want ErrBadRequest", err)
	}
}

func TestLoginAutoConfirm(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	l := startLogin(t, e)
	step, err := l.Submit(ctx(t), map[string]string{"phone": phoneA})
	if err != nil || step.Kind != gateway.StepCode || !codeRE.MatchString(step.Data) {
		t.Fatalf("Submit = %+v, %v; want StepCode with a code", step, err)
	}
	step, err = l.Wait(ctx(t))
	if err != nil || step.Kind != gateway.StepDone || step.Account != phoneA {
		t.Fatalf("Wait = %+v, %v; want StepDone for %s", step, err, phoneA)
	}
	if tok, err := e.h.KV(phoneA).Get(ctx(t), "device_token"); err != nil || len(tok) == 0 {
		t.Errorf("device token = %q, %v", tok, err)
	}
	if u, ok := e.p.User(phoneA); !ok || !u.Linked || u.Kind != sandbox.KindAccount {
		t.Errorf("User(%s) = %+v, %t", phoneA, u, ok)
	}
	if _, ok := e.p.PendingPairingCode(phoneA); ok {
		t.Error("a code is still pending after linking")
	}
}

func TestLoginManualConfirm(t *testing.T) {
	e := newEnv(t, map[string]any{"auto_confirm": false, "code_ttl": "2m"}, sandbox.Options{Clock: func() time.Time { return fixedTime }})
	l := startLogin(t, e)
	step, err := l.Submit(ctx(t), map[string]string{"phone": phoneA})
	if err != nil || step.Kind != gateway.StepCode || !codeRE.MatchString(step.Data) {
		t.Fatalf("Submit = %+v, %v; want StepCode with a code", step, err)
	}
	if want := fixedTime.Add(2 * time.Minute); !step.Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v", step.Expires, want)
	}
	if code, ok := e.p.PendingPairingCode(phoneA); !ok || code != step.Data {
		t.Fatalf("PendingPairingCode = %q, %t; want %q", code, ok, step.Data)
	}
	for _, tc := range []struct{ phone, code string }{
		{phoneA, "2222-2222"},
		{phoneB, step.Data},
		{"nonsense", step.Data},
	} {
		if err := e.p.ConfirmPairing(tc.phone, tc.code); !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("ConfirmPairing(%s, %s) = %v, want ErrBadRequest", tc.phone, tc.code, err)
		}
	}

	type result struct {
		step gateway.LoginStep
		err  error
	}
	done := make(chan result, 1)
	go func() {
		s, err := l.Wait(ctx(t))
		done <- result{s, err}
	}()
	// Case and dashes do not matter.
	typed := regexp.MustCompile(`-`).ReplaceAllString(step.Data, "")
	if err := e.p.ConfirmPairing(phoneA, typed); err != nil {
		t.Fatalf("ConfirmPairing: %v", err)
	}
	r := <-done
	if r.err != nil || r.step.Kind != gateway.StepDone || r.step.Account != phoneA {
		t.Fatalf("Wait = %+v, %v; want StepDone", r.step, r.err)
	}
	// Done is final: Wait says so again.
	if s, err := l.Wait(ctx(t)); err != nil || s.Kind != gateway.StepDone {
		t.Errorf("Wait after done = %+v, %v", s, err)
	}
}

func TestLoginCodeRotation(t *testing.T) {
	e := newEnv(t, map[string]any{"auto_confirm": false, "code_ttl": "5ms"}, sandbox.Options{Seed: 7})
	l := startLogin(t, e)
	step, err := l.Submit(ctx(t), map[string]string{"phone": phoneA})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	seen := map[string]bool{step.Data: true}
	first := step.Data
	for i := 2; i <= sandbox.MaxPairingCodes; i++ {
		step, err = l.Wait(ctx(t))
		if err != nil || step.Kind != gateway.StepCode {
			t.Fatalf("Wait %d = %+v, %v; want the next code", i, step, err)
		}
		if seen[step.Data] {
			t.Fatalf("code %s shown twice", step.Data)
		}
		seen[step.Data] = true
		if code, _ := e.p.PendingPairingCode(phoneA); code != step.Data {
			t.Errorf("PendingPairingCode = %q, want %q", code, step.Data)
		}
	}
	if err := e.p.ConfirmPairing(phoneA, first); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("ConfirmPairing(expired code) = %v, want ErrBadRequest", err)
	}
	if _, err := l.Wait(ctx(t)); !errors.Is(err, sandbox.ErrPairingExpired) {
		t.Fatalf("last Wait = %v, want ErrPairingExpired", err)
	}
	if _, ok := e.p.PendingPairingCode(phoneA); ok {
		t.Error("a code is pending after the login gave up")
	}
	if _, err := l.Wait(ctx(t)); err == nil {
		t.Error("Wait on a failed login succeeded")
	}

	// The same seed gives the same codes; another seed other codes.
	again := newEnv(t, map[string]any{"auto_confirm": false}, sandbox.Options{Seed: 7})
	other := newEnv(t, map[string]any{"auto_confirm": false}, sandbox.Options{Seed: 8})
	s1, _ := startLogin(t, again).Submit(ctx(t), map[string]string{"phone": phoneA})
	s2, _ := startLogin(t, other).Submit(ctx(t), map[string]string{"phone": phoneA})
	if s1.Data != first {
		t.Errorf("same seed: first code %q, want %q", s1.Data, first)
	}
	if s2.Data == first {
		t.Errorf("another seed gave the same code %q", s2.Data)
	}
}

func TestLoginWaitContextAndCancel(t *testing.T) {
	e := newEnv(t, map[string]any{"auto_confirm": false}, sandbox.Options{})
	l := startLogin(t, e)
	step, err := l.Submit(ctx(t), map[string]string{"phone": phoneA})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait(cancelled ctx) = %v", err)
	}
	// The code is still valid after the caller gave up waiting.
	if err := e.p.ConfirmPairing(phoneA, step.Data); err != nil {
		t.Fatalf("ConfirmPairing: %v", err)
	}
	if s, err := l.Wait(ctx(t)); err != nil || s.Kind != gateway.StepDone {
		t.Fatalf("Wait = %+v, %v", s, err)
	}

	l2 := startLogin(t, e)
	if _, err := l2.Submit(ctx(t), map[string]string{"phone": phoneB}); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := l2.Wait(ctx(t))
		errc <- err
	}()
	l2.Cancel()
	l2.Cancel()
	if err := <-errc; !errors.Is(err, sandbox.ErrLoginCancelled) {
		t.Fatalf("Wait after Cancel = %v, want ErrLoginCancelled", err)
	}
	if _, ok := e.p.PendingPairingCode(phoneB); ok {
		t.Error("code still pending after Cancel")
	}
}

func TestNewLoginErrors(t *testing.T) {
	if _, err := sandbox.New(nil).NewLogin(context.Background(), "u@example.org", sandbox.FlowPairingCode); err == nil {
		t.Error("NewLogin before Init succeeded")
	}
	e := newEnv(t, nil, sandbox.Options{})
	if _, err := e.a.NewLogin(ctx(t), "u@example.org", "qr"); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("NewLogin(qr) = %v, want ErrBadRequest", err)
	}
	flows := e.a.LoginFlows()
	if len(flows) != 1 || flows[0].ID != "pairing-code" || flows[0].Name != "Pairing code" {
		t.Errorf("LoginFlows = %+v", flows)
	}
}

func TestLinkHumanNumber(t *testing.T) {
	// A scripted human's number may be linked: the demo can play Alice.
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, string(sandbox.Alice))
	if acct != ids.AccountID(sandbox.Alice) {
		t.Fatalf("account %s", acct)
	}
	s := e.connect(t, acct)
	contacts, err := s.ListContacts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range contacts {
		if c.Sender == sandbox.Alice {
			t.Error("Alice is her own contact")
		}
	}
}
