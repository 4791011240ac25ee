package xep

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// StanzaError is an RFC 6120 stanza error element. gosrc's stanza.Err
// marshals to nothing unless a legacy code is set, so the component builds
// its errors with this type and adds it as a payload or extension.
type StanzaError struct {
	noResultSet
	// Type is cancel, continue, modify, auth or wait.
	Type string
	// Condition is the defined condition, e.g. "item-not-found".
	Condition string
	// Text is a human-readable explanation (optional).
	Text string
	// App is an application-specific condition (RFC 6120 §8.3.4), an
	// empty element after the text, e.g. XEP-0050's bad-sessionid;
	// zero: none.
	App xml.Name
}

// Namespace implements stanza.IQPayload.
func (*StanzaError) Namespace() string { return "" }

// MarshalXML writes <error type='..'><condition xmlns='..stanzas'/><text/><app-condition/></error>.
func (e StanzaError) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: xml.Name{Local: "error"}, Attr: []xml.Attr{{Name: xml.Name{Local: "type"}, Value: e.Type}}}
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	cond := xml.StartElement{Name: xml.Name{Space: NSStanzas, Local: e.Condition}}
	if err := enc.EncodeToken(cond); err != nil {
		return err
	}
	if err := enc.EncodeToken(cond.End()); err != nil {
		return err
	}
	if e.Text != "" {
		text := xml.StartElement{Name: xml.Name{Space: NSStanzas, Local: "text"}}
		if err := enc.EncodeElement(e.Text, text); err != nil {
			return err
		}
	}
	if e.App.Local != "" {
		app := xml.StartElement{Name: e.App}
		if err := enc.EncodeToken(app); err != nil {
			return err
		}
		if err := enc.EncodeToken(app.End()); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(start.End()); err != nil {
		return err
	}
	return enc.Flush()
}

var _ stanza.IQPayload = (*StanzaError)(nil)

// Nick is an XEP-0172 user nickname.
type Nick struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/nick nick"`
	Value   string   `xml:",chardata"`
}

// NoStore is the XEP-0334 hint that a message should not be stored.
type NoStore struct {
	XMLName xml.Name `xml:"urn:xmpp:hints no-store"`
}
