package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// onRoomMessage handles a message to a room: a mediated invitation, a
// subject change, or a groupchat message (text, correction, retraction,
// reaction, reply, file) for the group, reflected to the owner's
// resources in the room with the room's stanza-id.
//
// done and replayed are handleMessage's (message.go).
func (c *Component) onRoomMessage(ctx context.Context, m stanza.Message, from, to jid.JID, replayed bool, done func()) {
	defer func() {
		if done != nil && ctx.Err() == nil {
			done()
		}
	}()
	owner := Owner(from)
	chat, _ := c.addr.RoomOf(to)
	if to.Resourcepart() != "" {
		c.replyMessageError(ctx, m, xep.StanzaError{Type: "cancel", Condition: "feature-not-implemented",
			Text: "Private messages in rooms are not supported; write to the member's own address"})
		return
	}
	if isVoiceRequest(m) {
		c.replyMessageError(ctx, m, errNoVoiceRequests) // muc_voice.go
		return
	}
	for _, ext := range m.Extensions {
		if x, ok := ext.(*xep.MUCUser); ok && len(x.Invite) > 0 {
			c.mediatedInvite(ctx, owner, chat, m, x.Invite)
			return
		}
	}
	joined := false
	c.muc.with(roomKey{owner, chat}, func(r *room) { joined = r.joined[from.String()] })
	if !joined || m.Type != stanza.MessageTypeGroupchat {
		c.replyMessageError(ctx, m, xep.StanzaError{Type: "modify", Condition: "not-acceptable",
			Text: "Join the room before writing to it, and write groupchat messages"})
		return
	}
	var readOnly bool
	c.muc.with(roomKey{owner, chat}, func(r *room) { readOnly = r.loaded && !r.info.MayWrite() })
	if ephemeralOnly(m) {
		// Typing and read markers, also a visitor's (muc_ephemeral.go).
		if err := c.runInChat(ctx, owner, chat, false, &done, func(ctx context.Context) { c.onRoomEphemeral(ctx, owner, chat, m, readOnly) }); err != nil {
			c.logErr("room chat state or marker not queued", owner, err)
		}
		return
	}
	if readOnly {
		c.replyMessageError(ctx, m, xep.StanzaError{Type: "auth", Condition: "forbidden",
			Text: "This room is read-only: only the group's admins may write in it (you are a visitor)"})
		return
	}
	if m.Subject != "" && m.Body == "" {
		if err := c.gw.SetGroupTopic(ctx, owner, c.cfg.Platform, chat, m.Subject); err != nil {
			c.logErr("set room subject", owner, err)
			c.replyMessageError(ctx, m, mapErr(err))
		}
		return // the platform's ChatInfo brings the new subject to everyone
	}
	slow := len(parseInbound(m).oob) > 0 // as onMessage (chatqueue.go)
	if err := c.runInChat(ctx, owner, chat, slow, &done, func(ctx context.Context) { c.onGroupMessage(ctx, owner, chat, m, replayed) }); err != nil {
		c.logErr("message not queued", owner, err)
		c.replyMessageError(ctx, m, mapErr(err))
	}
}

// onGroupMessage sends a groupchat message to the group and reflects it,
// in the room's order.
func (c *Component) onGroupMessage(ctx context.Context, owner ids.Owner, chat ids.ChatID, m stanza.Message, replayed bool) {
	in := parseInbound(m)
	id, err := c.relayID(ctx, owner, chat, m, replayed)
	queued := errors.Is(err, gateway.ErrQueued) // accepted; SendFailed answers if it is given up (queued.go)
	if err != nil && !queued {
		c.logErr("send to group", owner, err)
		c.replyMessageError(ctx, m, mapErr(err))
		return
	}
	if !queued && id == "" && in.retract == "" && in.reactions == nil && in.replace == "" {
		return // markers and chat states only
	}
	sid := string(id)
	if sid == "" {
		sid = newID()
	}
	c.reflect(ctx, owner, chat, m, sid)
}

// reflect sends the owner's message back to each of their resources in
// the room, as MUC requires, with the client's id and the room's
// stanza-id, and keeps it in the room's history.
func (c *Component) reflect(ctx context.Context, owner ids.Owner, chat ids.ChatID, m stanza.Message, sid string) {
	roomJID := c.addr.RoomJID(chat)
	c.muc.with(roomKey{owner, chat}, func(r *room) {
		base := stanza.Message{
			XMLName: xml.Name{Local: "message"},
			Attrs:   stanza.Attrs{Type: stanza.MessageTypeGroupchat, Id: m.Id, From: roomJID + "/" + r.nicks[r.info.Self]},
			Body:    m.Body,
		}
		for _, ext := range m.Extensions {
			switch ext.(type) {
			case *xep.OriginID, *xep.Replace, *xep.Retract, *xep.ApplyTo, *xep.Reactions, *xep.Reply,
				*xep.Fallback, *stanza.OOB, *xep.StoreHint, *xep.Reference:
				base.Extensions = append(base.Extensions, ext)
			}
		}
		base.Extensions = append(base.Extensions, &xep.StanzaID{ID: sid, By: roomJID},
			&xep.OccupantID{ID: occupantID(chat, r.info.Self)})
		r.archive(archived{id: sid, at: time.Now(), msg: base, sender: r.info.Self}, c.roomHistory())
		sendAll(ctx, c.plain(), fanOut(base, r.resources()))
	})
}

// fanOut copies msg to each of the full JIDs.
func fanOut(msg stanza.Message, to []string) []*stanza.Message {
	out := make([]*stanza.Message, 0, len(to))
	for _, j := range to {
		cp := msg
		cp.To = j
		cp.Extensions = append([]stanza.MsgExtension(nil), msg.Extensions...)
		out = append(out, &cp)
	}
	return out
}

