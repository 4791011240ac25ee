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
// contact. The user's own availability is not needed by the platforms yet.
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
		c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeSubscribed)
		c.sendGatewayPresence(ctx, owner, a.ID != "", a.State, a.StateDetail)
	case stanza.PresenceTypeUnsubscribe:
		c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeUnsubscribed)
	case stanza.PresenceTypeProbe:
		if !registered {
			c.sendPresence(ctx, c.domain, owner, stanza.PresenceTypeUnsubscribed)
			return
		}
		c.sendGatewayPresence(ctx, owner, a.ID != "", a.State, a.StateDetail)
	}
}

// sendGatewayPresence shows the account's state as the gateway's presence:
// available when connected, away with the reason otherwise.
func (c *Component) sendGatewayPresence(ctx context.Context, owner ids.Owner, linked bool, state event.State, detail string) {
	p := &stanza.Presence{Attrs: stanza.Attrs{From: c.domain, To: string(owner)}}
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
	c.send(ctx, p)
}

func (c *Component) sendPresence(ctx context.Context, from string, owner ids.Owner, typ stanza.StanzaType) {
	c.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{Type: typ, From: from, To: string(owner)}})
}

// sendContactPresence sends the contact's last known presence.
func (c *Component) sendContactPresence(ctx context.Context, owner ids.Owner, user ids.UserID) {
	c.mu.Lock()
	ev := c.presence[contactKey{owner, user}]
	c.mu.Unlock()
	p := &stanza.Presence{Attrs: stanza.Attrs{From: c.addr.UserJID(user), To: string(owner)}}
	if ev == nil || !ev.Available {
		p.Type = stanza.PresenceTypeUnavailable
	} else {
		p.Show = stanza.PresenceShow(ev.Show)
	}
	if ev != nil {
		p.Status = ev.Status
		if !ev.Available && !ev.LastSeen.IsZero() {
			p.Extensions = append(p.Extensions, &xep.Idle{Since: ev.LastSeen.UTC().Format(time.RFC3339)})
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
	key := contactKey{owner, user}
	c.mu.Lock()
	asked := c.asked[key]
	c.asked[key] = true
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
