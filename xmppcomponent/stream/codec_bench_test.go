package stream

import (
	"encoding/xml"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

const benchInbound = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams">` +
	`<message type='chat' id='m1' from='alice@example.test/phone' to='+15550000001@gw.example.test'>` +
	`<body>hello drawbridge, this is a benchmark message</body><request xmlns='urn:xmpp:receipts'/>` +
	`<active xmlns='http://jabber.org/protocol/chatstates'/></message>`

// BenchmarkDecodeMessage parses one inbound chat message stanza.
func BenchmarkDecodeMessage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d := xml.NewDecoder(strings.NewReader(benchInbound))
		if _, err := d.Token(); err != nil {
			b.Fatal(err)
		}
		p, err := stanza.NextPacket(d)
		if err != nil {
			b.Fatal(err)
		}
		if m, ok := p.(stanza.Message); !ok || m.Body == "" {
			b.Fatalf("decoded %T", p)
		}
	}
}

// BenchmarkDecodeMessageLean parses the same message with the lean
// decoder (from the stanza's bytes, as the reader holds them).
func BenchmarkDecodeMessageLean(b *testing.B) {
	el := []byte(benchInbound[strings.Index(benchInbound, "<message"):])
	b.ReportAllocs()
	for b.Loop() {
		m, ok := leanMessage(string(el), stanza.NSComponent)
		if !ok || m.Body == "" {
			b.Fatal("declined")
		}
	}
}
