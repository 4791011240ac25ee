package xmppcomponent

import (
	"context"
	"encoding/xml"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// moderatedNotice is the body of a moderation, for clients without
// XEP-0425.
const moderatedNotice = "/me removed a message for everyone."

// roomModerate handles an XEP-0425 moderation: the owner removes a message
// of the room (named by its stanza-id) for everyone, which the platform
// allows group admins to do for others' messages. Once the platform has
// done it, every joined resource gets the moderated retraction, which the
// room's history keeps too.
func (c *Component) roomModerate(ctx context.Context, iq *stanza.IQ, from jid.JID, owner ids.Owner, chat ids.ChatID, p *xep.Moderate) {
	if p.ID == "" || p.Retract == nil {
		c.replyIQError(ctx, iq, xep.StanzaError{Type: "modify", Condition: "bad-request",
			Text: "A moderation names a message (id) and asks to retract it"})
		return
	}
	if err := c.gw.RetractMessage(ctx, owner, c.cfg.Platform, chat, p.ID); err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.replyIQ(ctx, iq, nil)
	roomJID := c.addr.RoomJID(chat)
	c.muc.with(roomKey{owner, chat}, func(r *room) {
		sid := newID()
		msg := stanza.Message{
			XMLName: xml.Name{Local: "message"},
			Attrs:   stanza.Attrs{Type: stanza.MessageTypeGroupchat, Id: sid, From: roomJID},
			Body:    moderatedNotice,
			Extensions: []stanza.MsgExtension{
				&xep.ModeratedRetract{ID: p.ID, Reason: p.Reason, Moderated: xep.Moderated{
					By:         roomJID + "/" + r.nicks[r.info.Self],
					OccupantID: &xep.OccupantID{ID: occupantID(chat, r.info.Self)},
				}},
				&xep.Fallback{For: xep.NSRetract}, &xep.StoreHint{},
				&xep.StanzaID{ID: sid, By: roomJID},
			},
		}
		r.archive(archived{id: sid, at: time.Now(), msg: msg, sender: r.info.Self}, c.roomHistory())
		sendAll(ctx, c.plain(), fanOut(msg, r.resources()))
	})
}
