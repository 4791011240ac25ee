package xmppcomponent

import (
	"context"
	"encoding/xml"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
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

// ephemeralOnly reports whether a message to a room carries chat states
// or chat markers and nothing else (no body, subject, correction,
// retraction, reaction, file or invitation).
func ephemeralOnly(m stanza.Message) bool {
	if m.Body != "" || m.Subject != "" {
		return false
	}
	found := false
	for _, ext := range m.Extensions {
		switch ext.(type) {
		case *stanza.StateActive, *stanza.StateComposing, *stanza.StatePaused, *stanza.StateInactive, *stanza.StateGone,
			*stanza.MarkDisplayed, *stanza.MarkReceived, *stanza.MarkAcknowledged:
			found = true
		case *xep.Retract, *xep.Reactions, *xep.Replace, *xep.ApplyTo, *stanza.OOB, *xep.MUCUser:
			return false
		}
	}
	return found
}

// onRoomEphemeral forwards the owner's chat state and displayed markers
// in a room to the group: a displayed marker names the room's stanza-id,
// which is the platform's message id. Received markers are not sent in
// rooms (XEP-0333 §5) and are not forwarded. In a read-only room
// (readOnly: the owner is a visitor) only displayed markers go: reading a
// channel is allowed, typing in it is not. Like onMarkers, nothing is
// answered: a platform that cannot take them does not get them.
func (c *Component) onRoomEphemeral(ctx context.Context, owner ids.Owner, chat ids.ChatID, m stanza.Message, readOnly bool) {
	var displayed []string
	var state event.ChatStateKind
	for _, ext := range m.Extensions {
		switch e := ext.(type) {
		case *stanza.MarkDisplayed:
			displayed = append(displayed, e.ID)
		default:
			if s := chatStateOf(ext); s != "" {
				state = s
			}
		}
	}
	if len(displayed) > 0 {
		if err := c.gw.SendReceipt(ctx, owner, c.cfg.Platform, chat, event.Displayed, displayed); err != nil {
			c.logErr("room displayed marker", owner, err)
		}
	}
	if state == "" {
		return
	}
	if readOnly {
		c.log.Debug("chat state in a read-only room not forwarded", "owner", owner, "chat", chat, "state", state)
		return
	}
	if err := c.gw.SendChatState(ctx, owner, c.cfg.Platform, chat, state); err != nil {
		c.logErr("room chat state", owner, err)
	}
}
