package xmppcomponent

import (
	"regexp"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

var (
	capsFrom = regexp.MustCompile(`^<presence from="([^"]+)"`)
	capsVer  = regexp.MustCompile(`<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="` + regexp.QuoteMeta(CapsNode) + `" ver="([^"]+)">`)
)

// TestCapsVerify: the caps in the presence of a contact and of the gateway
// verify as a client checks them (XEP-0115 §5.4): it asks the presence's
// full JID for disco#info on node#ver, and the answer, parsed back from
// the wire, hashes to ver (xep.CapsVer, checked against the XEP's own
// examples in package xep).
func TestCapsVerify(t *testing.T) {
	const owner = ids.Owner("alice@example.test")
	for _, tc := range []struct {
		name  string
		caps  gateway.Capabilities
		setup func(h *fakeHub)
	}{
		{"everything", gateway.Capabilities{Receipts: true, ReadMarkers: true, ChatStates: true, Edits: true, Retractions: true,
			Reactions: true, Replies: true, MaxFileSize: 1 << 20}, nil},
		{"reaction restrictions form", gateway.Capabilities{Receipts: true, Reactions: true, MaxReactionsPerUser: 1,
			AllowedReactions: []string{"👍", "❤️", "😂"}}, nil},
		{"little", gateway.Capabilities{}, nil},
		{"groups", gateway.Capabilities{ChatStates: true}, func(h *fakeHub) { h.addGroup(owner, gateway.GroupInfo{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHub()
			h.caps = tc.caps
			linkFake(h, owner)
			// A name that needs escaping on the wire.
			h.addContact(owner, store.Contact{User: "+15550000001", Name: `Bob & "Co" <phone>`, Subscribed: true})
			if tc.setup != nil {
				tc.setup(h)
			}
			c, rec := coreComponent(t, h)
			ctx := t.Context()

			if err := testDeliver(ctx, c, owner, fakePlatform, &event.Presence{
				Meta: event.Meta{Chat: "+15550000001", Sender: "+15550000001"}, Available: true}); err != nil {
				t.Fatal(err)
			}
			verifyCaps(t, c, rec, "+15550000001@gw.example.test/drawbridge")

			// The gateway, in alice's roster: her server's probe gets its
			// presence.
			handleRaw(t, c, `<presence type='probe' from='alice@example.test' to='gw.example.test'/>`)
			verifyCaps(t, c, rec, "gw.example.test/drawbridge")
		})
	}
}

// verifyCaps checks the one presence rec holds: from the full JID want,
// with caps that verify.
func verifyCaps(t *testing.T, c *Component, rec *scriptRecorder, want string) {
	t.Helper()
	out := rec.take()
	if len(out) != 1 {
		t.Fatalf("wrote %q, want one presence", out)
	}
	from, ver := capsFrom.FindStringSubmatch(out[0]), capsVer.FindStringSubmatch(out[0])
	if from == nil || from[1] != want || ver == nil {
		t.Fatalf("presence %s: want one from %s with sha-1 caps", out[0], want)
	}
	node := CapsNode + "#" + ver[1]
	handleRaw(t, c, `<iq type='get' id='caps1' from='alice@example.test/phone' to='`+want+`'><query xmlns='http://jabber.org/protocol/disco#info' node='`+node+`'/></iq>`)
	answer := rec.take()
	if len(answer) != 1 || !strings.Contains(answer[0], `type="result"`) {
		t.Fatalf("disco#info on %s: %q", node, answer)
	}
	p, err := xmpptest.ParseStanza(answer[0])
	if err != nil {
		t.Fatalf("answer %s: %v", answer[0], err)
	}
	iq, ok := p.(*stanza.IQ)
	if !ok {
		t.Fatalf("answer %s is a %T", answer[0], p)
	}
	info, ok := iq.Payload.(*xep.DiscoInfo)
	if !ok || len(info.Identities) == 0 || len(info.Features) == 0 {
		t.Fatalf("answer without identities or features: %s", answer[0])
	}
	if info.Node != node {
		t.Errorf("answer's node = %q, want %q", info.Node, node)
	}
	got, err := info.CapsVer()
	if err != nil || got != ver[1] {
		t.Errorf("the answer hashes to %s (%v), the presence says %s:\n%s\n%s", got, err, ver[1], out[0], answer[0])
	}
}

func handleRaw(t *testing.T, c *Component, raw string) {
	t.Helper()
	p, err := xmpptest.ParseStanza(raw)
	if err != nil {
		t.Fatal(err)
	}
	c.Handle(t.Context(), p)
}
