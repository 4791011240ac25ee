package xep

import (
	"encoding/xml"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

// Each payload decodes from what clients send, inside a real message.
func TestRichPayloadsDecode(t *testing.T) {
	const head = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams">`
	for _, tc := range []struct {
		name, payload string
		check         func(ext stanza.MsgExtension) bool
	}{
		{"correction", `<replace xmlns='urn:xmpp:message-correct:0' id='m1'/>`, func(e stanza.MsgExtension) bool {
			r, ok := e.(*Replace)
			return ok && r.ID == "m1"
		}},
		{"retraction v1", `<retract xmlns='urn:xmpp:message-retract:1' id='m2'/>`, func(e stanza.MsgExtension) bool {
			r, ok := e.(*Retract)
			return ok && r.ID == "m2"
		}},
		{"retraction v0", `<apply-to xmlns='urn:xmpp:fasten:0' id='m3'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>`, func(e stanza.MsgExtension) bool {
			r, ok := e.(*ApplyTo)
			return ok && r.ID == "m3" && r.Retract != nil
		}},
		{"reactions", `<reactions xmlns='urn:xmpp:reactions:0' id='m4'><reaction>👍</reaction><reaction>🎉</reaction></reactions>`, func(e stanza.MsgExtension) bool {
			r, ok := e.(*Reactions)
			return ok && r.ID == "m4" && strings.Join(r.Reactions, "") == "👍🎉"
		}},
		{"reply", `<reply xmlns='urn:xmpp:reply:0' to='a@b/c' id='m5'/>`, func(e stanza.MsgExtension) bool {
			r, ok := e.(*Reply)
			return ok && r.ID == "m5" && r.To == "a@b/c"
		}},
		{"fallback", `<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='7'/></fallback>`, func(e stanza.MsgExtension) bool {
			r, ok := e.(*Fallback)
			return ok && r.For == NSReply && len(r.Body) == 1 && *r.Body[0].End == 7
		}},
		{"origin-id", `<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>`, func(e stanza.MsgExtension) bool {
			r, ok := e.(*OriginID)
			return ok && r.ID == "o1"
		}},
	} {
		d := xml.NewDecoder(strings.NewReader(head + `<message id='x'><body>b</body>` + tc.payload + `</message>`))
		if _, err := d.Token(); err != nil {
			t.Fatal(err)
		}
		p, err := stanza.NextPacket(d)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m := p.(stanza.Message)
		found := false
		for _, e := range m.Extensions {
			if tc.check(e) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: not decoded; extensions %#v", tc.name, m.Extensions)
		}
	}
}
