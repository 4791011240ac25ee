package xmppcomponent

import (
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// onUndecodable answers a skipped stanza with a stanza error, as RFC 6120
// §8.3 asks, except where no reply is allowed (errors, IQ results).
func (c *Component) onUndecodable(ctx context.Context, u stream.Undecodable) {
	se := errBadRequest("the gateway could not parse this " + u.Kind)
	if u.TooLarge {
		se = xep.StanzaError{Type: "modify", Condition: "policy-violation",
			Text: fmt.Sprintf("this %s is larger than the gateway accepts (%d bytes)", u.Kind, u.Limit)}
	}
	c.log.Info("answering a skipped stanza", "kind", u.Kind, "from", u.Attrs.From, "condition", se.Condition)
	a := u.Attrs
	if a.Type == stanza.StanzaType("error") {
		return
	}
	reply := stanza.Attrs{Type: "error", Id: a.Id, From: a.To, To: a.From}
	switch u.Kind {
	case "iq":
		if a.Type == stanza.IQTypeResult {
			return
		}
		c.send(ctx, &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: reply, Payload: &se})
	case "message":
		c.send(ctx, &stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: reply, Extensions: []stanza.MsgExtension{se}})
	case "presence":
		c.send(ctx, &stanza.Presence{XMLName: xml.Name{Local: "presence"}, Attrs: reply, Extensions: []stanza.PresExtension{se}})
	}
}
