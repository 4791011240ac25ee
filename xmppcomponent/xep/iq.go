package xep

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// Register is the XEP-0077 in-band registration query.
type Register struct {
	noResultSet
	XMLName      xml.Name  `xml:"jabber:iq:register query"`
	Instructions string    `xml:"instructions,omitempty"`
	Registered   *struct{} `xml:"registered,omitempty"`
	Remove       *struct{} `xml:"remove,omitempty"`
	Username     *string   `xml:"username,omitempty"`
	// Phone is the legacy registration field for a phone number.
	Phone *string `xml:"phone,omitempty"`
	Form  *Form   `xml:"jabber:x:data x,omitempty"`
}

// Namespace implements stanza.IQPayload.
func (*Register) Namespace() string { return NSRegister }

// Gateway is the XEP-0100 jabber:iq:gateway query: a prompt for a
// platform address, and the JID it maps to.
type Gateway struct {
	noResultSet
	XMLName xml.Name `xml:"jabber:iq:gateway query"`
	Desc    string   `xml:"desc,omitempty"`
	Prompt  *string  `xml:"prompt,omitempty"`
	JID     string   `xml:"jid,omitempty"`
}

// Namespace implements stanza.IQPayload.
func (*Gateway) Namespace() string { return NSGateway }

// Ping is the XEP-0199 ping.
type Ping struct {
	noResultSet
	XMLName xml.Name `xml:"urn:xmpp:ping ping"`
}

// Namespace implements stanza.IQPayload.
func (*Ping) Namespace() string { return NSPing }

// Command is an XEP-0050 ad-hoc command.
type Command struct {
	noResultSet
	XMLName   xml.Name `xml:"http://jabber.org/protocol/commands command"`
	Node      string   `xml:"node,attr"`
	SessionID string   `xml:"sessionid,attr,omitempty"`
	Action    string   `xml:"action,attr,omitempty"`
	Status    string   `xml:"status,attr,omitempty"`
	Actions   *Actions `xml:"actions,omitempty"`
	Notes     []Note   `xml:"note,omitempty"`
	Form      *Form    `xml:"jabber:x:data x,omitempty"`
}

// Namespace implements stanza.IQPayload.
func (*Command) Namespace() string { return NSCommands }

// Actions lists the actions a command's next stage allows.
type Actions struct {
	Execute  string    `xml:"execute,attr,omitempty"`
	Prev     *struct{} `xml:"prev,omitempty"`
	Next     *struct{} `xml:"next,omitempty"`
	Complete *struct{} `xml:"complete,omitempty"`
}

// Note is a human-readable note of a command stage.
type Note struct {
	Type string `xml:"type,attr,omitempty"`
	Text string `xml:",chardata"`
}

// Command statuses and actions.
const (
	StatusExecuting = "executing"
	StatusCompleted = "completed"
	StatusCanceled  = "canceled"

	ActionExecute  = "execute"
	ActionNext     = "next"
	ActionComplete = "complete"
	ActionCancel   = "cancel"
	ActionPrev     = "prev"
)

// DiscoInfo is a disco#info result with XEP-0128 extended information
// (data forms), which gosrc's type cannot carry.
type DiscoInfo struct {
	noResultSet
	XMLName    xml.Name          `xml:"http://jabber.org/protocol/disco#info query"`
	Node       string            `xml:"node,attr,omitempty"`
	Identities []stanza.Identity `xml:"identity"`
	Features   []stanza.Feature  `xml:"feature"`
	Forms      []Form            `xml:"jabber:x:data x"`
}

// Namespace implements stanza.IQPayload.
func (*DiscoInfo) Namespace() string { return NSDiscoInfo }

// AddIdentity appends an identity.
func (d *DiscoInfo) AddIdentity(name, category, typ string) {
	d.Identities = append(d.Identities, stanza.Identity{Name: name, Category: category, Type: typ})
}

// AddFeatures appends features.
func (d *DiscoInfo) AddFeatures(vars ...string) {
	for _, v := range vars {
		d.Features = append(d.Features, stanza.Feature{Var: v})
	}
}

// VCard is the part of a vcard-temp (XEP-0054) card the gateway fills.
type VCard struct {
	noResultSet
	XMLName  xml.Name `xml:"vcard-temp vCard"`
	FN       string   `xml:"FN,omitempty"`
	Nickname string   `xml:"NICKNAME,omitempty"`
	Tel      *VCardTel
	Photo    *VCardPhoto `xml:"PHOTO,omitempty"`
}

// Namespace implements stanza.IQPayload.
func (*VCard) Namespace() string { return NSVCardTemp }

// VCardTel is a telephone number of a vCard.
type VCardTel struct {
	XMLName xml.Name  `xml:"TEL"`
	Cell    *struct{} `xml:"CELL,omitempty"`
	Number  string    `xml:"NUMBER"`
}

// VCardPhoto is a vCard's picture, inline.
type VCardPhoto struct {
	Type   string `xml:"TYPE"`
	BinVal string `xml:"BINVAL"`
}

// VCardUpdate is the XEP-0153 avatar hash in presence; an empty Photo
// element means "no avatar", a missing one "not known yet".
type VCardUpdate struct {
	XMLName xml.Name `xml:"vcard-temp:x:update x"`
	Photo   *string  `xml:"photo"`
}

// Idle is the XEP-0319 last-active time in presence.
type Idle struct {
	XMLName xml.Name `xml:"urn:xmpp:idle:1 idle"`
	Since   string   `xml:"since,attr"`
}

func init() {
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSVCardTemp, Local: "vCard"}, VCard{})
	// Our disco#info type keeps XEP-0128 forms (upload limits, reaction
	// restrictions) that gosrc's drops.
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSDiscoInfo, Local: "query"}, DiscoInfo{})
}
