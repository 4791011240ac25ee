package xmppcomponent

import (
	"context"
	"encoding/xml"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// roomEphemeral sends a stanza without body (a chat state, a marker) from
// the sender's occupant JID to the owner's resources in the room. It is
// not archived and not stored (XEP-0334 no-store): it matters only now.
// Nobody in the room: nothing to do.
func (c *Component) roomEphemeral(ctx context.Context, out deliverySender, key roomKey, m *event.Meta, exts ...stanza.MsgExtension) error {
	roomJID := c.addr.RoomJID(key.chat)
	c.muc.with(key, func(r *room) {
		to := r.resources()
		if len(to) == 0 {
			return
		}
		s := stanza.Message{
			XMLName:    xml.Name{Local: "message"},
			Attrs:      stanza.Attrs{Type: stanza.MessageTypeGroupchat, Id: newID(), From: roomJID + "/" + r.nickOf(m.Sender, "")},
			Extensions: append(exts, &xep.OccupantID{ID: occupantID(key.chat, m.Sender)}, &xep.NoStore{}),
		}
		sendAll(ctx, out, fanOut(s, to))
	})
	return nil
}

// roomReceipt shows a member's read receipt as a displayed marker
// (XEP-0333) of each message, named by the stanza-id the room gave it, as
// markers in rooms are. Delivery receipts are not shown in rooms: every
// member's phone sends one for every message, and XEP-0184 is not for
// groupchat.
func (c *Component) roomReceipt(ctx context.Context, out deliverySender, key roomKey, e *event.Receipt) error {
	if e.Kind != event.Displayed {
		return nil
	}
	var exts []stanza.MsgExtension
	for _, target := range e.Targets {
		exts = append(exts, &stanza.MarkDisplayed{ID: string(target)})
	}
	if len(exts) == 0 {
		return nil
	}
	// One stanza per message: a marker names one id.
	for _, x := range exts {
		if err := c.roomEphemeral(ctx, out, key, &e.Meta, x); err != nil {
			return err
		}
	}
	return nil
}