// mediatedInvite adds the invitees to the group (XEP-0045 §7.8.2): a
// contact JID of the gateway names a platform user; another XMPP address
// names the account its owner linked.
func (c *Component) mediatedInvite(ctx context.Context, owner ids.Owner, chat ids.ChatID, m stanza.Message, invites []xep.MUCInvite) {
	for _, inv := range invites {
		user, err := c.platformUserOf(ctx, inv.To)
		if err == nil {
			err = c.gw.InviteMember(ctx, owner, c.cfg.Platform, chat, user)
		}
		if err != nil {
			c.logErr("invite to group", owner, err)
			c.replyMessageError(ctx, m, mapErr(err))
			return
		}
	}
}

// platformUserOf turns an invitee's JID into a platform user. Only contact
// JIDs of this gateway qualify: resolving another XMPP user's JID to the
// account they linked would reveal who linked which number, and would let
// anyone put them in a group without their consent.
func (c *Component) platformUserOf(_ context.Context, addr string) (ids.UserID, error) {
	j, err := jid.Parse(addr)
	if err != nil {
		return "", fmt.Errorf("bad JID %q: %w", addr, gateway.ErrBadRequest)
	}
	user, err := c.addr.UserOf(j)
	if err != nil {
		return "", fmt.Errorf("invite %s contacts by their address on %s (for example +15550001111@%s): %w", c.info.Name, c.domain, c.domain, gateway.ErrBadRequest)
	}
	return user, nil
}

// onDirectInvite handles an XEP-0249 invitation the owner sends to a
// contact: the contact is added to the group of the room. It reports
// whether m was one.
func (c *Component) onDirectInvite(ctx context.Context, owner ids.Owner, user ids.UserID, m stanza.Message) bool {
	for _, ext := range m.Extensions {
		inv, ok := ext.(*xep.DirectInvite)
		if !ok {
			continue
		}
		j, err := jid.Parse(inv.JID)
		chat, isRoom := c.addr.RoomOf(j)
		if err != nil || !isRoom {
			c.replyMessageError(ctx, m, errItemNotFound("only rooms of this gateway can be joined by its contacts"))
			return true
		}
		if err := c.gw.InviteMember(ctx, owner, c.cfg.Platform, chat, user); err != nil {
			c.logErr("direct invite", owner, err)
			c.replyMessageError(ctx, m, mapErr(err))
		}
		return true
	}
	return false
}

// sendInvite invites the owner to a room, once per run: a mediated
// invitation (XEP-0045 §7.8.2) from the room that names who invited them,
// by the contact JID of the member who added the account to the group
// (the owner's own JID when they did it themselves, the gateway's
// when nobody did: the account was in the group already). Like the
// invitations MUC services send, it also carries the room as an XEP-0249
// payload and a body, for clients that understand only those.
func (c *Component) sendInvite(ctx context.Context, owner ids.Owner, chat ids.ChatID, name string, by inviter) {
	send := false
	who := ""
	c.muc.with(roomKey{owner, chat}, func(r *room) {
		send = !r.invited && len(r.joined) == 0
		r.invited = true
		who = r.nicks[by.user]
	})
	if !send {
		return
	}
	if who == "" && by.user != "" && !by.self {
		// Not a member the room knows yet: the contact's name, or number.
		who = string(by.user)
		if ct, err := c.gw.Contact(ctx, owner, c.cfg.Platform, by.user); err == nil && ct.Name != "" {
			who = ct.Name
		}
	}
	group := fmt.Sprintf("the %s group %q", c.info.Name, name)
	from, reason := c.domain, "You are a member of "+group
	switch {
	case by.self:
		from, reason = string(owner), "You joined "+group
	case by.user != "":
		from, reason = c.addr.UserJID(by.user), who+" added you to "+group
	}
	roomJID := c.addr.RoomJID(chat)
	c.send(ctx, &stanza.Message{
		XMLName: xml.Name{Local: "message"},
		Attrs:   stanza.Attrs{From: roomJID, To: string(owner), Id: newID()},
		Body:    reason + ": join " + roomJID,
		Extensions: []stanza.MsgExtension{
			&xep.MUCUser{Invite: []xep.MUCInvite{{From: from, Reason: reason}}},
			&xep.DirectInvite{JID: roomJID, Reason: reason},
		},
	})
}

// inviter is who brought the account into a group: a member, or the
// owner (self); neither when the platform does not say.
type inviter struct {
	user ids.UserID
	self bool
}

// inviterOf is the inviter an event names: its sender.
func inviterOf(m *event.Meta) inviter {
	return inviter{user: m.Sender, self: m.FromMe}
}

// groupListTimeout bounds the group listing that follows a connection.
const groupListTimeout = 30 * time.Second

// inviteToGroups invites the owner to the room of every group of their
// account once it is connected (the rooms then appear in their client
// without bookmarks), each once per run. The listing runs on its own
// goroutine so that the adapter's event stream does not wait for it.
func (c *Component) inviteToGroups(ctx context.Context, owner ids.Owner, e *event.AccountState) {
	if e.State != event.StateConnected || !c.gw.HasGroups(owner, c.cfg.Platform) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupListTimeout)
	go func() {
		defer cancel()
		groups, err := c.gw.Groups(ctx, owner, c.cfg.Platform)
		if err != nil {
			c.logErr("list groups", owner, err)
			return
		}
		for _, g := range groups {
			c.sendInvite(ctx, owner, g.Chat, roomName(g), inviter{})
		}
	}()
}
