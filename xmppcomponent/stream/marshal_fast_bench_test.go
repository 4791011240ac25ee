package stream

import (
	"encoding/xml"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// BenchmarkMarshalPacket compares marshalPacket's fast path with
// xml.Marshal on the stanzas the gateway sends most: an echoed chat
// message (body, origin-id, receipt request, markable), a displayed
// marker and a chat state.
func BenchmarkMarshalPacket(b *testing.B) {
	attrs := stanza.Attrs{Type: stanza.MessageTypeChat, Id: "3EB0C4F1A2B9D87E6F11",
		From: "+15550000001@gw.example.test", To: "alice@example.test"}
	shapes := []struct {
		name string
		msg  *stanza.Message
	}{
		{"echo", &stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: attrs,
			Body:       "echo: hello drawbridge, this is a benchmark message",
			Extensions: []stanza.MsgExtension{&xep.OriginID{ID: attrs.Id}, &stanza.ReceiptRequest{}, &stanza.Markable{}}}},
		{"displayed", &stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: attrs,
			Extensions: []stanza.MsgExtension{&stanza.MarkDisplayed{ID: "3EB0C4F1A2B9D87E6F10"}, &xep.NoStore{}}}},
		{"composing", &stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: attrs,
			Extensions: []stanza.MsgExtension{&stanza.StateComposing{}, &xep.NoStore{}}}},
	}
	for _, s := range shapes {
		b.Run(s.name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := marshalPacket(s.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/xml", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := xml.Marshal(s.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
