package xmppcomponent

import (
	"context"
	"encoding/xml"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// deliverGroup turns an event of a platform group into stanzas of its room
// for the owner's resources in it. Messages are kept in the room's history
// even when no resource is in the room; then the owner is invited once.
// Typing and read markers are shown in the room, to the resources in it,
// and not archived (muc_ephemeral.go).
func (c *Component) deliverGroup(ctx context.Context, out deliverySender, owner ids.Owner, ev event.Event) error {
	m := ev.EventMeta()
	key := roomKey{owner, m.Chat}
	roomJID := c.addr.RoomJID(m.Chat)
	switch e := ev.(type) {
	case *event.Message:
		c.ensureRoom(ctx, owner, m.Chat)
		stanzas := c.messageStanzas(ctx, owner, gateway.Capabilities{}, e) // receipts and markers are not asked for in rooms
		c.parts.note(owner, e.Chat, e.ID, len(stanzas))
		var msgs []*stanza.Message
		var name string
		idle := false
		c.muc.with(key, func(r *room) {
			from := roomJID + "/" + r.nickOf(m.Sender, "")
			for _, s := range stanzas {
				sid := s.Id // the message's (part) id, or a random one
				msgs = append(msgs, c.roomMessage(r, owner, roomJID, from, m, *s, sid)...)
			}
			if e.History {
				// Kept in the archive only: members see it when they
				// join or page back, without a notification each.
				msgs = nil
				return
			}
			name, idle = roomName(r.info), len(r.joined) == 0
			sendAll(ctx, out, msgs)
		})
		if idle {
			c.sendInvite(ctx, owner, m.Chat, name, inviter{})
		}
		return nil
	case *event.Edit:
		body, files := c.editContent(ctx, owner, e) // edit_files.go
		return c.roomChange(ctx, out, key, m, body, append([]stanza.MsgExtension{&xep.Replace{ID: string(e.Target)}}, files...)...)
	case *event.Retract:
		for i, target := range c.parts.of(owner, m.Chat, e.Target) {
			body, exts := retractedNotice, []stanza.MsgExtension{&xep.Retract{ID: string(target)}, &xep.Fallback{For: xep.NSRetract}, &xep.StoreHint{}}
			if i > 0 { // one notice for clients without retractions
				body, exts = "", []stanza.MsgExtension{&xep.Retract{ID: string(target)}, &xep.StoreHint{}}
			}
			if err := c.roomChange(ctx, out, key, m, body, exts...); err != nil {
				return err
			}
		}
		return nil
	case *event.Reaction:
		return c.roomChange(ctx, out, key, m, "", &xep.Reactions{ID: string(e.Target), Reactions: e.Emojis}, &xep.StoreHint{})
	case *event.MembershipChange:
		c.membershipChanged(ctx, owner, e)
		return nil
	case *event.ChatInfo:
		c.groupInfoChanged(ctx, owner, e)
		return nil
	case *event.ChatState:
		return c.roomEphemeral(ctx, out, key, m, chatStateExt(e.State))
	case *event.Receipt:
		return c.roomReceipt(ctx, out, key, e) // muc_ephemeral.go
	}
	return nil
}

// roomMessage makes a platform message stanza of event m a groupchat
// message of the room from `from`, archives it (stamped with the time the
// platform gives, XEP-0203) and fans it out to the joined resources.
// The caller holds c.muc.mu.
func (c *Component) roomMessage(r *room, owner ids.Owner, roomJID, from string, m *event.Meta, s stanza.Message, sid string) []*stanza.Message {
	s.Type, s.From, s.To = stanza.MessageTypeGroupchat, from, ""
	exts := s.Extensions[:0:0]
	for _, ext := range s.Extensions {
		switch x := ext.(type) {
		case *stanza.ReceiptRequest, *stanza.Markable:
			continue // not in rooms
		case *xep.Reply:
			// The author's occupant JID; none when the platform did not
			// say who wrote the message (the chat's JID stands there).
			to := x.To
			if u, ok := r.userOfJID(c, owner, x.To); ok {
				to = roomJID + "/" + r.nickOf(u, "")
			} else if to == c.addr.ChatJID(r.info.Chat) {
				to = ""
			}
			ext = &xep.Reply{To: to, ID: x.ID}
		case *xep.Reference:
			// Mentions in a room point at the member's occupant JID.
			if u, ok := r.userOfJID(c, owner, strings.TrimPrefix(x.URI, "xmpp:")); ok {
				ref := *x
				ref.URI = "xmpp:" + roomJID + "/" + r.nickOf(u, "")
				ext = &ref
			}
		}
		exts = append(exts, ext)
	}
	s.Extensions = append(exts, &xep.StanzaID{ID: sid, By: roomJID}, &xep.OccupantID{ID: occupantID(r.info.Chat, m.Sender)})
	at := m.Time
	if at.IsZero() {
		at = time.Now()
	}
	r.archive(archived{id: sid, at: at, msg: s, sender: m.Sender}, c.roomHistory())
	return fanOut(s, r.resources())
}

// userOfJID returns the member a contact JID (or the owner's JID) stands
// for.
func (r *room) userOfJID(c *Component, owner ids.Owner, j string) (ids.UserID, bool) {
	if j == string(owner) && r.info.Self != "" {
		return r.info.Self, true
	}
	for _, mem := range r.info.Members {
		if c.addr.UserJID(mem.User) == j {
			return mem.User, true
		}
	}
	return "", false
}

// roomChange delivers a correction, retraction or reaction in a room.
func (c *Component) roomChange(ctx context.Context, out deliverySender, key roomKey, m *event.Meta, body string, exts ...stanza.MsgExtension) error {
	c.ensureRoom(ctx, key.owner, key.chat)
	roomJID := c.addr.RoomJID(key.chat)
	var msgs []*stanza.Message
	c.muc.with(key, func(r *room) {
		s := stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: stanza.Attrs{Id: newID()}, Body: body, Extensions: exts}
		msgs = c.roomMessage(r, key.owner, roomJID, roomJID+"/"+r.nickOf(m.Sender, ""), m, s, s.Id)
		sendAll(ctx, out, msgs)
	})
	return nil
}

