package xmppcomponent

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestStanzaCodecRoundTrip: a stanza encoded for a cluster queue decodes
// to the same stanza, registered payloads included; what is no stanza is
// refused.
func TestStanzaCodecRoundTrip(t *testing.T) {
	for _, raw := range []string{
		`<message type='chat' id='m1' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>hi &amp; bye</body><replace xmlns='urn:xmpp:message-correct:0' id='m0'/></message>`,
		`<message type='chat' id='r1' from='alice@example.test/phone' to='+15550000001@gw.example.test'><reactions xmlns='urn:xmpp:reactions:0' id='m0'><reaction>👍</reaction></reactions></message>`,
		`<presence type='subscribe' from='alice@example.test' to='+15550000001@gw.example.test'/>`,
		`<iq type='get' id='d1' from='alice@example.test/phone' to='gw.example.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
	} {
		p, err := xmpptest.ParseStanza(raw)
		if err != nil {
			t.Fatal(err)
		}
		b, err := EncodeStanza(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeStanza(b)
		if err != nil {
			t.Fatalf("decoding %s: %v", b, err)
		}
		again, err := EncodeStanza(q)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(b) {
			t.Errorf("round trip of %s:\n got %s\nwant %s", raw, again, b)
		}
		for _, part := range strings.Split(raw, "xmlns='")[1:] {
			if ns := part[:strings.IndexByte(part, '\'')]; !strings.Contains(string(b), `xmlns="`+ns+`"`) {
				t.Errorf("the payload %s of %s was lost: %s", ns, raw, b)
			}
		}
	}
	// What follows the stanza would be written to the stream with it
	// (the front writes an outbox entry as it is): refused.
	for _, bad := range []string{``, `<message`, `<handshake>x</handshake>`,
		`<message id='a'/><message id='b'/>`, `<message id='a'/></stream:stream><message/>`,
		`<message id='a'/>text`, `<message id='a'/></stream:stream>`, `<message id='a'/><!-- x -->`} {
		if _, err := DecodeStanza([]byte(bad)); err == nil {
			t.Errorf("DecodeStanza(%q) succeeded", bad)
		}
	}
}
