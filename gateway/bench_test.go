package gateway_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// BenchmarkHubSendMessage routes one outbound message through the hub to
// the sandbox (to a scripted human who does not answer), including the id
// mapping write to the sqlite store.
func BenchmarkHubSendMessage(b *testing.B) {
	h := newHub(b, openStore(b), true)
	const owner = ids.Owner("alice@example.test")
	h.link(b, owner, "+15557654321")
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		msg := &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.Bob)}, Body: "benchmark"}
		if _, err := h.gw.SendMessage(ctx, owner, sb, msg, gateway.SendOptions{XMPPIDs: []string{fmt.Sprintf("x%d", i)}}); err != nil {
			b.Fatal(err)
		}
	}
}