// ensureRoom loads the group's members once, for nicks and roles.
func (c *Component) ensureRoom(ctx context.Context, owner ids.Owner, chat ids.ChatID) {
	loaded := false
	c.muc.with(roomKey{owner, chat}, func(r *room) { loaded = r.loaded })
	if loaded {
		return
	}
	c.refreshRoom(ctx, owner, chat)
}

// refreshRoom reads the group again from the platform.
func (c *Component) refreshRoom(ctx context.Context, owner ids.Owner, chat ids.ChatID) (gateway.GroupInfo, bool) {
	gi, err := c.gw.GroupInfo(ctx, owner, c.cfg.Platform, chat)
	if err != nil {
		c.logErr("read group", owner, err)
		return gi, false
	}
	c.muc.with(roomKey{owner, chat}, func(r *room) { r.setInfo(gi) })
	return gi, true
}

// membershipChanged shows a join, departure, kick, promotion or demotion
// as occupant presence; the owner's own departure ends their room
// sessions, their own arrival brings an invitation.
func (c *Component) membershipChanged(ctx context.Context, owner ids.Owner, e *event.MembershipChange) {
	key := roomKey{owner, e.Chat}
	roomJID := c.addr.RoomJID(e.Chat)
	var self ids.UserID
	var old gateway.GroupMember
	var name string
	loaded := false
	c.muc.with(key, func(r *room) {
		self, loaded = r.info.Self, r.loaded
		old, _ = r.info.Member(e.User)
		name = roomName(r.info)
	})
	// A room not loaded (never used, or the owner left the group) does not
	// know the account's own user in the group: the platform says, or the
	// account id stands for it.
	var gi gateway.GroupInfo
	ok := false
	if !loaded {
		self = ids.UserID(e.Account)
		if gi, ok = c.refreshRoom(ctx, owner, e.Chat); ok && gi.Self != "" {
			self = gi.Self
		}
	}
	gone := e.Action == event.Kicked || e.Action == event.Left
	if e.User == self && gone {
		var out []stanza.Packet
		c.muc.with(key, func(r *room) {
			for _, full := range r.resources() {
				codes := []int{statusNotMember}
				if e.Action == event.Kicked {
					codes = []int{statusKicked}
				}
				out = append(out, c.selfGone(roomJID, r, full, codes...))
			}
			r.joined, r.loaded, r.invited = map[string]bool{}, false, false
			sendAll(ctx, c.plain(), out)
		})
		return
	}
	if loaded {
		gi, ok = c.refreshRoom(ctx, owner, e.Chat)
	}
	if e.User == self && e.Action == event.Joined {
		if ok {
			name = roomName(gi)
		}
		c.sendInvite(ctx, owner, e.Chat, name, inviterOf(&e.Meta))
		return
	}
	if !ok {
		return
	}
	var out []stanza.Packet
	c.muc.with(key, func(r *room) {
		for _, full := range r.resources() {
			mem, member := gi.Member(e.User)
			switch {
			case gone:
				if old.User == "" {
					old = gateway.GroupMember{User: e.User, Role: gateway.RoleMember}
				}
				p := c.occupantPresence(roomJID, r, old, full, true)
				x := mucUserOf(p)
				x.Items[0].Affiliation = "none"
				if e.Action == event.Kicked {
					x.Status = append(x.Status, xep.MUCStatus{Code: statusKicked})
				}
				out = append(out, p)
			case member && e.User == self:
				p := c.occupantPresence(roomJID, r, mem, full, false)
				x := mucUserOf(p)
				x.Items[0].JID = full
				x.Status = append(x.Status, xep.MUCStatus{Code: statusSelf})
				out = append(out, p)
			case member:
				out = append(out, c.occupantPresence(roomJID, r, mem, full, false))
			}
		}
		sendAll(ctx, c.plain(), out)
	})
}

