package xmppcomponent

import (
	"context"
	"encoding/xml"
	"log/slog"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
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

// discardSender takes stanzas and confirms them at once, keeping nothing.
type discardSender struct{ n int }

func (d *discardSender) Send(context.Context, stanza.Packet) error { d.n++; return nil }

func (d *discardSender) SendConfirmed(_ context.Context, _ stanza.Packet, done func()) error {
	d.n++
	done()
	return nil
}

// BenchmarkDeliverEcho translates what the sandbox Echo Bot answers to
// one message (delivered receipt, composing, the echo, displayed marker)
// into its four stanzas, with confirmation asked for each delivery as the
// journal does; one op is the four deliveries. Serialization is not
// included (BenchmarkMarshalPacket in xmppcomponent/stream).
func BenchmarkDeliverEcho(b *testing.B) {
	c, err := New(Config{Conn: stream.Config{Domain: "gw.example.test"}, Platform: fakePlatform, Logger: slog.New(slog.DiscardHandler)}, newFakeHub())
	if err != nil {
		b.Fatal(err)
	}
	out := &discardSender{}
	c.SetSender(out)
	const owner = ids.Owner("alice@example.test")
	meta := event.Meta{Account: "+15557654321", Chat: "+15550000001", Sender: "+15550000001"}
	caps := gateway.Capabilities{Receipts: true, ReadMarkers: true, ChatStates: true}
	evs := []event.Event{
		&event.Receipt{Meta: meta, Kind: event.Delivered, Targets: []ids.MessageID{"SB1"}},
		&event.ChatState{Meta: meta, State: event.Composing},
		&event.Message{Meta: event.Meta{Account: meta.Account, Chat: meta.Chat, Sender: meta.Sender, ID: "SB2"}, Body: "echo: hello drawbridge, this is a benchmark message"},
		&event.Receipt{Meta: meta, Kind: event.Displayed, Targets: []ids.MessageID{"SB1"}},
	}
	ctx := context.Background()
	done := func() {}
	b.ReportAllocs()
	for b.Loop() {
		for _, ev := range evs {
			if err := c.Deliver(ctx, gateway.Delivery{Owner: owner, Platform: fakePlatform, Event: ev, Caps: caps, Done: done}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if out.n < 4 {
		b.Fatalf("%d stanzas sent", out.n)
	}
}
