package xmppcomponent

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

// linkStreamHeader opens the component stream a routed stanza is read
// in, so that it decodes with the namespaces it had on the link.
const linkStreamHeader = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams">`

// EncodeStanza is the form of a stanza in a cluster queue (an owner's
// inbox, the front's outbox): its XML.
func EncodeStanza(p stanza.Packet) ([]byte, error) {
	b, err := xml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("xmppcomponent: encoding <%s>: %w", p.Name(), err)
	}
	return b, nil
}

// DecodeStanza reads back what EncodeStanza wrote: a stanza.Message,
// stanza.Presence or *stanza.IQ, as the link's reader gives them.
func DecodeStanza(b []byte) (stanza.Packet, error) {
	d := xml.NewDecoder(bytes.NewReader(append([]byte(linkStreamHeader), b...)))
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("xmppcomponent: decoding a routed stanza: %w", err)
	}
	p, err := stanza.NextPacket(d)
	if err != nil {
		return nil, fmt.Errorf("xmppcomponent: decoding a routed stanza: %w", err)
	}
	switch p.(type) {
	case stanza.Message, stanza.Presence, *stanza.IQ:
		return p, nil
	}
	return nil, errors.New("xmppcomponent: a routed entry is no stanza: " + p.Name())
}
