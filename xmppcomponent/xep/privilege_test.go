package xep_test

import (
	"bytes"
	"encoding/xml"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// decodeMessage parses one message with gosrc's decoder (registered
// extensions included), as the component's connection does.
func decodeMessage(t *testing.T, raw string) stanza.Message {
	t.Helper()
	var m stanza.Message
	if err := xml.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return m
}

func privilegeOf(t *testing.T, m stanza.Message) *xep.Privilege {
	t.Helper()
	for _, ext := range m.Extensions {
		if p, ok := ext.(*xep.Privilege); ok {
			return p
		}
	}
	t.Fatalf("no privilege extension in %+v", m.Extensions)
	return nil
}

// TestPrivilegeAdvertisementDecodes reads what Prosody's mod_privilege
// (urn:xmpp:privilege:2) and older servers (urn:xmpp:privilege:1) send to a
// component after its handshake.
func TestPrivilegeAdvertisementDecodes(t *testing.T) {
	for _, ns := range []string{xep.NSPrivilege1, xep.NSPrivilege2} {
		t.Run(ns, func(t *testing.T) {
			raw := `<message from='example.test' to='gw.example.test'>` +
				`<privilege xmlns='` + ns + `'>` +
				`<perm access='roster' type='both' push='true'/>` +
				`<perm access='message' type='outgoing'/>` +
				`<perm access='iq'><namespace ns='http://jabber.org/protocol/pubsub' type='set'/></perm>` +
				`</privilege></message>`
			p := privilegeOf(t, decodeMessage(t, raw))
			if p.XMLName.Space != ns {
				t.Errorf("namespace %q, want %q", p.XMLName.Space, ns)
			}
			roster, ok := p.Perm(xep.AccessRoster)
			if !ok || roster.Type != xep.PermBoth || !roster.Push {
				t.Errorf("roster perm %+v (%v)", roster, ok)
			}
			msg, ok := p.Perm(xep.AccessMessage)
			if !ok || msg.Type != xep.PermOutgoing {
				t.Errorf("message perm %+v (%v)", msg, ok)
			}
			iq, ok := p.Perm(xep.AccessIQ)
			if !ok || len(iq.Namespaces) != 1 || iq.Namespaces[0].NS != "http://jabber.org/protocol/pubsub" || iq.Namespaces[0].Type != xep.PermSet {
				t.Errorf("iq perm %+v (%v)", iq, ok)
			}
			if _, ok := p.Perm(xep.AccessPresence); ok {
				t.Error("presence perm found but not advertised")
			}
		})
	}
}

// TestPrivilegedMessageRoundTrip builds the wrapper a component sends to
// have the server send a message on a user's behalf, checks the exact
// namespaces the server looks for, and parses it back.
func TestPrivilegedMessageRoundTrip(t *testing.T) {
	for _, ns := range []string{"", xep.NSPrivilege1, xep.NSPrivilege2} {
		t.Run("ns="+ns, func(t *testing.T) {
			inner := stanza.Message{
				Attrs:      stanza.Attrs{Type: stanza.MessageTypeChat, From: "alice@example.test", To: "+15550000001@gw.example.test", Id: "SB7"},
				Body:       "sent from my phone <&>",
				Extensions: []stanza.MsgExtension{&xep.NoStore{}},
			}
			outer := stanza.Message{
				XMLName: xml.Name{Local: "message"},
				Attrs:   stanza.Attrs{From: "gw.example.test", To: "example.test", Id: "w1"},
				Extensions: []stanza.MsgExtension{&xep.Privilege{
					XMLName:   xml.Name{Space: ns, Local: "privilege"},
					Forwarded: &xep.Forwarded{Message: &xep.ClientMessage{Message: inner}},
				}},
			}
			out, err := xml.Marshal(outer)
			if err != nil {
				t.Fatal(err)
			}
			want := ns
			if want == "" {
				want = xep.NSPrivilege2
			}
			for _, frag := range []string{
				`<privilege xmlns="` + want + `">`,
				`<forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat" id="SB7" from="alice@example.test" to="+15550000001@gw.example.test">`,
				`<body>sent from my phone &lt;&amp;&gt;</body>`,
				`<no-store xmlns="urn:xmpp:hints"></no-store>`,
			} {
				if !bytes.Contains(out, []byte(frag)) {
					t.Errorf("marshalled wrapper lacks %s:\n%s", frag, out)
				}
			}
			if bytes.Contains(out, []byte("<perm")) {
				t.Errorf("a wrapper carries no perm elements:\n%s", out)
			}

			p := privilegeOf(t, decodeMessage(t, string(out)))
			if p.XMLName.Space != want {
				t.Errorf("decoded namespace %q, want %q", p.XMLName.Space, want)
			}
			if p.Forwarded == nil || p.Forwarded.Message == nil {
				t.Fatalf("decoded wrapper lost the forwarded message: %+v", p)
			}
			got := p.Forwarded.Message.Message
			if got.From != inner.From || got.To != inner.To || got.Id != inner.Id || got.Type != inner.Type || got.Body != inner.Body {
				t.Errorf("decoded inner message %+v, want %+v", got.Attrs, inner.Attrs)
			}
			if got.XMLName.Space != xep.NSClient {
				t.Errorf("inner message namespace %q", got.XMLName.Space)
			}
			if len(got.Extensions) != 1 {
				t.Errorf("inner extensions %+v", got.Extensions)
			} else if _, ok := got.Extensions[0].(*xep.NoStore); !ok {
				t.Errorf("inner extension %T, want *xep.NoStore", got.Extensions[0])
			}
		})
	}
}

// TestRosterQueryUsesGosrcType pins that jabber:iq:roster decodes to
// gosrc's stanza.RosterItems (registered by gosrc, not by this package) and
// that a roster set marshals as RFC 6121 and XEP-0356 expect.
func TestRosterQueryUsesGosrcType(t *testing.T) {
	iq := &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeSet, Id: "r1", From: "gw.example.test", To: "alice@example.test"}}
	iq.RosterItems().AddItem("+15550000001@gw.example.test", stanza.SubscriptionBoth, "", "Echo Bot", []string{"Sandbox"})
	out, err := xml.Marshal(iq)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`<query xmlns="jabber:iq:roster">`,
		`jid="+15550000001@gw.example.test"`,
		`name="Echo Bot"`,
		`subscription="both"`,
		`<group>Sandbox</group>`,
	} {
		if !bytes.Contains(out, []byte(frag)) {
			t.Errorf("roster set lacks %s:\n%s", frag, out)
		}
	}
	back := &stanza.IQ{}
	if err := xml.Unmarshal(out, back); err != nil {
		t.Fatal(err)
	}
	items, ok := back.Payload.(*stanza.RosterItems)
	if !ok {
		t.Fatalf("roster payload decodes to %T, want *stanza.RosterItems", back.Payload)
	}
	if len(items.Items) != 1 {
		t.Fatalf("items %+v", items.Items)
	}
	it := items.Items[0]
	if it.Jid != "+15550000001@gw.example.test" || it.Name != "Echo Bot" || it.Subscription != "both" || len(it.Groups) != 1 || it.Groups[0] != "Sandbox" {
		t.Errorf("item %+v", it)
	}
}
