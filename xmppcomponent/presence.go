package xmppcomponent

import (
	"context"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// onPresence handles subscriptions and probes addressed to the gateway or a
// contact. The user's own availability goes to the hub
// (noteOwnerPresence); the gateway also notes from it that it is in the
// user's roster.
func (c *Component) onPresence(ctx context.Context, p stanza.Presence) {
	from, to, err := c.parseAddrs(p.Attrs)
	if err != nil {
		c.log.Debug("presence with bad address", "err", err)
		return
	}
	if c.isRoom(to) {
		c.onRoomPresence(ctx, p, from, to) // muc_join.go
		return
	}
	owner := Owner(from)
	c.noteOwnerPresence(ctx, from, p.Type)
	if c.isGateway(to) {
		c.gatewayPresence(ctx, owner, p.Type)
		return
	}
	user, err := c.addr.UserOf(to)
	if err != nil {
		return
	}
	me := c.addr.UserJID(user)
	switch p.Type {
	case stanza.PresenceTypeSubscribe:
		if _, err := c.gw.Account(ctx, owner, c.cfg.Platform); err != nil {
			c.sendPresence(ctx, me, owner, stanza.PresenceTypeUnsubscribed)
			return
		}
		c.setSubscribed(ctx, owner, user, true)
		c.sendPresence(ctx, me, owner, stanza.PresenceTypeSubscribed)
		c.sendContactPresence(ctx, owner, user)
	case stanza.PresenceTypeSubscribed:
		c.setSubscribed(ctx, owner, user, true)
	case stanza.PresenceTypeUnsubscribe:
		c.setSubscribed(ctx, owner, user, false)
		c.sendPresence(ctx, me, owner, stanza.PresenceTypeUnsubscribed)
	case stanza.PresenceTypeUnsubscribed:
		c.setSubscribed(ctx, owner, user, false)
	case stanza.PresenceTypeProbe:
		c.sendContactPresence(ctx, owner, user)
	}
}

func (c *Component) setSubscribed(ctx context.Context, owner ids.Owner, user ids.UserID, on bool) {
	if _, err := c.gw.Account(ctx, owner, c.cfg.Platform); err != nil {
		return
	}
	if err := c.gw.SetSubscribed(ctx, owner, c.cfg.Platform, user, on); err != nil {
		c.log.Error("cannot record subscription", "owner", owner, "user", user, "err", err)
	}
}

func (c *Component) gatewayPresence(ctx context.Context, owner ids.Owner, typ stanza.StanzaType) {
	a, err := c.gw.Account(ctx, owner, c.cfg.Platform)
	registered := err == nil
	switch typ {
	case stanza.PresenceTypeSubscribe:
		if !registered {
			c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeUnsubscribed)
			return
		}
		c.gatewayInRoster(owner, rosterIn)
		c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeSubscribed)
		c.sendGatewayPresence(ctx, owner, a.ID != "", a.State, a.StateDetail)
	case stanza.PresenceTypeSubscribed:
		// The owner accepted the gateway's request (XEP-0100): it is in
		// their roster now.
		if registered {
			c.gatewayInRoster(owner, rosterIn)
			c.sendGatewayPresence(ctx, owner, a.ID != "", a.State, a.StateDetail)
		}
	case stanza.PresenceTypeUnsubscribe:
		// Only owners are remembered: a stranger's unsubscribe must not
		// grow the table.
		if registered {
			c.gatewayInRoster(owner, rosterOut)
		}
		c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeUnsubscribed)
	case stanza.PresenceTypeUnsubscribed:
		// The answer to the gateway's probe when it is not in the
		// roster (RFC 6121 §4.3.2); otherwise only the gateway's own
		// subscription ends.
		c.mu.Lock()
		if c.gwRoster[owner] == rosterProbing {
			c.gwRoster[owner] = rosterOut
		}
		c.mu.Unlock()
	case stanza.PresenceTypeProbe:
		if !registered {
			c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeUnsubscribed)
			return
		}
		c.gatewayInRoster(owner, rosterIn)
		c.sendGatewayPresence(ctx, owner, a.ID != "", a.State, a.StateDetail)
	case "":
		// The owner's presence: broadcast to the gateway when it is in
		// their roster, an answer to the gateway's probe — or directed
		// to it by a client whose roster lacks it (Gajim does so after
		// registering), which proves nothing. So only an answer to a
		// probe counts; otherwise the gateway probes, and the server's
		// answer (presence, or unsubscribed) settles it.
		if !registered {
			return
		}
		c.mu.Lock()
		if c.gwRoster == nil {
			c.gwRoster = make(map[ids.Owner]rosterState)
		}
		st := c.gwRoster[owner]
		switch st {
		case rosterProbing:
			c.gwRoster[owner] = rosterIn
		case rosterUnknown:
			c.gwRoster[owner] = rosterProbing
		}
		c.mu.Unlock()
		switch st {
		case rosterProbing:
			c.sendGatewayPresence(ctx, owner, a.ID != "", a.State, a.StateDetail)
		case rosterUnknown:
			c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeProbe)
		}
	}
}

// rosterState is what the gateway knows of its own place in an owner's
// roster, learnt from the presence the owner's server and clients send it
// since the gateway started.
type rosterState int

const (
	rosterUnknown rosterState = iota
	rosterProbing             // a probe is out (pushGatewayPresence)
	rosterIn                  // subscribed to, probed by, or sent presence by the owner
	rosterOut                 // unsubscribed, or the probe was refused
)

// gatewayInRoster records st and returns what was known before.
func (c *Component) gatewayInRoster(owner ids.Owner, st rosterState) rosterState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gwRoster == nil {
		c.gwRoster = make(map[ids.Owner]rosterState)
	}
	was := c.gwRoster[owner]
	c.gwRoster[owner] = st
	return was
}

