package xmppcomponent

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// AdmitAtFront makes, at the front of a sharded cluster, the checks of a
// new message that need no session of its sender: the hub's body and
// file limits and the sender's message rate, whose token it takes
// (Hub.FrontAdmitMessage). The front calls it before it posts p to its
// owner's inbox, so that a sender over its rate is answered at once and
// queues nothing in Redis. It returns the error stanza that answers a
// refused message (the one admit gives in a single process), or whether
// p was admitted: an admitted message is posted marked so, and its
// worker gives it to FeedWait with FeedOptions.Admitted, which then
// takes no second token. Anything admit does not check (other stanzas,
// corrections, markers) is neither refused nor admitted.
func (c *Component) AdmitAtFront(p stanza.Packet) (refusal stanza.Packet, admitted bool) {
	var m stanza.Message
	switch s := p.(type) {
	case stanza.Message:
		m = s
	case *stanza.Message:
		m = *s
	default:
		return nil, false
	}
	bodyBytes, files, ok := c.admissible(m)
	if !ok {
		return nil, false
	}
	from, _, err := c.parseAddrs(m.Attrs)
	if err != nil {
		return nil, false // the worker's handler answers bad-request
	}
	if err := c.gw.FrontAdmitMessage(Owner(from), bodyBytes, files); err != nil {
		c.logErr("message refused on arrival at the front", Owner(from), err)
		return Refusal(p, err), false
	}
	return nil, true
}

// Refusal is the error stanza that answers p with err mapped as the hub's
// errors are (a message, presence or IQ of type error, from p's
// addressee to its sender, with p's id); nil when p is itself an error
// or an IQ result, which nobody answers (RFC 6120 §8.3.1).
func Refusal(p stanza.Packet, err error) stanza.Packet {
	se := mapErr(err)
	switch s := p.(type) {
	case *stanza.Message:
		return Refusal(*s, err)
	case stanza.Message:
		if s.Type == stanza.MessageTypeError {
			return nil
		}
		return errorMessage(s, se)
	case *stanza.Presence:
		return Refusal(*s, err)
	case stanza.Presence:
		if s.Type == stanza.PresenceTypeError {
			return nil
		}
		return &stanza.Presence{
			XMLName:    xml.Name{Local: "presence"},
			Attrs:      stanza.Attrs{Type: stanza.PresenceTypeError, Id: s.Id, From: s.To, To: s.From},
			Extensions: []stanza.PresExtension{se},
		}
	case *stanza.IQ:
		if s.Type == stanza.IQTypeError || s.Type == stanza.IQTypeResult {
			return nil
		}
		return errorIQ(s, se)
	}
	return nil
}
