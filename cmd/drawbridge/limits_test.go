package main

import (
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// link links owner's sandbox account through the hub.
func (h *stanzaHarness) link(owner ids.Owner, phone string) {
	h.t.Helper()
	ctx := h.t.Context()
	run, step, err := h.a.gw.StartLogin(ctx, owner, "sandbox", "")
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err = run.Submit(ctx, map[string]string{step.Fields[0].ID: phone}); err != nil {
		h.t.Fatal(err)
	}
	if step, err = run.Wait(ctx); err != nil || step.Kind != gateway.StepDone {
		h.t.Fatalf("link: %+v %v", step, err)
	}
}

// TestLimitsAnswered: every limit answers the stanza that went over it
// with the stanza error config/example.yaml documents.
func TestLimitsAnswered(t *testing.T) {
	h := newStanzaHarness(t, func(c *config.Config) {
		c.Limits.Messages = config.RateConfig{PerJID: 1, PerJIDBurst: 2}
		c.Limits.Registrations = config.RateConfig{Global: 1, GlobalBurst: 2}
		c.Limits.Logins = config.RateConfig{PerJID: 1, PerJIDBurst: 2}
		c.Limits.MaxBodySize = 100
		c.Limits.MaxAttachments = 1
	})
	h.link("alice@example.test", "+15557654321") // a registration and a login
	echo := string(sandbox.EchoBot) + "@gw.example.test"
	msg := func(id, from, body, extra string) string {
		return `<message type='chat' id='` + id + `' from='` + from + `' to='` + echo + `'><body>` + body + `</body>` + extra + `</message>`
	}
	oob := func(url string) string { return `<x xmlns='jabber:x:oob'><url>` + url + `</url></x>` }
	cmdLink := func(id, from string) string {
		return `<iq type='set' id='` + id + `' from='` + from + `' to='gw.example.test'><command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/></iq>`
	}
	for _, tc := range []struct {
		name, stanza string
		want         []string // all required in the answer; nil: no error
	}{
		{"body over max_body_size", msg("m0", "alice@example.test/phone", strings.Repeat("x", 101), ""),
			[]string{`type="error"`, `id="m0"`, `<error type="modify"><policy-violation`, "over the limit of 100"}},
		{"attachments over max_attachments", msg("m1", "alice@example.test/phone", "files", oob("https://a.example/1")+oob("https://a.example/2")),
			[]string{`id="m1"`, `<error type="modify"><policy-violation`, "2 attachments"}},
		{"id over 256 bytes", msg(strings.Repeat("i", 257), "alice@example.test/phone", "long id", ""),
			[]string{`type="error"`, `<error type="modify"><bad-request`, "stanza id of 257 bytes"}},
		{"origin-id over 256 bytes", msg("o1", "alice@example.test/phone", "long origin-id", `<origin-id xmlns='urn:xmpp:sid:0' id='`+strings.Repeat("o", 300)+`'/>`),
			[]string{`id="o1"`, `<error type="modify"><bad-request`, "stanza id of 300 bytes"}},
		{"reply with 33 fallback ranges", msg("f1", "alice@example.test/phone", "&gt; q&#10;a", `<reply xmlns='urn:xmpp:reply:0' id='x'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>`+strings.Repeat(`<body start='0' end='3'/>`, 33)+`</fallback>`),
			[]string{`id="f1"`, `<error type="modify"><bad-request`, "33 reply fallback ranges"}},
		{"first message", msg("m2", "alice@example.test/phone", "one", ""), nil},
		{"second message (burst 2)", msg("m3", "alice@example.test/phone", "two", ""), nil},
		{"third message over the per-JID rate", msg("m4", "alice@example.test/phone", "three", ""),
			[]string{`id="m4"`, `<error type="wait"><policy-violation`, "too many messages"}},
		{"a correction counts as a message", msg("m5", "alice@example.test/phone", "two!", `<replace xmlns='urn:xmpp:message-correct:0' id='m3'/>`),
			[]string{`id="m5"`, `<error type="wait"><policy-violation`, "too many messages"}},
		{"a reaction counts as a message", `<message type='chat' id='m6' from='alice@example.test/phone' to='` + echo + `'><reactions xmlns='urn:xmpp:reactions:0' id='m3'><reaction>👍</reaction></reactions></message>`,
			[]string{`id="m6"`, `<error type="wait"><policy-violation`, "too many messages"}},
		{"second registration (global burst 2)", `<iq type='set' id='r1' from='bob@example.test/x' to='gw.example.test'><query xmlns='jabber:iq:register'/></iq>`, nil},
		{"third registration over the global rate", `<iq type='set' id='r2' from='carol@example.test/x' to='gw.example.test'><query xmlns='jabber:iq:register'/></iq>`,
			[]string{`id="r2"`, `<error type="wait"><resource-constraint`}},
		// bob, who has no account linked (linking again while linked asks
		// first, and starts no login).
		{"bob's first login attempt", cmdLink("l0", "bob@example.test/x"), nil},
		{"bob's second login attempt", cmdLink("l1", "bob@example.test/x"), nil},
		{"bob's third login attempt", cmdLink("l2", "bob@example.test/x"),
			[]string{`id="l2"`, `<error type="wait"><policy-violation`, "too many login attempts"}},
	} {
		got := strings.Join(h.send(tc.stanza), "\n")
		if tc.want == nil && strings.Contains(got, "<error") {
			t.Errorf("%s: refused:\n%s", tc.name, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: answer lacks %q:\n%s", tc.name, w, got)
			}
		}
	}
}

// TestSkippedStanzasAnswered: a stanza the connection had to skip (too
// large, or undecodable) is answered with an error where RFC 6120 allows
// a reply, and never answered where it does not.
func TestSkippedStanzasAnswered(t *testing.T) {
	h := newStanzaHarness(t, nil)
	attrs := func(id, typ string) stanza.Attrs {
		return stanza.Attrs{From: "alice@example.test/phone", To: "+15550001111@gw.example.test", Id: id, Type: stanza.StanzaType(typ)}
	}
	for _, tc := range []struct {
		name string
		u    stream.Undecodable
		want string // "" means no answer
	}{
		{"oversized message", stream.Undecodable{Kind: "message", Attrs: attrs("m1", "chat"), TooLarge: true, Limit: 4096},
			`<message type="error" id="m1" from="+15550001111@gw.example.test" to="alice@example.test/phone"><error type="modify"><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></policy-violation><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">this message is larger than the gateway accepts (4096 bytes)</text></error></message>`},
		{"undecodable iq", stream.Undecodable{Kind: "iq", Attrs: attrs("i1", "set")},
			`<iq type="error" id="i1" from="+15550001111@gw.example.test" to="alice@example.test/phone"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></bad-request><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">the gateway could not parse this iq</text></error></iq>`},
		{"undecodable presence", stream.Undecodable{Kind: "presence", Attrs: attrs("p1", "")}, `<presence type="error" id="p1"`},
		{"an error is never answered", stream.Undecodable{Kind: "message", Attrs: attrs("m2", "error"), TooLarge: true}, ""},
		{"an IQ result is never answered", stream.Undecodable{Kind: "iq", Attrs: attrs("i2", "result")}, ""},
	} {
		h.a.component.Handle(t.Context(), tc.u)
		got := ""
		for _, b := range h.rec.take() {
			got += string(b)
		}
		switch {
		case tc.want == "" && got != "":
			t.Errorf("%s: answered %s", tc.name, got)
		case !strings.HasPrefix(got, tc.want):
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}
