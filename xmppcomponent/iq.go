package xmppcomponent

import (
	"context"
	"encoding/xml"
	"runtime"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// onIQ answers requests; results and errors that no SendIQ awaits are
// ignored as RFC 6120 requires.
func (c *Component) onIQ(ctx context.Context, iq *stanza.IQ) {
	if iq.Type != stanza.IQTypeGet && iq.Type != stanza.IQTypeSet {
		if iq.Type != stanza.IQTypeResult && iq.Type != stanza.IQTypeError && iq.From != "" {
			// RFC 6120 §8.2.3: no other type exists; never answer silence.
			c.replyIQError(ctx, iq, errBadRequest("an iq's type must be get, set, result or error"))
		}
		return
	}
	from, to, err := c.parseAddrs(iq.Attrs)
	if err != nil {
		c.replyIQError(ctx, iq, errBadRequest(err.Error()))
		return
	}
	if c.isRoom(to) {
		c.onRoomIQ(ctx, iq, from, to) // muc_iq.go
		return
	}
	switch p := iq.Payload.(type) {
	case *xep.DiscoInfo:
		if iq.Type == stanza.IQTypeGet {
			c.discoInfo(ctx, iq, from, to, p)
			return
		}
	case *stanza.DiscoItems:
		if iq.Type == stanza.IQTypeGet {
			c.discoItems(ctx, iq, from, to, p)
			return
		}
	case *xep.Ping:
		if iq.Type == stanza.IQTypeGet {
			c.replyIQ(ctx, iq, nil)
			return
		}
	case *stanza.Version:
		if iq.Type == stanza.IQTypeGet && c.isGateway(to) {
			c.replyIQ(ctx, iq, &stanza.Version{
				XMLName: xml.Name{Space: xep.NSVersion, Local: "query"},
				Name:    "Drawbridge", Version: c.cfg.Version, OS: runtime.GOOS,
			})
			return
		}
	case *xep.VCard:
		if iq.Type == stanza.IQTypeGet {
			c.onVCard(ctx, iq, from, to)
			return
		}
	case *xep.Register:
		if c.isGateway(to) {
			c.onRegister(ctx, iq, from, p)
			return
		}
	case *xep.Gateway:
		if c.isGateway(to) {
			c.onGatewayIQ(ctx, iq, from, p)
			return
		}
	case *xep.Command:
		if iq.Type == stanza.IQTypeSet && c.isGateway(to) {
			c.onCommand(ctx, iq, from, p)
			return
		}
	}
	c.replyIQError(ctx, iq, errServiceUnavailable)
}

// replyIQ sends a result; payload may be nil.
func (c *Component) replyIQ(ctx context.Context, iq *stanza.IQ, payload stanza.IQPayload) {
	res := &stanza.IQ{
		XMLName: xml.Name{Local: "iq"},
		Attrs:   stanza.Attrs{Type: stanza.IQTypeResult, Id: iq.Id, From: iq.To, To: iq.From},
		Payload: payload,
	}
	c.send(ctx, res)
}

// replyIQError sends an error reply.
func (c *Component) replyIQError(ctx context.Context, iq *stanza.IQ, se xep.StanzaError) {
	c.send(ctx, errorIQ(iq, se))
}

// errorIQ is the error that answers iq: from its addressee to its sender,
// with its id.
func errorIQ(iq *stanza.IQ, se xep.StanzaError) *stanza.IQ {
	return &stanza.IQ{
		XMLName: xml.Name{Local: "iq"},
		Attrs:   stanza.Attrs{Type: stanza.IQTypeError, Id: iq.Id, From: iq.To, To: iq.From},
		Payload: &se,
	}
}

// replyErr maps err to a stanza error and sends it, logging internal ones.
func (c *Component) replyErr(ctx context.Context, iq *stanza.IQ, from jid.JID, err error) {
	se, internal := stanzaError(err)
	if internal {
		c.log.Error("request failed", "from", from.String(), "err", err)
	}
	c.replyIQError(ctx, iq, se)
}
