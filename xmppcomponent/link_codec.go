package xmppcomponent

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// linkStreamHeader opens the component stream a routed stanza is read
// in, so that it decodes with the namespaces it had on the link.
const linkStreamHeader = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams">`

// linkStreamEnd closes it, so that the end of the entry can be checked.
const linkStreamEnd = `</stream:stream>`

// EncodeStanza is the form of a stanza in a cluster queue (an owner's
// inbox, the front's outbox): its XML as the component's connection
// writes it (stream.Marshal), so that the front can write an outbox
// entry as it is (stream.Encoded).
func EncodeStanza(p stanza.Packet) ([]byte, error) {
	b, err := stream.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("xmppcomponent: encoding <%s>: %w", p.Name(), err)
	}
	return b, nil
}

// DecodeStanza reads back what EncodeStanza wrote: a stanza.Message,
// stanza.Presence or *stanza.IQ, as the link's reader gives them. The
// entry must hold that one stanza and nothing after it but white space,
// so that its bytes may be written to the stream as they are.
func DecodeStanza(b []byte) (stanza.Packet, error) {
	in := make([]byte, 0, len(linkStreamHeader)+len(b)+len(linkStreamEnd))
	in = append(append(append(in, linkStreamHeader...), b...), linkStreamEnd...)
	d := xml.NewDecoder(bytes.NewReader(in))
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("xmppcomponent: decoding a routed stanza: %w", err)
	}
	p, err := stanza.NextPacket(d)
	if err != nil {
		return nil, fmt.Errorf("xmppcomponent: decoding a routed stanza: %w", err)
	}
	switch p.(type) {
	case stanza.Message, stanza.Presence, *stanza.IQ:
	default:
		return nil, errors.New("xmppcomponent: a routed entry is no stanza: " + p.Name())
	}
	ended := false
	for {
		tok, err := d.Token()
		switch {
		case errors.Is(err, io.EOF) && ended:
			return p, nil
		case err != nil:
			return nil, fmt.Errorf("xmppcomponent: after a routed stanza: %w", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.EndElement:
			if !ended {
				ended = true // the stream's end, appended above
				continue
			}
		}
		return nil, errors.New("xmppcomponent: a routed entry holds more than one stanza")
	}
}
