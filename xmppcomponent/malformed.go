package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// Undecodable stands for an inbound stanza that the connection skipped
// because it could not be decoded or was larger than
// ConnConfig.MaxStanzaSize. The Conn hands it to the Handler in the
// stanza's place, so that its sender gets an error instead of silence.
type Undecodable struct {
	// Kind is the stanza's element name: message, presence or iq.
	Kind string
	// Attrs are the attributes of its start tag.
	Attrs stanza.Attrs
	// TooLarge is set when the stanza was over Limit bytes.
	TooLarge bool
	Limit    int64
}

// Name implements stanza.Packet.
func (Undecodable) Name() string { return "undecodable" }

// undecodable describes the skipped stanza for the Handler; ok is false
// when there is nobody to tell (no start tag, or not a stanza).
func (e *errUndecodable) undecodable(limit int64) (Undecodable, bool) {
	switch e.start.Name.Local {
	case "message", "presence", "iq":
	default:
		return Undecodable{}, false
	}
	u := Undecodable{Kind: e.start.Name.Local, TooLarge: errors.Is(e.err, errStanzaTooLarge), Limit: limit}
	for _, a := range e.start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "from":
			u.Attrs.From = a.Value
		case "to":
			u.Attrs.To = a.Value
		case "id":
			u.Attrs.Id = a.Value
		case "type":
			u.Attrs.Type = stanza.StanzaType(a.Value)
		}
	}
	return u, u.Attrs.From != ""
}

// onUndecodable answers a skipped stanza with a stanza error, as RFC 6120
// §8.3 asks, except where no reply is allowed (errors, IQ results).
func (c *Component) onUndecodable(ctx context.Context, u Undecodable) {
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
