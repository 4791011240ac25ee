package gateway_test

import (
	"slices"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestGroupReceiptNamesPlatformID: a member's read receipt of the owner's
// group message reaches the frontend naming the platform's id, which the
// room gave the message as its stanza-id (markers in rooms name it), not
// the id the owner's client chose; in a one-to-one chat the client's id
// is named as before.
func TestGroupReceiptNamesPlatformID(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	const phone = "+15557654321"
	h.link(t, owner, phone)
	if err := h.platform.AddMember(sandbox.Alice, sandbox.Lounge, phone); err != nil {
		t.Fatal(err)
	}
	sent, err := h.gw.SendMessage(ctx, owner, sb, &event.Message{Meta: event.Meta{Chat: sandbox.Lounge}, Body: "hi group"},
		gateway.SendOptions{XMPPIDs: []string{"x-group"}})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := h.gw.SendMessage(ctx, owner, sb, &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.Bob)}, Body: "hi bob"},
		gateway.SendOptions{XMPPIDs: []string{"x-direct"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.platform.SendGroupReceipt(ctx, sandbox.Bob, sandbox.Lounge, phone, event.Displayed, sent); err != nil {
		t.Fatal(err)
	}
	if err := h.platform.SendReceipt(ctx, sandbox.Bob, phone, event.Displayed, direct); err != nil {
		t.Fatal(err)
	}
	displayed := func(chat ids.ChatID) func(event.Event) bool {
		return func(ev event.Event) bool {
			r, ok := ev.(*event.Receipt)
			return ok && r.Kind == event.Displayed && r.Chat == chat
		}
	}
	g := h.fe.wait(t, owner, 1, displayed(sandbox.Lounge))[0].(*event.Receipt)
	if !slices.Equal(g.Targets, []ids.MessageID{sent}) || !g.Group {
		t.Errorf("group receipt targets %v (group %v), want the platform id %s", g.Targets, g.Group, sent)
	}
	d := h.fe.wait(t, owner, 1, displayed(ids.ChatID(sandbox.Bob)))[0].(*event.Receipt)
	if !slices.Equal(d.Targets, []ids.MessageID{"x-direct"}) {
		t.Errorf("direct receipt targets %v, want the client's id x-direct", d.Targets)
	}
}
