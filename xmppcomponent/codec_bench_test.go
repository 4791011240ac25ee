package xmppcomponent

import (
	"encoding/xml"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// BenchmarkEncodeMessage serializes one outbound platform message.
func BenchmarkEncodeMessage(b *testing.B) {
	c := &Component{addr: Addressing{Domain: "gw.example.test"}, domain: "gw.example.test"}
	ev := &event.Message{Meta: event.Meta{Chat: "+15550000001", ID: "SB2"}, Body: "echo: hello drawbridge, this is a benchmark message"}
	b.ReportAllocs()
	for b.Loop() {
		msg := c.chatMessage(c.addr.ChatJID(ev.Chat), "alice@example.test", ev.Body)
		msg.Id = string(ev.ID)
		msg.Extensions = append(msg.Extensions, &stanza.ReceiptRequest{}, &stanza.Markable{})
		if _, err := xml.Marshal(msg); err != nil {
			b.Fatal(err)
		}
	}
}
