package xmppcomponent

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// accountGone withdraws from the owner's client everything of an account
// that can no longer be used — unlinked (by command, the management API,
// a new link replacing it, unregistering) or logged out on the platform's
// side: every contact it showed goes offline, the gateway too, and every
// room the owner is in ends their session in it (XEP-0045 status 321: they
// lost their membership with the account). Then a chat message says what
// happened. A contact or room shown later comes from a new link.
func (c *Component) accountGone(ctx context.Context, owner ids.Owner, e *event.AccountState) {
	reason := fmt.Sprintf("Your %s account %s was unlinked", c.info.Name, e.Account)
	again := "Send \"link\" to link an account again."
	if e.State == event.StateLoggedOut {
		reason = fmt.Sprintf("Your %s account %s was logged out", c.info.Name, e.Account)
		again = "Send \"link\" to link it again."
	}
	users := c.shownContacts(ctx, owner)
	for _, u := range users {
		c.sendUnavailable(ctx, c.contactPresenceJID(u), owner, "")
	}
	rooms := c.leaveRooms(ctx, owner, reason+".")
	c.sendUnavailable(ctx, c.domain+"/"+ContactResource, owner, reason+". "+again)
	c.forgetShown(owner)

	var b strings.Builder
	b.WriteString(reason + ".")
	if e.Detail != "" {
		b.WriteString(" " + sentence(e.Detail))
	}
	switch len(users) {
	case 0:
	case 1:
		b.WriteString(" Its contact is shown offline")
	default:
		fmt.Fprintf(&b, " Its %d contacts are shown offline", len(users))
	}
	switch {
	case len(rooms) > 0 && len(users) > 0:
		fmt.Fprintf(&b, " and you left %s.", roomsText(rooms))
	case len(rooms) > 0:
		fmt.Fprintf(&b, " You left %s.", roomsText(rooms))
	case len(users) > 0:
		b.WriteString(".")
	}
	b.WriteString(" " + again)
	c.notify(ctx, owner, b.String())
}

// sentence makes s a sentence: a capital first, a full stop last.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// roomsText names the rooms left, for people.
func roomsText(names []string) string {
	if len(names) == 1 {
		return "the room " + names[0]
	}
	return fmt.Sprintf("%d rooms: %s", len(names), strings.Join(names, ", "))
}

// shownContacts are the contacts of owner whose presence the client may
// show: those the hub knows and those the component sent presence or a
// subscription request for, sorted.
func (c *Component) shownContacts(ctx context.Context, owner ids.Owner) []ids.UserID {
	seen := map[ids.UserID]bool{}
	cts, err := c.gw.Contacts(ctx, owner, c.cfg.Platform)
	if err != nil {
		c.logErr("contacts of an account gone", owner, err)
	}
	for _, ct := range cts {
		seen[ct.User] = true
	}
	c.mu.Lock()
	for k, st := range c.contacts {
		if k.owner == owner && (st.shown || st.asked) {
			seen[k.user] = true
		}
	}
	c.mu.Unlock()
	out := make([]ids.UserID, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// forgetShown drops the presence and subscription requests remembered for
// owner's contacts: a probe now finds them offline, and a new link asks
// again.
func (c *Component) forgetShown(owner ids.Owner) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updateOwnerContacts(owner, func(s *contactState) {
		s.pres, s.shown, s.asked = shownPresence{}, false, false
	})
}

// leaveRooms ends every session of owner's resources in the rooms of the
// account, with status 321 and reason, and returns the names of the rooms
// that had one.
func (c *Component) leaveRooms(ctx context.Context, owner ids.Owner, reason string) []string {
	c.muc.mu.Lock()
	defer c.muc.mu.Unlock()
	var names []string
	for _, k := range c.muc.keysLocked(func(o ids.Owner) bool { return o == owner }) {
		r := c.muc.rooms[k]
		if len(r.joined) > 0 {
			name := r.info.Name
			if name == "" {
				name = c.addr.RoomJID(k.chat)
			}
			names = append(names, name)
		}
		roomJID := c.addr.RoomJID(k.chat)
		for _, full := range r.resources() {
			p := c.selfGone(roomJID, r, full, statusNotMember)
			p.Extensions[0].(*xep.MUCUser).Items[0].Reason = reason
			c.send(ctx, p)
		}
		r.joined, r.loaded, r.invited = map[string]bool{}, false, false
	}
	return names
}

// contactPresenceJID is the address a contact's presence comes from; it
// must be the one sendContactPresence (presence.go) uses, so that the
// client takes the contact's unavailable presence for the one it showed.
func (c *Component) contactPresenceJID(user ids.UserID) string {
	return c.addr.UserJID(user) + "/" + ContactResource
}

// sendUnavailable is how accountGone sends every unavailable presence:
// from `from` (a contact or the gateway) to owner, with status if set.
func (c *Component) sendUnavailable(ctx context.Context, from string, owner ids.Owner, status string) {
	c.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{Type: stanza.PresenceTypeUnavailable, From: from, To: string(owner)}, Status: status})
}
