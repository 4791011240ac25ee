// Package xep holds the XMPP payload types Drawbridge adds to those of
// gosrc.io/xmpp/stanza, registered with stanza.TypeRegistry so that inbound
// stanzas decode them and outbound stanzas carry them.
package xep

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// Namespaces used by the component.
const (
	NSRegister   = "jabber:iq:register"
	NSGateway    = "jabber:iq:gateway"
	NSCommands   = "http://jabber.org/protocol/commands"
	NSPing       = "urn:xmpp:ping"
	NSVersion    = "jabber:iq:version"
	NSDiscoInfo  = "http://jabber.org/protocol/disco#info"
	NSDiscoItems = "http://jabber.org/protocol/disco#items"
	NSStanzas    = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSNick       = "http://jabber.org/protocol/nick"
	NSReceipts   = "urn:xmpp:receipts"
	NSMarkers    = "urn:xmpp:chat-markers:0"
	NSChatStates = "http://jabber.org/protocol/chatstates"
	NSHints      = "urn:xmpp:hints"
	NSDataForms  = "jabber:x:data"
)

// noResultSet gives IQ payloads the stanza.IQPayload method they need.
type noResultSet struct{}

// GetSet implements stanza.IQPayload.
func (noResultSet) GetSet() *stanza.ResultSet { return nil }

func init() {
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSRegister, Local: "query"}, Register{})
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSGateway, Local: "query"}, Gateway{})
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSCommands, Local: "command"}, Command{})
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSPing, Local: "ping"}, Ping{})
	stanza.TypeRegistry.MapExtension(stanza.PKTPresence, xml.Name{Space: NSNick, Local: "nick"}, Nick{})
	stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: NSNick, Local: "nick"}, Nick{})
	stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: NSHints, Local: "no-store"}, NoStore{})
}
