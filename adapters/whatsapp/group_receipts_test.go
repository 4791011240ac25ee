package whatsapp_test

import (
	"testing"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestGroupReceiptsAndTyping: a member's read receipt of the owner's
// message and a member's typing in a group reach the hub as events of the
// group's room (Meta.Group), from the member; the owner's own typing and
// receipts in the group do not.
func TestGroupReceiptsAndTyping(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.connected()
	member := wt.Msg{Chat: groupJID, Sender: alice}.Source()
	own := wt.Msg{Chat: groupJID, Sender: wt.PN(ownerPhone), FromMe: true}.Source()
	for _, evt := range []any{
		&events.Receipt{MessageSource: own, MessageIDs: []types.MessageID{"G0"}, Timestamp: when, Type: types.ReceiptTypeRead},
		&events.ChatPresence{MessageSource: own, State: types.ChatPresenceComposing},
		&events.Receipt{MessageSource: member, MessageIDs: []types.MessageID{"3EB0G1"}, Timestamp: when, Type: types.ReceiptTypeRead},
		&events.ChatPresence{MessageSource: member, State: types.ChatPresenceComposing},
	} {
		if !c.Dispatch(evt) {
			t.Fatalf("%T not acknowledged", evt)
		}
	}
	evs := e.h.WaitEvents(t, 2, func(ev event.Event) bool {
		return gatewaytest.Is[*event.Receipt](ev) || gatewaytest.Is[*event.ChatState](ev)
	})
	if len(evs) != 2 {
		t.Fatalf("got %d events, want the member's receipt and typing: %v", len(evs), evs)
	}
	r, ok := evs[0].(*event.Receipt)
	if !ok || r.Chat != groupChat || !r.Group || r.Sender != ids.UserID(alicePhone) || r.Kind != event.Displayed ||
		len(r.Targets) != 1 || r.Targets[0] != "me:3EB0G1" {
		t.Errorf("first event = %s %+v; want alice's displayed receipt of me:3EB0G1 in %s", gatewaytest.Describe(evs[0]), evs[0], groupChat)
	}
	cs, ok := evs[1].(*event.ChatState)
	if !ok || cs.Chat != groupChat || !cs.Group || cs.Sender != ids.UserID(alicePhone) || cs.State != event.Composing {
		t.Errorf("second event = %s %+v; want alice composing in %s", gatewaytest.Describe(evs[1]), evs[1], groupChat)
	}
}
