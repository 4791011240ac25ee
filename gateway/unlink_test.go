package gateway_test

import (
	"errors"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// unlinked matches the event that tells the frontend an account was
// unlinked.
func unlinked(account ids.AccountID, detail string) func(event.Event) bool {
	return func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateUnlinked && s.Account == account && s.Detail == detail
	}
}

// The frontend learns of every unlink, whoever asked for it (a command,
// the management API, a new link replacing the old one, unregistering),
// so that the account's contacts and rooms leave the owner's client.
func TestUnlinkTellsTheFrontend(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")

	h.link(t, owner, "+15557654321")
	if err := h.gw.Unlink(ctx, owner, sb); err != nil {
		t.Fatal(err)
	}
	h.fe.wait(t, owner, 1, unlinked("+15557654321", ""))

	// A failed unlink says nothing.
	if err := h.gw.Unlink(ctx, owner, sb); !errors.Is(err, gateway.ErrNotLinked) {
		t.Fatalf("second unlink: %v, want ErrNotLinked", err)
	}
	if n := h.fe.count(owner, func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateUnlinked
	}); n != 1 {
		t.Errorf("%d unlinked events after a failed unlink, want 1", n)
	}

	// Linking another account replaces the first one.
	h.link(t, owner, "+15557654322")
	h.link(t, owner, "+15557654323")
	h.fe.wait(t, owner, 1, unlinked("+15557654322", "replaced by +15557654323"))

	// So does unregistering.
	if err := h.gw.Unregister(ctx, owner, sb); err != nil {
		t.Fatal(err)
	}
	h.fe.wait(t, owner, 1, unlinked("+15557654323", "you cancelled your registration with the gateway"))
}

// An Explained error shows its sentence for people and keeps its
// sentinel under any wrapping.
func TestExplainedErrors(t *testing.T) {
	err := gateway.Explain("alice is not a phone number: write it as +15551234567", errors.Join(errors.New("sandbox: no contact"), gateway.ErrUnknownChat))
	wrapped := errors.Join(errors.New("context"), err)
	if text, ok := gateway.ExplainedText(wrapped); !ok || text != "alice is not a phone number: write it as +15551234567" {
		t.Errorf("ExplainedText = %q, %v", text, ok)
	}
	if !errors.Is(wrapped, gateway.ErrUnknownChat) {
		t.Error("the sentinel is lost")
	}
	if _, ok := gateway.ExplainedText(gateway.ErrUnknownChat); ok {
		t.Error("a plain error has a text for people")
	}
}
