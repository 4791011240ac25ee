package xep

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// Namespaces of multi-user chat (XEP-0045) and what rooms add to it.
const (
	NSMUC      = "http://jabber.org/protocol/muc"
	NSMUCUser  = "http://jabber.org/protocol/muc#user"
	NSMUCAdmin = "http://jabber.org/protocol/muc#admin"
	NSMUCInfo  = "http://jabber.org/protocol/muc#roominfo"
	// NSMUCRequest is the FORM_TYPE of a voice request (XEP-0045 §7.13).
	NSMUCRequest = "http://jabber.org/protocol/muc#request"
	NSOccupantID = "urn:xmpp:occupant-id:0"
	NSConference = "jabber:x:conference"
	NSMAM        = "urn:xmpp:mam:2"
	NSRSM        = "http://jabber.org/protocol/rsm"
)

// MUCJoin is the XEP-0045 <x xmlns='http://jabber.org/protocol/muc'/> of
// a presence that joins a room, with the history the occupant asks for.
// It replaces gosrc's MucPresence, whose history parser accepts only
// one of the forms XEP-0082 allows (no fractions, no offsets), so that a
// client's valid join failed to parse.
type MUCJoin struct {
	XMLName  xml.Name    `xml:"http://jabber.org/protocol/muc x"`
	History  *MUCHistory `xml:"history,omitempty"`
	Password string      `xml:"password,omitempty"`
}

// MUCHistory is what a join asks of the room's history (XEP-0045
// §7.2.15); a nil limit is absent. Since is an XEP-0082 DateTime, checked
// by the room.
type MUCHistory struct {
	MaxChars   *int   `xml:"maxchars,attr,omitempty"`
	MaxStanzas *int   `xml:"maxstanzas,attr,omitempty"`
	Seconds    *int   `xml:"seconds,attr,omitempty"`
	Since      string `xml:"since,attr,omitempty"`
}

// MUCUser is the XEP-0045 muc#user payload of presences and messages:
// occupant items, status codes and mediated invitations.
type MUCUser struct {
	XMLName xml.Name    `xml:"http://jabber.org/protocol/muc#user x"`
	Items   []MUCItem   `xml:"item"`
	Status  []MUCStatus `xml:"status"`
	Invite  []MUCInvite `xml:"invite"`
}

// MUCItem is an occupant's affiliation and role.
type MUCItem struct {
	Affiliation string `xml:"affiliation,attr,omitempty"`
	Role        string `xml:"role,attr,omitempty"`
	JID         string `xml:"jid,attr,omitempty"`
	Nick        string `xml:"nick,attr,omitempty"`
	Reason      string `xml:"reason,omitempty"`
}

// MUCStatus is a status code.
type MUCStatus struct {
	Code int `xml:"code,attr"`
}

// MUCInvite is a mediated invitation (to, from the user) or its relay
// (from, to the invitee).
type MUCInvite struct {
	To     string `xml:"to,attr,omitempty"`
	From   string `xml:"from,attr,omitempty"`
	Reason string `xml:"reason,omitempty"`
}

// MUCAdmin is the muc#admin query: kick (role none), grant and revoke
// affiliations.
type MUCAdmin struct {
	noResultSet
	XMLName xml.Name  `xml:"http://jabber.org/protocol/muc#admin query"`
	Items   []MUCItem `xml:"item"`
}

// Namespace implements stanza.IQPayload.
func (*MUCAdmin) Namespace() string { return NSMUCAdmin }

// OccupantID is the XEP-0421 stable occupant identifier.
type OccupantID struct {
	XMLName xml.Name `xml:"urn:xmpp:occupant-id:0 occupant-id"`
	ID      string   `xml:"id,attr"`
}

// StanzaID is the XEP-0359 id a room gives a message.
type StanzaID struct {
	XMLName xml.Name `xml:"urn:xmpp:sid:0 stanza-id"`
	ID      string   `xml:"id,attr"`
	By      string   `xml:"by,attr"`
}

