package sandbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Errors a person causes carry a sentence for them (gateway.Explained):
// no "sandbox:" prefix, no jargon, and what to type instead.
func TestPhoneErrorsSayWhatToType(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice is not a phone number: write + then the country code and the number, e.g. +15551234567."},
		{"555", "555 is not a phone number: write + then the country code and the number, e.g. +15551234567."},
		{"1 555 123 4567", "1 555 123 4567 needs a + and the country code in front: if it starts with the country code already, write +15551234567."},
		{" ", "A phone number is needed: write + then the country code and the number, e.g. +15551234567."},
	} {
		_, err := sandbox.NormalizePhone(tc.in)
		if !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("NormalizePhone(%q) = %v, want ErrBadRequest", tc.in, err)
		}
		if got, ok := gateway.ExplainedText(err); !ok || got != tc.want {
			t.Errorf("NormalizePhone(%q) says %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A number without its leading + is taken where it is unambiguous — the
// number of a user of the platform — when linking and when looking a
// contact up; otherwise the error says exactly what to type.
func TestPhoneWithoutPlus(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{Seed: 1})
	bare := strings.TrimPrefix(string(sandbox.Alice), "+")

	l, err := e.a.NewLogin(ctx(t), "user@example.org", sandbox.FlowPairingCode)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Cancel()
	if _, err := l.Start(ctx(t)); err != nil {
		t.Fatal(err)
	}
	_, err = l.Submit(ctx(t), map[string]string{sandbox.FieldPhone: "15550009876"})
	if text, _ := gateway.ExplainedText(err); !errors.Is(err, gateway.ErrBadRequest) || !strings.Contains(text, "write +15550009876") {
		t.Errorf("an unknown number without +: %v (%q), want ErrBadRequest saying to write +15550009876", err, text)
	}
	step, err := l.Submit(ctx(t), map[string]string{sandbox.FieldPhone: bare})
	if err != nil || step.Kind != gateway.StepCode || !strings.Contains(step.Instructions, string(sandbox.Alice)) {
		t.Fatalf("a known number without +: %+v, %v; want a pairing code for %s", step, err, sandbox.Alice)
	}
	if strings.Contains(step.Instructions, step.Data) {
		t.Errorf("the instructions repeat the code %s: %q", step.Data, step.Instructions)
	}

	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	if u, err := s.ResolveUser(ctx(t), bare); err != nil || u != sandbox.Alice {
		t.Errorf("ResolveUser(%q) = %q, %v; want %s", bare, u, err, sandbox.Alice)
	}
	_, err = s.ResolveUser(ctx(t), "+15550009876")
	if text, _ := gateway.ExplainedText(err); !errors.Is(err, gateway.ErrUnknownChat) || text != "Nobody uses +15550009876 on the sandbox." {
		t.Errorf("ResolveUser of nobody: %v (%q)", err, text)
	}

	// Writing to a contact address without the +: what to write instead.
	for _, tc := range []struct {
		chat ids.ChatID
		want string
	}{
		{ids.ChatID(bare), bare + " needs a + in front: write to " + string(sandbox.Alice) + " instead."},
		{"alice", "alice is not a phone number: write to + then the country code and the number, e.g. +15551234567."},
		{"+15550009876", "Nobody uses +15550009876 on the sandbox."},
	} {
		_, err := s.SendMessage(ctx(t), &event.Message{Meta: event.Meta{Account: acct, Chat: tc.chat}, Body: "hi"})
		if text, _ := gateway.ExplainedText(err); !errors.Is(err, gateway.ErrUnknownChat) || text != tc.want {
			t.Errorf("send to %s: %v (%q), want ErrUnknownChat saying %q", tc.chat, err, text, tc.want)
		}
	}
}
