package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

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
	statusNewNick      = 303
	statusKicked       = 307
	statusNotMember    = 321
	statusShutdown     = 332
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
// self-presence, the history asked for, then the subject. The nick it
// joins with becomes the account's in the room (its reflections, its
// occupant, its messages in the history), unless another member has it
// (conflict, XEP-0045 §7.2) or another of the owner's resources is in
// the room already: all of them are one occupant, so the new one gets the
// nick in use (status 210). A joined resource's presence update gets its
// self-presence back, or changes the nick when it names another one
// (§7.6); a presence with the MUC <x/> from a joined resource is a rejoin
// (the client lost its session, XEP-0410) and gets the whole join again.
func (c *Component) joinRoom(ctx context.Context, p stanza.Presence, from, to jid.JID, chat ids.ChatID) {
	owner := Owner(from)
	full := from.String()
	roomJID := c.addr.RoomJID(chat)
	nick := to.Resourcepart()
	if nick == "" {
		// XEP-0045 §7.2: a join names its nick in the occupant JID.
		c.send(ctx, roomPresenceError(to.String(), full, p.Id, xep.StanzaError{Type: "modify", Condition: "jid-malformed",
			Text: "Choose a nickname: join " + roomJID + "/YourNickname"}))
		return
	}
	hist, herr := historyRequest(p)
	if herr != nil {
		c.send(ctx, roomPresenceError(to.String(), full, p.Id, errBadRequest(userText(herr))))
		return
	}
	gi, err := c.gw.GroupInfo(ctx, owner, c.cfg.Platform, chat)
	if err != nil {
		c.logErr("join room", owner, err)
		se := mapErr(err)
		if errors.Is(err, gateway.ErrForbidden) {
			// XEP-0045 §7.2.7: a members-only room refuses non-members so.
			se = xep.StanzaError{Type: "auth", Condition: "registration-required", Text: userText(err)}
		}
		c.send(ctx, roomPresenceError(to.String(), full, p.Id, se))
		return
	}
	var out []stanza.Packet
	key := roomKey{owner, chat}
	c.muc.with(key, func(r *room) {
		r.setInfo(gi)
		update := r.joined[full] && !hist.join
		self, _ := gi.Member(gi.Self)
		selfNick := r.nickOf(gi.Self, self.Name)
		switch {
		case nick == selfNick:
		case update || !r.othersJoined(full):
			if r.nickTaken(nick) {
				c.send(ctx, roomPresenceError(to.String(), full, p.Id, xep.StanzaError{Type: "cancel", Condition: "conflict",
					Text: "Someone in this room is already called " + nick + "; choose another nickname"}))
				return
			}
			if update {
				sendAll(ctx, c.plain(), c.nickChange(roomJID, r, self, nick, full, p.Id))
				return
			}
			r.nicks[gi.Self], selfNick = nick, nick
		}
		r.joined[full] = true
		if !update {
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
		if nick != selfNick {
			x.Status = append(x.Status, xep.MUCStatus{Code: statusNickChanged})
		}
		sp.Id = p.Id
		out = append(out, sp)
		if update {
			sendAll(ctx, c.plain(), out)
			return
		}
		for _, m := range hist.pick(r, roomJID, full) {
			out = append(out, m)
		}
		out = append(out, subjectMessage(roomJID, full, roomSubject(c.info.Name, r.info)))
		sendAll(ctx, c.plain(), out)
	})
}

// nickChange gives the account's occupant the nick `nick` (XEP-0045
// §7.6): each of the owner's resources in the room sees it leave under
// its old nick (303, with the new one) and come back under the new one.
// The resource that asked gets its presence id back. The caller holds
// c.muc.mu.
func (c *Component) nickChange(roomJID string, r *room, self gateway.GroupMember, nick, asker, id string) []*stanza.Presence {
	var out []*stanza.Presence
	for _, full := range r.resources() {
		gone := c.occupantPresence(roomJID, r, self, full, false)
		gone.Type = stanza.PresenceTypeUnavailable
		x := mucUserOf(gone)
		x.Items[0].JID, x.Items[0].Nick = full, nick
		x.Status = append(x.Status, xep.MUCStatus{Code: statusNewNick}, xep.MUCStatus{Code: statusSelf})
		out = append(out, gone)
	}
	r.nicks[r.info.Self] = nick
	for _, full := range r.resources() {
		back := c.occupantPresence(roomJID, r, self, full, false)
		x := mucUserOf(back)
		x.Items[0].JID = full
		x.Status = append(x.Status, xep.MUCStatus{Code: statusSelf})
		if full == asker {
			back.Id = id
		}
		out = append(out, back)
	}
	return out
}

// roomPresenceError is the error presence that refuses a join or a nick
// change, from the occupant JID asked for.
func roomPresenceError(from, to, id string, se xep.StanzaError) *stanza.Presence {
	return &stanza.Presence{
		Attrs:      stanza.Attrs{Type: stanza.PresenceTypeError, From: from, To: to, Id: id},
		Extensions: []stanza.PresExtension{&xep.MUCJoin{}, se},
	}
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
	item := xep.MUCItem{Affiliation: affiliation(mem.Role), Role: mucRole(r.info, mem.Role), JID: c.addr.UserJID(mem.User)}
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
func delayed(r *room, a archived, roomJID, to string) *stanza.Message {
	m := r.replayed(a, roomJID)
	m.To = to
	m.Extensions = append(append([]stanza.MsgExtension(nil), a.msg.Extensions...),
		&xep.Delay{From: roomJID, Stamp: a.at.UTC().Format(time.RFC3339)})
	return &m
}

// defaultJoinHistory is how many messages a join gets that asks for no
// particular history: the recent conversation, not the whole archive
// (XEP-0313 serves the rest).
const defaultJoinHistory = 20

// history is what a join asks of the room's history (XEP-0045 §7.2.15).
type history struct {
	maxStanzas int // -1: no limit
	maxChars   int // -1: no limit
	since      time.Time
	// join: the presence carries the MUC <x/>, so it joins (or rejoins)
	// rather than updates the occupant's presence.
	join bool
}

// historyRequest reads the history a presence asks for; a since that is
// not an XEP-0082 date and time is an error.
func historyRequest(p stanza.Presence) (history, error) {
	h := history{maxStanzas: -1, maxChars: -1}
	for _, ext := range p.Extensions {
		x, ok := ext.(*xep.MUCJoin)
		if !ok {
			continue
		}
		h.join = true
		hr := x.History
		if hr == nil || (hr.MaxStanzas == nil && hr.MaxChars == nil && hr.Seconds == nil && hr.Since == "") {
			h.maxStanzas = defaultJoinHistory
			continue
		}
		if n := hr.MaxStanzas; n != nil && *n >= 0 {
			h.maxStanzas = *n
		}
		if n := hr.MaxChars; n != nil && *n >= 0 {
			h.maxChars = *n
		}
		if n := hr.Seconds; n != nil && *n >= 0 {
			h.since = time.Now().Add(-time.Duration(*n) * time.Second)
		}
		if hr.Since != "" {
			since, err := time.Parse(time.RFC3339, hr.Since)
			if err != nil {
				return h, fmt.Errorf("the history's 'since' must be a date and time such as 2026-01-31T18:30:00Z, not %q", hr.Since)
			}
			if since.After(h.since) {
				h.since = since
			}
		}
	}
	return h, nil
}

// pick returns the archived messages the request allows, oldest first, as
// the history sent to the resource `to`: those since the time asked, at
// most maxStanzas, the newest whose stanzas fit in maxChars characters.
// The caller holds c.muc.mu.
func (h history) pick(r *room, roomJID, to string) []*stanza.Message {
	var all []archived
	for _, a := range r.history {
		if h.since.IsZero() || !a.at.Before(h.since) {
			all = append(all, a)
		}
	}
	if h.maxStanzas >= 0 && len(all) > h.maxStanzas {
		all = all[len(all)-h.maxStanzas:]
	}
	out := make([]*stanza.Message, 0, len(all))
	for _, a := range all {
		out = append(out, delayed(r, a, roomJID, to))
	}
	if h.maxChars < 0 {
		return out
	}
	chars, first := 0, len(out)
	for i := len(out) - 1; i >= 0; i-- {
		b, err := xml.Marshal(out[i])
		if err != nil {
			break
		}
		if chars += utf8.RuneCount(b); chars > h.maxChars {
			break
		}
		first = i
	}
	return out[first:]
}
