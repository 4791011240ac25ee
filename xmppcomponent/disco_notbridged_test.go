package xmppcomponent

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestDiscoNotBridged: what the platform's adapter says it cannot bridge
// (Info.NotBridged: Telegram's secret chats) is in the gateway's disco
// identity; without it the identity is the plain name.
func TestDiscoNotBridged(t *testing.T) {
	for _, tc := range []struct{ notBridged, want string }{
		{"secret chats", `<identity name="Drawbridge (Sandbox); not bridged: secret chats" category="gateway" type="sandbox">`},
		{"", `<identity name="Drawbridge (Sandbox)" category="gateway" type="sandbox">`},
	} {
		hub := newFakeHub()
		hub.info.NotBridged = tc.notBridged
		c, err := New(Config{Conn: stream.Config{Domain: "gw.example.test"}, Name: "Drawbridge", Platform: fakePlatform, Logger: slog.New(slog.DiscardHandler)}, hub)
		if err != nil {
			t.Fatal(err)
		}
		rec := &scriptRecorder{}
		c.SetSender(rec)
		p, err := xmpptest.ParseStanza(`<iq type='get' id='d1' from='alice@example.test/phone' to='gw.example.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
		if err != nil {
			t.Fatal(err)
		}
		c.HandleNow(t.Context(), p)
		if out := strings.Join(rec.take(), "\n"); !strings.Contains(out, tc.want) {
			t.Errorf("NotBridged %q: disco#info = %s, want %s", tc.notBridged, out, tc.want)
		}
	}
}
