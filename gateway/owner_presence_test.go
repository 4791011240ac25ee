package gateway_test

import (
	"errors"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestSetOwnerPresence: without a session the owner's presence is refused
// as not linked; a session that does not follow it (the sandbox) takes it
// as a no-op.
func TestSetOwnerPresence(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	if err := h.gw.SetOwnerPresence(ctx, owner, sb, true); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("SetOwnerPresence without a session = %v, want ErrNotLinked", err)
	}
	h.link(t, owner, "+15557654321")
	for _, on := range []bool{true, false} {
		if err := h.gw.SetOwnerPresence(ctx, owner, sb, on); err != nil {
			t.Errorf("SetOwnerPresence(%v) = %v", on, err)
		}
	}
}
