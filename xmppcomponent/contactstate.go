package xmppcomponent

import (
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// contactState is what the component remembers of one contact of one
// owner in memory: its last presence from the platform, whether the owner
// was asked for a subscription in this run, and its picture. One map
// entry per contact, held by value, keeps an idle account small: three
// maps (one with a pointer to the whole presence event, which kept the
// event's strings alive) cost about 2.5 KB per account of four contacts
// (BENCHMARKS.md, "Idle accounts and start-up").
type contactState struct {
	pres   shownPresence
	avatar avatarState
	// shown is set when a presence from the platform was noted (pres
	// holds it).
	shown bool
	// asked is set once the owner was asked to add the contact
	// (askSubscription).
	asked bool
}

// zero reports whether the state holds nothing, so its entry can go.
func (s contactState) zero() bool { return s == contactState{} }

// shownPresence is the part of an event.Presence that the contact's
// presence stanza shows.
type shownPresence struct {
	status string
	// lastSeen is event.Presence.LastSeen in Unix seconds (XEP-0319 shows
	// seconds), 0 when unknown.
	lastSeen  int64
	show      showValue
	available bool
}

// showValue is event.Presence.Show in a byte: an index of showValues.
type showValue uint8

// showValues are the values event.Presence.Show may take (RFC 6121
// <show/>); "" is plain available.
var showValues = [...]stanza.PresenceShow{"", stanza.PresenceShowAway, stanza.PresenceShowXA, stanza.PresenceShowDND, stanza.PresenceShowChat}

// showOf is the showValue of s; a value outside the event model's (which
// no adapter sends) shows as plain available.
func showOf(s string) showValue {
	for i, v := range showValues {
		if string(v) == s {
			return showValue(i)
		}
	}
	return 0
}

// presenceOf keeps what shownPresence needs of e.
func presenceOf(e *event.Presence) shownPresence {
	p := shownPresence{show: showOf(e.Show), status: e.Status, available: e.Available}
	if !e.LastSeen.IsZero() {
		p.lastSeen = e.LastSeen.Unix()
	}
	return p
}

// seen is when the contact was last online, zero when unknown.
func (p shownPresence) seen() time.Time {
	if p.lastSeen == 0 {
		return time.Time{}
	}
	return time.Unix(p.lastSeen, 0).UTC()
}

// contact returns the state of owner's contact user. The caller holds c.mu.
func (c *Component) contact(owner ids.Owner, user ids.UserID) contactState {
	return c.contacts[contactKey{owner, user}]
}

// updateContact applies f to the state of owner's contact user and drops
// the entry when nothing is left. The caller holds c.mu.
func (c *Component) updateContact(owner ids.Owner, user ids.UserID, f func(*contactState)) {
	key := contactKey{owner, user}
	st := c.contacts[key]
	f(&st)
	if st.zero() {
		delete(c.contacts, key)
		return
	}
	c.contacts[key] = st
}

// updateOwnerContacts applies f to the state of every contact of owner
// and drops the entries left empty. The caller holds c.mu.
func (c *Component) updateOwnerContacts(owner ids.Owner, f func(*contactState)) {
	for k, st := range c.contacts {
		if k.owner != owner {
			continue
		}
		f(&st)
		if st.zero() {
			delete(c.contacts, k)
		} else {
			c.contacts[k] = st
		}
	}
}
