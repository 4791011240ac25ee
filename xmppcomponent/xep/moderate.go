package xep

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// NSModerate is XEP-0425 Message Moderation, version 0.3.
const NSModerate = "urn:xmpp:message-moderate:1"

// Moderate is an XEP-0425 request to a room: retract message ID (the
// room's stanza-id) for everyone.
type Moderate struct {
	noResultSet
	XMLName xml.Name      `xml:"urn:xmpp:message-moderate:1 moderate"`
	ID      string        `xml:"id,attr"`
	Retract *RetractEmpty `xml:"urn:xmpp:message-retract:1 retract"`
	Reason  string        `xml:"reason,omitempty"`
}

// Namespace implements stanza.IQPayload.
func (*Moderate) Namespace() string { return NSModerate }

// RetractEmpty is the empty XEP-0424 retract element of a moderation
// request.
type RetractEmpty struct{}

// ModeratedRetract is the retraction a room sends when a moderator
// removed message ID (XEP-0425 §5).
type ModeratedRetract struct {
	XMLName   xml.Name  `xml:"urn:xmpp:message-retract:1 retract"`
	ID        string    `xml:"id,attr"`
	Moderated Moderated `xml:"urn:xmpp:message-moderate:1 moderated"`
	Reason    string    `xml:"reason,omitempty"`
}

// Moderated names who moderated a message.
type Moderated struct {
	By         string      `xml:"by,attr"`
	OccupantID *OccupantID `xml:"urn:xmpp:occupant-id:0 occupant-id,omitempty"`
}

func init() {
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSModerate, Local: "moderate"}, Moderate{})
}
