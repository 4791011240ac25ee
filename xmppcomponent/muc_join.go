package xmppcomponent

import (
	"context"
	"errors"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// MUC status codes (XEP-0045 §15.6).
const (
	statusNonAnonymous = 100
	statusConfigChange = 104
	statusSelf         = 110
	statusLogged       = 170
	statusNickChanged  = 210
	statusKicked       = 307
	statusNotMember    = 321
)

// onRoomPresence handles a presence to a room: available joins (or
// refreshes the occupant), unavailable leaves the room (not the group).
func (c *Component) onRoomPresence(ctx context.Context, p stanza.Presence, from, to jid.JID) {
	chat, _ := c.addr.RoomOf(to)
	switch p.Type {
	case stanza.PresenceTypeUnavailable:
		c.leaveRoom(ctx, Owner(from), chat, from.String())
	case "":
		c.joinRoom(ctx, p, from, to, chat)
	}
}

// joinRoom lets one of the owner's resources into the room if the owner's
// account is a member of the group: every other member as an occupant, the
// self-presence, the history asked for, then the subject. A joined
// resource's presence update gets its self-presence back; a presence with
// the MUC <x/> from a joined resource is a rejoin (the client lost its
// session, XEP-0410) and gets the whole join again.
func (c *Component) joinRoom(ctx context.Context, p stanza.Presence, from, to jid.JID, chat ids.ChatID) {
	owner := Owner(from)
	full := from.String()
	gi, err := c.gw.GroupInfo(ctx, owner, c.cfg.Platform, chat)
	if err != nil {
		c.logErr("join room", owner, err)
		se := mapErr(err)
		if errors.Is(err, gateway.ErrForbidden) {
			// XEP-0045 §7.2.7: a members-only room refuses non-members so.
			se = xep.StanzaError{Type: "auth", Condition: "registration-required", Text: userText(err)}
		}
		c.send(ctx, &stanza.Presence{
			Attrs:      stanza.Attrs{Type: stanza.PresenceTypeError, From: to.String(), To: full, Id: p.Id},
			Extensions: []stanza.PresExtension{&stanza.MucPresence{}, se},
		})
		return
	}
	hist := historyRequest(p)
	var out []stanza.Packet
	key := roomKey{owner, chat}
	roomJID := c.addr.RoomJID(chat)
	c.muc.with(key, func(r *room) {
		r.setInfo(gi)
		already := r.joined[full] && !hist.join
		r.joined[full] = true
		self, _ := gi.Member(gi.Self)
		selfNick := r.nickOf(gi.Self, self.Name)
		if !already {
			for _, mem := range gi.Members {
				if mem.User != gi.Self {
					out = append(out, c.occupantPresence(roomJID, r, mem, full, false))
				}
			}
		}
		sp := c.occupantPresence(roomJID, r, self, full, false)
		x := mucUserOf(sp)
		x.Items[0].JID = full
		// Non-anonymous, self, and logged: the room keeps an archive.
		x.Status = append(x.Status, xep.MUCStatus{Code: statusNonAnonymous}, xep.MUCStatus{Code: statusSelf}, xep.MUCStatus{Code: statusLogged})
		if to.Resourcepart() != selfNick {
			x.Status = append(x.Status, xep.MUCStatus{Code: statusNickChanged})
		}
		sp.Id = p.Id
		out = append(out, sp)
		if already {
			sendAll(ctx, c.plain(), out)
			return
		}
		for _, a := range hist.pick(r.history) {
			out = append(out, delayed(a, roomJID, full))
		}
		out = append(out, subjectMessage(roomJID, full, gi.Topic))
		sendAll(ctx, c.plain(), out)
	})
}

// leaveRoom takes one of the owner's resources out of the room.
func (c *Component) leaveRoom(ctx context.Context, owner ids.Owner, chat ids.ChatID, full string) {
	c.muc.with(roomKey{owner, chat}, func(r *room) {
		if !r.joined[full] {
			return
		}
		delete(r.joined, full)
		c.send(ctx, c.selfGone(c.addr.RoomJID(chat), r, full))
	})
}

// selfGone is the unavailable self-presence that closes a resource's
// session in the room. Leaving the room keeps the account's affiliation;
// codes (kicked, no longer a member) say it lost it.
func (c *Component) selfGone(roomJID string, r *room, full string, codes ...int) *stanza.Presence {
	nick := r.nicks[r.info.Self]
	aff := "none"
	if self, member := r.info.Member(r.info.Self); member && len(codes) == 0 {
		aff = affiliation(self.Role)
	}
	x := &xep.MUCUser{Items: []xep.MUCItem{{Affiliation: aff, Role: "none", JID: full}}}
	for _, code := range append([]int{statusSelf}, codes...) {
		x.Status = append(x.Status, xep.MUCStatus{Code: code})
	}
	return &stanza.Presence{
		Attrs:      stanza.Attrs{Type: stanza.PresenceTypeUnavailable, From: roomJID + "/" + nick, To: full},
		Extensions: []stanza.PresExtension{x},
	}
}

// occupantPresence is the presence of member mem as the owner's resource
// `to` sees it; gone makes it unavailable (role none).
func (c *Component) occupantPresence(roomJID string, r *room, mem gateway.GroupMember, to string, gone bool) *stanza.Presence {
	item := xep.MUCItem{Affiliation: affiliation(mem.Role), Role: mucRole(mem.Role), JID: c.addr.UserJID(mem.User)}
	p := &stanza.Presence{Attrs: stanza.Attrs{From: roomJID + "/" + r.nickOf(mem.User, mem.Name), To: to}}
	if gone {
		p.Type, item.Role = stanza.PresenceTypeUnavailable, "none"
	}
	p.Extensions = []stanza.PresExtension{
		&xep.MUCUser{Items: []xep.MUCItem{item}},
		&xep.OccupantID{ID: occupantID(r.info.Chat, mem.User)},
	}
	return p
}

// mucUserOf returns the muc#user payload occupantPresence put first.
func mucUserOf(p *stanza.Presence) *xep.MUCUser {
	return p.Extensions[0].(*xep.MUCUser)
}

// subjectMessage is the room's subject, sent last when joining.
func subjectMessage(roomJID, to, topic string) *stanza.Message {
	return &stanza.Message{
		Attrs:      stanza.Attrs{Type: stanza.MessageTypeGroupchat, From: roomJID, To: to, Id: newID()},
		Extensions: []stanza.MsgExtension{&xep.Subject{Text: topic}},
	}
}

// delayed is an archived message sent again to `to` with its XEP-0203
// stamp, as join history.
func delayed(a archived, roomJID, to string) *stanza.Message {
	m := a.msg
	m.To = to
	m.Extensions = append(append([]stanza.MsgExtension(nil), a.msg.Extensions...),
		&xep.Delay{From: roomJID, Stamp: a.at.UTC().Format(time.RFC3339)})
	return &m
}

// history is what a join asks of the room's history (XEP-0045 §7.2.15).
type history struct {
	maxStanzas int // -1: no limit
	since      time.Time
	// join: the presence carries the MUC <x/>, so it joins (or rejoins)
	// rather than updates the occupant's presence.
	join bool
}

func historyRequest(p stanza.Presence) history {
	h := history{maxStanzas: -1}
	for _, ext := range p.Extensions {
		var mp *stanza.MucPresence
		switch e := ext.(type) {
		case *stanza.MucPresence:
			mp = e
		case stanza.MucPresence:
			mp = &e
		default:
			continue
		}
		h.join = true
		if n, ok := mp.History.MaxStanzas.Get(); ok {
			h.maxStanzas = n
		}
		if s, ok := mp.History.Seconds.Get(); ok {
			h.since = time.Now().Add(-time.Duration(s) * time.Second)
		}
		if !mp.History.Since.IsZero() && mp.History.Since.After(h.since) {
			h.since = mp.History.Since
		}
	}
	return h
}

// pick returns the archived messages the request allows, oldest first.
func (h history) pick(all []archived) []archived {
	var out []archived
	for _, a := range all {
		if h.since.IsZero() || !a.at.Before(h.since) {
			out = append(out, a)
		}
	}
	if h.maxStanzas >= 0 && len(out) > h.maxStanzas {
		out = out[len(out)-h.maxStanzas:]
	}
	return out
}
