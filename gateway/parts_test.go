package gateway_test

import (
	"slices"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// A platform message shown as several stanzas (its text and its files)
// gets a part id per stanza (ids.PartID); whatever the user does to any
// part reaches the platform on the message itself.
func TestPartIDsNameTheirMessage(t *testing.T) {
	h := newHub(t, openStore(t), true)
	const owner = ids.Owner("alice@example.test")
	const phone = "+15557654321"
	h.link(t, owner, phone)
	ctx := t.Context()
	bob := sandbox.Bob
	id, err := h.platform.SendFileAs(ctx, bob, phone, "cat.png", "image/png", []byte("not really a png"))
	if err != nil {
		t.Fatal(err)
	}
	h.fe.wait(t, owner, 1, func(ev event.Event) bool { return ev.EventMeta().ID == id })
	chat := ids.ChatID(bob)
	part := string(ids.PartID(id, 1))

	if err := h.gw.React(ctx, owner, sb, chat, part, []string{"👍"}); err != nil {
		t.Fatalf("React on %s: %v", part, err)
	}
	if m, ok := h.platform.MessageByID(id); !ok || !slices.Equal(m.Reactions[ids.UserID(phone)], []string{"👍"}) {
		t.Errorf("reaction on part %s: platform's message %s = %+v, %v", part, id, m, ok)
	}
	if err := h.gw.SendReceipt(ctx, owner, sb, chat, event.Displayed, []string{string(id), part}); err != nil {
		t.Fatalf("SendReceipt: %v", err)
	}
	rs := h.platform.Receipts(phone)
	if len(rs) == 0 || !slices.Equal(rs[len(rs)-1].Targets, []ids.MessageID{id}) {
		t.Errorf("displayed on the message and its part: receipts %+v, want one target %s", rs, id)
	}
	if _, err := h.gw.SendMessage(ctx, owner, sb, &event.Message{Meta: event.Meta{Chat: chat}, Body: "nice", ReplyTo: ids.MessageID(part)}, gateway.SendOptions{XMPPIDs: []string{"x-reply"}}); err != nil {
		t.Fatalf("reply to %s: %v", part, err)
	}
	got := h.platform.Received(bob)
	if len(got) == 0 || got[len(got)-1].ReplyTo != id {
		t.Errorf("reply to part %s: bob received %+v, want a reply to %s", part, got, id)
	}
}
