package xep

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// XEP-0356 (Privileged Entity) and the namespaces its payloads carry.
const (
	// NSPrivilege1 is the namespace of XEP-0356 up to version 0.3
	// (ejabberd's mod_privilege before its 2023 update).
	NSPrivilege1 = "urn:xmpp:privilege:1"
	// NSPrivilege2 is the namespace of XEP-0356 0.4 and later (Prosody's
	// mod_privilege, ejabberd 23.10 and later).
	NSPrivilege2 = "urn:xmpp:privilege:2"
	// NSForward is XEP-0297 Stanza Forwarding.
	NSForward = "urn:xmpp:forward:0"
	// NSClient is the client namespace a forwarded stanza is qualified by.
	NSClient = "jabber:client"
	// NSRoster is RFC 6121 roster management. Roster queries use gosrc's
	// stanza.RosterItems, which gosrc registers for this namespace.
	NSRoster = stanza.NSRoster
)

// Privilege accesses (the perm element's access attribute).
const (
	AccessRoster   = "roster"
	AccessMessage  = "message"
	AccessPresence = "presence"
	AccessIQ       = "iq"
)

// Privilege types (the perm element's type attribute). Roster access is
// none, get, set or both; message access is none or outgoing; presence
// access is none, managed_entity or roster.
const (
	PermNone           = "none"
	PermGet            = "get"
	PermSet            = "set"
	PermBoth           = "both"
	PermOutgoing       = "outgoing"
	PermManagedEntity  = "managed_entity"
	PermRosterPresence = "roster"
)

// Privilege is the XEP-0356 <privilege/> message payload. From the server
// it advertises what the component may do (Perms); from the component it
// wraps a message the server is to send on a user's behalf (Forwarded).
// XMLName.Space is NSPrivilege1 or NSPrivilege2; a zero XMLName marshals
// as NSPrivilege2.
type Privilege struct {
	XMLName   xml.Name
	Perms     []Perm     `xml:"perm"`
	Forwarded *Forwarded `xml:"urn:xmpp:forward:0 forwarded"`
}

// Perm is one permission of a privilege advertisement.
type Perm struct {
	// Access is roster, message, presence or iq.
	Access string `xml:"access,attr"`
	// Type is the level granted (see the Perm* constants); empty for iq.
	Type string `xml:"type,attr,omitempty"`
	// Push, in urn:xmpp:privilege:2, says the server pushes roster changes
	// to the entity.
	Push bool `xml:"push,attr,omitempty"`
	// Namespaces lists, for iq access, the namespaces the entity may use.
	Namespaces []PermNamespace `xml:"namespace"`
}

// PermNamespace is one namespace of an iq permission.
type PermNamespace struct {
	NS   string `xml:"ns,attr"`
	Type string `xml:"type,attr,omitempty"`
}

// Perm returns the permission for access, if advertised.
func (p *Privilege) Perm(access string) (Perm, bool) {
	if p == nil {
		return Perm{}, false
	}
	for _, pm := range p.Perms {
		if pm.Access == access {
			return pm, true
		}
	}
	return Perm{}, false
}

// MarshalXML writes the element in XMLName's namespace (NSPrivilege2 if
// unset).
func (p Privilege) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	ns := p.XMLName.Space
	if ns == "" {
		ns = NSPrivilege2
	}
	type plain Privilege // without this method
	return enc.EncodeElement(plain(p), xml.StartElement{Name: xml.Name{Space: ns, Local: "privilege"}})
}

// Forwarded is the XEP-0297 <forwarded/> wrapper.
type Forwarded struct {
	XMLName xml.Name       `xml:"urn:xmpp:forward:0 forwarded"`
	Message *ClientMessage `xml:"jabber:client message"`
}

// ClientMessage is a message stanza qualified by jabber:client, as XEP-0297
// and XEP-0356 require inside <forwarded/>. gosrc's stanza.Message
// marshals without a namespace, which inside <forwarded/> would put it in
// urn:xmpp:forward:0; ClientMessage always writes xmlns='jabber:client'.
// It decodes through stanza.Message's own UnmarshalXML, so registered
// extensions are parsed.
type ClientMessage struct {
	stanza.Message
}

// MarshalXML writes <message xmlns='jabber:client'>.
func (m ClientMessage) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	return enc.EncodeElement(m.Message, xml.StartElement{Name: xml.Name{Space: NSClient, Local: "message"}})
}

func init() {
	for _, ns := range []string{NSPrivilege1, NSPrivilege2} {
		stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: ns, Local: "privilege"}, Privilege{})
	}
}