// pushGatewayPresence tells owner of a change of the account's state as
// the gateway's presence — only when the gateway is in owner's roster:
// clients flag presence from anyone else as unknown (Gajim logs "Unknown
// presence received" and drops it). When the gateway does not know yet
// (it started since), it probes the owner's server: the owner's presence
// in answer says it is in the roster, and gets the gateway's back
// (gatewayPresence); a refusal says it is not.
func (c *Component) pushGatewayPresence(ctx context.Context, owner ids.Owner, state event.State, detail string) {
	c.mu.Lock()
	if c.gwRoster == nil {
		c.gwRoster = make(map[ids.Owner]rosterState)
	}
	st := c.gwRoster[owner]
	if st == rosterUnknown {
		c.gwRoster[owner] = rosterProbing
	}
	c.mu.Unlock()
	switch st {
	case rosterIn:
		c.sendGatewayPresence(ctx, owner, true, state, detail)
	case rosterUnknown:
		c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeProbe)
	}
}

// sendGatewayPresence shows the account's state as the gateway's presence:
// available when connected, away with the reason otherwise. It comes from
// the gateway's full JID with its caps, as a contact's does
// (ContactResource).
func (c *Component) sendGatewayPresence(ctx context.Context, owner ids.Owner, linked bool, state event.State, detail string) {
	p := &stanza.Presence{Attrs: stanza.Attrs{From: c.domain + "/" + ContactResource, To: string(owner)}}
	switch {
	case !linked:
		p.Show, p.Status = stanza.PresenceShowXA, "No "+c.info.Name+" account linked; send \"link\""
	case state == event.StateConnected:
		p.Status = "Connected"
	default:
		p.Show, p.Status = stanza.PresenceShowAway, string(state)
		if detail != "" {
			p.Status += ": " + detail
		}
	}
	if caps := c.capsOf(c.gatewayInfo(owner)); caps != nil {
		p.Extensions = append(p.Extensions, caps)
	}
	c.send(ctx, p)
}

func (c *Component) sendPresence(ctx context.Context, from string, owner ids.Owner, typ stanza.StanzaType) {
	c.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{Type: typ, From: from, To: string(owner)}})
}

// sendContactPresence sends the contact's last known presence.
func (c *Component) sendContactPresence(ctx context.Context, owner ids.Owner, user ids.UserID) {
	c.sendContactPresenceOf(ctx, owner, user, nil)
}

// pushContactPresence sends the contact's last known presence after it
// changed on the platform — only when the contact is in owner's roster:
// clients flag presence from anyone else as unknown. A contact added later
// gets its presence sent then (onPresence, addToRoster).
func (c *Component) pushContactPresence(ctx context.Context, owner ids.Owner, user ids.UserID) {
	ct, err := c.gw.Contact(ctx, owner, c.cfg.Platform, user)
	if err != nil || !ct.Subscribed {
		return
	}
	c.sendContactPresenceOf(ctx, owner, user, &ct)
}

// sendContactPresenceOf sends the contact's last known presence from its
// full JID (ContactResource), with XEP-0115 caps when available. ct is the
// contact as the hub holds it, nil if the caller does not have it. The
// contact's presence lock is held from the read to the write
// (presence_order.go).
func (c *Component) sendContactPresenceOf(ctx context.Context, owner ids.Owner, user ids.UserID, ct *store.Contact) {
	unlock := c.presOrd.lock(owner, user)
	defer unlock()
	c.mu.Lock()
	ev := c.contact(owner, user).pres // the zero value: nothing known, offline
	c.mu.Unlock()
	p := &stanza.Presence{Attrs: stanza.Attrs{From: c.addr.UserFullJID(user), To: string(owner)}}
	if !ev.available {
		p.Type = stanza.PresenceTypeUnavailable
	} else {
		p.Show = showValues[ev.show]
	}
	p.Status = ev.status
	if seen := ev.seen(); !ev.available && !seen.IsZero() {
		p.Extensions = append(p.Extensions, &xep.Idle{Since: seen.Format(time.RFC3339)})
	}
	if p.Type != stanza.PresenceTypeUnavailable {
		if caps := c.capsOf(c.contactInfo(ctx, owner, user, ct)); caps != nil {
			p.Extensions = append(p.Extensions, caps)
		}
	}
	if u := c.avatarUpdate(owner, user); u != nil {
		p.Extensions = append(p.Extensions, u)
	}
	c.send(ctx, p)
}

// askSubscription asks owner to add the contact to their roster, once per
// run of the gateway until they answer. When the server grants the roster
// privilege (XEP-0356) the contact is put in the roster directly instead.
// ct is the contact as the hub holds it (gateway.Delivery.Contact); nil
// means unknown, as good as not in the roster.
func (c *Component) askSubscription(ctx context.Context, owner ids.Owner, user ids.UserID, name string, ct *store.Contact) {
	if ct != nil && ct.Subscribed {
		return
	}
	c.mu.Lock()
	asked := c.contact(owner, user).asked
	c.updateContact(owner, user, func(s *contactState) { s.asked = true })
	c.mu.Unlock()
	if asked {
		return
	}
	if c.addToRoster(ctx, owner, user, name) { // XEP-0356 roster push when granted
		return
	}
	p := &stanza.Presence{Attrs: stanza.Attrs{Type: stanza.PresenceTypeSubscribe, From: c.addr.UserJID(user), To: string(owner)}}
	if name != "" {
		p.Extensions = append(p.Extensions, &xep.Nick{Value: name})
	}
	c.send(ctx, p)
}
