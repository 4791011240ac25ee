package media

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

// XML namespaces used here.
const (
	NSHTTPUpload = "urn:xmpp:http:upload:0"
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsDataForms  = "jabber:x:data"
)

// IQSender sends an IQ get or set and returns the reply. For a type=error
// reply it returns the reply together with an error, as
// *stream.Conn's SendIQ does (a nil reply with an error is accepted
// too).
type IQSender interface {
	SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error)
}

// slotRequest is the XEP-0363 slot request.
type slotRequest struct {
	XMLName     xml.Name `xml:"urn:xmpp:http:upload:0 request"`
	Filename    string   `xml:"filename,attr"`
	Size        int64    `xml:"size,attr"`
	ContentType string   `xml:"content-type,attr,omitempty"`
}

// Namespace implements stanza.IQPayload.
func (*slotRequest) Namespace() string { return NSHTTPUpload }

// GetSet implements stanza.IQPayload.
func (*slotRequest) GetSet() *stanza.ResultSet { return nil }

// slotXML is the XEP-0363 slot the service answers with.
type slotXML struct {
	XMLName xml.Name `xml:"urn:xmpp:http:upload:0 slot"`
	Put     struct {
		URL     string `xml:"url,attr"`
		Headers []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"header"`
	} `xml:"put"`
	Get struct {
		URL string `xml:"url,attr"`
	} `xml:"get"`
}

// Namespace implements stanza.IQPayload.
func (*slotXML) Namespace() string { return NSHTTPUpload }

// GetSet implements stanza.IQPayload.
func (*slotXML) GetSet() *stanza.ResultSet { return nil }

func init() {
	// Replies with a slot decode into slotXML (nothing else claims it).
	stanza.TypeRegistry.MapExtension(stanza.PKTIQ, xml.Name{Space: NSHTTPUpload, Local: "slot"}, slotXML{})
}

// discoInfoXML is the part of a disco#info result Discover reads,
// including XEP-0128 data forms.
type discoInfoXML struct {
	XMLName  xml.Name `xml:"http://jabber.org/protocol/disco#info query"`
	Features []struct {
		Var string `xml:"var,attr"`
	} `xml:"feature"`
	Forms []formXML `xml:"jabber:x:data x"`
}

// formXML is an XEP-0004 data form, as far as Discover needs it.
type formXML struct {
	Type   string `xml:"type,attr"`
	Fields []struct {
		Var    string   `xml:"var,attr"`
		Values []string `xml:"value"`
	} `xml:"field"`
}

// value returns the first value of field v.
func (f *formXML) value(v string) string {
	for _, fl := range f.Fields {
		if fl.Var == v && len(fl.Values) > 0 {
			return fl.Values[0]
		}
	}
	return ""
}

// discoItemsXML is a disco#items result.
type discoItemsXML struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/disco#items query"`
	Items   []struct {
		JID  string `xml:"jid,attr"`
		Node string `xml:"node,attr"`
	} `xml:"item"`
}

var errNoPayload = errors.New("the reply has no payload")

// decodePayload copies an IQ's payload into dst, whatever Go type the
// stanza registry decoded it into: the payload is marshalled back to XML
// and unmarshalled into dst, so that dst sees every element the registered
// type kept. (gosrc's own disco#info type, for one, drops data forms.)
func decodePayload(iq *stanza.IQ, dst any) error {
	var src any
	switch {
	case iq.Payload != nil:
		src = iq.Payload
	case iq.Any != nil:
		src = iq.Any
	default:
		return errNoPayload
	}
	b, err := xml.Marshal(src)
	if err != nil {
		return fmt.Errorf("re-encoding the reply payload: %w", err)
	}
	if err := xml.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("decoding the reply payload: %w", err)
	}
	return nil
}