// groupInfoChanged shows a new topic as the room's subject and a new name
// as a configuration change (status 104), a new picture as a presence
// from the room with its hash (XEP-0486), and a change of read-only state
// as a configuration change with every non-admin occupant's new role
// (visitor or participant); a group the owner just got into brings an
// invitation.
func (c *Component) groupInfoChanged(ctx context.Context, owner ids.Owner, e *event.ChatInfo) {
	key := roomKey{owner, e.Chat}
	roomJID := c.addr.RoomJID(e.Chat)
	avatar, avatarChanged := "", false
	if e.AvatarHash != nil {
		sum, err := c.roomAvatarSHA1(ctx, owner, e.Chat, *e.AvatarHash)
		if err != nil {
			c.logErr("read group avatar", owner, err)
		} else {
			avatar, avatarChanged = sum, true
		}
	}
	var out []stanza.Packet
	var name string
	idle := false
	c.muc.with(key, func(r *room) {
		topicChanged := r.loaded && e.Topic != r.info.Topic
		nameChanged := r.loaded && e.Name != "" && e.Name != r.info.Name
		roChanged := r.loaded && e.ReadOnly != nil && *e.ReadOnly != r.info.ReadOnly
		r.info.Topic = e.Topic
		if e.Name != "" {
			r.info.Name = e.Name
		}
		if e.ReadOnly != nil {
			r.info.ReadOnly = *e.ReadOnly
		}
		if e.AvatarHash != nil {
			r.info.AvatarHash = *e.AvatarHash
		}
		idle, name = len(r.joined) == 0, roomName(r.info)
		for _, full := range r.resources() {
			if topicChanged {
				s := subjectMessage(roomJID, full, roomSubject(c.info.Name, r.info))
				if e.Sender != "" {
					s.From = roomJID + "/" + r.nickOf(e.Sender, "")
				}
				out = append(out, s)
			}
			if nameChanged || roChanged {
				out = append(out, &stanza.Message{
					Attrs:      stanza.Attrs{Type: stanza.MessageTypeGroupchat, From: roomJID, To: full, Id: newID()},
					Extensions: []stanza.MsgExtension{&xep.MUCUser{Status: []xep.MUCStatus{{Code: statusConfigChange}}}},
				})
			}
			if roChanged {
				out = append(out, c.rolePresences(roomJID, r, full)...)
			}
			if avatarChanged {
				out = append(out, roomAvatarPresence(roomJID, full, avatar))
			}
		}
		sendAll(ctx, c.plain(), out)
	})
	if idle {
		c.sendInvite(ctx, owner, e.Chat, name, inviterOf(&e.Meta))
	}
}

// rolePresences are the presences of the room's non-admin members with
// their role of now, as resource full sees them (its own with status 110).
func (c *Component) rolePresences(roomJID string, r *room, full string) []stanza.Packet {
	var out []stanza.Packet
	for _, mem := range r.info.Members {
		if mem.Role.IsAdmin() {
			continue
		}
		p := c.occupantPresence(roomJID, r, mem, full, false)
		if mem.User == r.info.Self {
			x := mucUserOf(p)
			x.Items[0].JID = full
			x.Status = append(x.Status, xep.MUCStatus{Code: statusSelf})
		}
		out = append(out, p)
	}
	return out
}

// sendAll queues stanzas in order.
func sendAll[P stanza.Packet](ctx context.Context, out deliverySender, ps []P) {
	for _, p := range ps {
		out.sendLogged(ctx, p)
	}
}
