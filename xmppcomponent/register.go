package xmppcomponent

import (
	"context"
	"fmt"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// onRegister serves XEP-0077 in-band registration with the gateway.
// Registering needs no fields: linking the platform account is a separate
// step (the "link" command), so that QR and pairing-code flows fit.
func (c *Component) onRegister(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Register) {
	owner := Owner(from)
	switch {
	case iq.Type == stanza.IQTypeGet:
		res := &xep.Register{Instructions: c.instructions()}
		if _, err := c.gw.Account(ctx, owner, c.cfg.Platform); err == nil {
			res.Registered = &struct{}{}
		}
		c.replyIQ(ctx, iq, res)
	case q.Remove != nil:
		contacts, _ := c.gw.Contacts(ctx, owner, c.cfg.Platform)
		if err := c.gw.Unregister(ctx, owner, c.cfg.Platform); err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
		c.replyIQ(ctx, iq, nil)
		// XEP-0100: the gateway and its contacts leave the roster.
		for _, ct := range contacts {
			c.sendUnsubscribe(ctx, c.addr.UserJID(ct.User), owner)
		}
		c.sendUnsubscribe(ctx, c.domain, owner)
		c.forget(owner)
	default:
		if err := c.gw.Register(ctx, owner, c.cfg.Platform); err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
		c.replyIQ(ctx, iq, nil)
		// XEP-0100: the gateway asks to be in the user's roster.
		c.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{Type: stanza.PresenceTypeSubscribe, From: c.domain, To: string(owner)}})
	}
}

func (c *Component) instructions() string {
	return fmt.Sprintf("Register to use %s through this gateway. Then link your %s account: run the \"Link account\" command, or send \"link\" to %s in a chat.",
		c.info.Name, c.info.Name, c.domain)
}

func (c *Component) sendUnsubscribe(ctx context.Context, from string, owner ids.Owner) {
	for _, t := range []stanza.StanzaType{stanza.PresenceTypeUnsubscribe, stanza.PresenceTypeUnsubscribed, stanza.PresenceTypeUnavailable} {
		c.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{Type: t, From: from, To: string(owner)}})
	}
}

// onGatewayIQ serves XEP-0100 jabber:iq:gateway: the prompt, and turning a
// phone number into a contact JID.
func (c *Component) onGatewayIQ(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Gateway) {
	if iq.Type == stanza.IQTypeGet {
		prompt := c.info.UserPrompt
		c.replyIQ(ctx, iq, &xep.Gateway{Desc: "Enter the " + c.info.Name + " contact's phone number.", Prompt: &prompt})
		return
	}
	if q.Prompt == nil || *q.Prompt == "" {
		c.replyIQError(ctx, iq, errBadRequest("a <prompt/> with the contact's address is required"))
		return
	}
	user, err := c.gw.ResolveUser(ctx, Owner(from), c.cfg.Platform, *q.Prompt)
	if err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.replyIQ(ctx, iq, &xep.Gateway{JID: c.addr.UserJID(user)})
}