// Delay is the XEP-0203 delayed-delivery stamp.
type Delay struct {
	XMLName xml.Name `xml:"urn:xmpp:delay delay"`
	From    string   `xml:"from,attr,omitempty"`
	Stamp   string   `xml:"stamp,attr"`
}

// Subject is a message's <subject/>, written even when empty (an empty
// subject ends a room join); gosrc's Message.Subject omits it then.
type Subject struct {
	XMLName xml.Name `xml:"subject"`
	Text    string   `xml:",chardata"`
}

// DirectInvite is the XEP-0249 direct invitation.
type DirectInvite struct {
	XMLName xml.Name `xml:"jabber:x:conference x"`
	JID     string   `xml:"jid,attr"`
	Reason  string   `xml:"reason,attr,omitempty"`
}

// MAMQuery is an XEP-0313 archive query with XEP-0059 paging.
type MAMQuery struct {
	noResultSet
	XMLName xml.Name `xml:"urn:xmpp:mam:2 query"`
	QueryID string   `xml:"queryid,attr,omitempty"`
	// Form holds the filters (start, end, with), if any.
	Form *Form   `xml:"jabber:x:data x,omitempty"`
	Set  *RSMSet `xml:"http://jabber.org/protocol/rsm set,omitempty"`
}

// Namespace implements stanza.IQPayload.
func (*MAMQuery) Namespace() string { return NSMAM }

// RSMSet is an XEP-0059 result set request or answer. Before is nil when
// absent, empty for "the last page".
type RSMSet struct {
	XMLName xml.Name  `xml:"http://jabber.org/protocol/rsm set"`
	Max     *int      `xml:"max,omitempty"`
	After   *string   `xml:"after,omitempty"`
	Before  *string   `xml:"before,omitempty"`
	First   *RSMFirst `xml:"first,omitempty"`
	Last    string    `xml:"last,omitempty"`
	Count   *int      `xml:"count,omitempty"`
}

// RSMFirst is the first item of a page.
type RSMFirst struct {
	Index int    `xml:"index,attr"`
	ID    string `xml:",chardata"`
}

// MAMFin ends an archive query.
type MAMFin struct {
	noResultSet
	XMLName  xml.Name `xml:"urn:xmpp:mam:2 fin"`
	Complete bool     `xml:"complete,attr,omitempty"`
	Set      RSMSet
}

// Namespace implements stanza.IQPayload.
func (*MAMFin) Namespace() string { return NSMAM }

// MAMResult carries one archived message.
type MAMResult struct {
	XMLName   xml.Name     `xml:"urn:xmpp:mam:2 result"`
	QueryID   string       `xml:"queryid,attr,omitempty"`
	ID        string       `xml:"id,attr"`
	Forwarded MAMForwarded `xml:"urn:xmpp:forward:0 forwarded"`
}

// MAMForwarded is an XEP-0297 wrapper with its delay stamp.
type MAMForwarded struct {
	Delay   Delay          `xml:"urn:xmpp:delay delay"`
	Message *ClientMessage `xml:"jabber:client message"`
}

func init() {
	// Registered after gosrc's own init (this package imports stanza), so
	// MUCJoin replaces stanza.MucPresence.
	stanza.TypeRegistry.MapExtension(stanza.PKTPresence, xml.Name{Space: NSMUC, Local: "x"}, MUCJoin{})
	stanza.TypeRegistry.MapExtension(stanza.PKTPresence, xml.Name{Space: NSMUCUser, Local: "x"}, MUCUser{})
	stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: NSMUCUser, Local: "x"}, MUCUser{})
	stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: NSConference, Local: "x"}, DirectInvite{})
	// A data form in a message: a voice request (XEP-0045 §7.13).
	stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: NSDataForms, Local: "x"}, Form{})
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSMUCAdmin, Local: "query"}, MUCAdmin{})
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSMAM, Local: "query"}, MAMQuery{})
}
