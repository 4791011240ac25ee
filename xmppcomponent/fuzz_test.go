package xmppcomponent

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// fuzzMaxInput bounds the fuzzers' inputs: the properties hold for any
// size, and small inputs keep each execution fast.
const fuzzMaxInput = 64 << 10

// fuzzStanzaLimit is the stanza size limit while fuzzing: small, so that
// oversized stanzas are common.
const fuzzStanzaLimit = 512

const fuzzStreamHeader = `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='gw.example.test' id='s1'>`

// fuzzStanzaSeeds are stanzas of every kind the component handles, with
// every payload we parse, to start the fuzzers from.
var fuzzStanzaSeeds = []string{
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m1' type='chat'><body>hello</body><request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='o1'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m2' type='chat'><body>&gt; quoted
fixed</body><replace id='m1' xmlns='urn:xmpp:message-correct:0'/><reply to='+15550001111@gw.example.test' id='x1' xmlns='urn:xmpp:reply:0'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='9'/></fallback></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m3' type='chat'><retract id='m1' xmlns='urn:xmpp:message-retract:1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>retracted</body></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m4' type='chat'><reactions id='m1' xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m5' type='chat'><body>https://files.example.test/a.png</body><x xmlns='jabber:x:oob'><url>https://files.example.test/a.png</url></x></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' type='chat'><received xmlns='urn:xmpp:receipts' id='w1'/><displayed xmlns='urn:xmpp:chat-markers:0' id='w2'/></message>`,
	`<presence from='alice@example.test/phone' to='+15550001111@gw.example.test' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>Alice</nick></presence>`,
	`<presence from='alice@example.test/phone' to='gw.example.test'><show>away</show><x xmlns='vcard-temp:x:update'><photo/></x></presence>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i1' type='set'><query xmlns='jabber:iq:register'><username>x</username><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>+1555</value></field></x></query></iq>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i2' type='set'><command xmlns='http://jabber.org/protocol/commands' node='login' sessionid='s1' action='next'><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>+15557654321</value></field></x></command></iq>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i3' type='get'><query xmlns='jabber:iq:gateway'/></iq>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i4' type='set'><query xmlns='jabber:iq:gateway'><prompt>+1 555 000 1111</prompt></query></iq>`,
	`<iq from='alice@example.test/phone' to='+15550001111@gw.example.test' id='i5' type='get'><vCard xmlns='vcard-temp'/></iq>`,
	`<iq from='example.test' to='gw.example.test' id='i6' type='result'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im'/><feature var='urn:xmpp:http:upload:0'/></query></iq>`,
	`<iq from='example.test' to='gw.example.test' id='i7' type='get'><ping xmlns='urn:xmpp:ping'/></iq>`,
	`<message from='example.test' to='gw.example.test' id='p1'><privilege xmlns='urn:xmpp:privilege:2'><perm access='message' type='outgoing'/><perm access='iq' type='both'><namespace ns='jabber:iq:roster' type='both'/></perm></privilege></message>`,
	`<handshake/>`,
	`<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>x</text></stream:error>`,
	`<message from='a@b'><body>unclosed`,
	`<iq type='get' id='x'><unknown xmlns='urn:example:unknown'><deep><deeper/></deep></unknown></iq></stream:stream>`,
}

// FuzzStreamReader feeds arbitrary bytes after a valid stream header to
// the connection's reader: every call must end in a packet, a skipped
// stanza or a fatal error, never a panic or a hang, and the reader must
// never return more packets than there are elements.
func FuzzStreamReader(f *testing.F) {
	for _, s := range fuzzStanzaSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Join(fuzzStanzaSeeds, "")))
	f.Add([]byte(`<message id='big'><body>` + strings.Repeat("x", 600) + `</body></message><message id='c'/>`))
	f.Add([]byte(`<message id='big'><![CDATA[</message>]]><!-- > --><x a='/>'/>` + strings.Repeat("<a>", 200) + `</message>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			t.Skip()
		}
		sr := newStreamReader(strings.NewReader(fuzzStreamHeader + string(data)))
		sr.setMaxStanzaSize(fuzzStanzaLimit) // exercise the skipping of oversized stanzas too
		if _, err := sr.open(); err != nil {
			t.Fatalf("valid header refused: %v", err)
		}
		// Each call consumes at least one start tag, so there can be no
		// more successful calls than '<' in the input.
		limit := strings.Count(string(data), "<") + 1
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("more than %d packets from %d bytes", limit, len(data))
			}
			p, err := sr.next()
			var skipped *errUndecodable
			switch {
			case errors.As(err, &skipped):
				continue
			case err != nil:
				return
			}
			if _, ok := p.(stanza.StreamClosePacket); ok {
				return
			}
			if m, ok := p.(stanza.Message); ok {
				in := parseInbound(m)
				for _, ns := range []string{xep.NSReply, "urn:xmpp:message-retract:1", ""} {
					in.bodyWithout(m.Body, ns)
				}
			}
		}
	})
}

// FuzzNextPacket decodes arbitrary payloads inside a message, a presence
// and an IQ with gosrc's stanza.NextPacket, which runs every XEP payload
// type we registered, and then our own inbound parsing.
func FuzzNextPacket(f *testing.F) {
	for _, s := range fuzzStanzaSeeds {
		start := strings.Index(s, ">") + 1
		end := strings.LastIndex(s, "</")
		if start > 0 && end > start {
			f.Add(s[start:end])
		}
	}
	f.Fuzz(func(t *testing.T, payload string) {
		if len(payload) > fuzzMaxInput {
			t.Skip()
		}
		for _, wrap := range []string{
			`<message from='a@example.test/r' to='b@gw.example.test' id='1' type='chat'>%s</message>`,
			`<presence from='a@example.test/r' to='b@gw.example.test'>%s</presence>`,
			`<iq from='a@example.test/r' to='gw.example.test' id='1' type='set'>%s</iq>`,
		} {
			d := xml.NewDecoder(strings.NewReader(strings.Replace(wrap, "%s", payload, 1)))
			p, err := stanza.NextPacket(d)
			if err != nil {
				continue
			}
			if m, ok := p.(stanza.Message); ok {
				in := parseInbound(m)
				in.bodyWithout(m.Body, xep.NSReply)
			}
		}
	})
}

// FuzzBodyWithout checks XEP-0428 fallback removal with arbitrary ranges:
// no panic, and the result is the body with some code points removed.
func FuzzBodyWithout(f *testing.F) {
	f.Add("> quoted\nreply", 0, 9, true, true)
	f.Add("héllo wörld", 3, 1, true, false)
	f.Add("", -5, 1<<30, false, true)
	f.Add("\xff\xfe", 1, 2, true, true)
	f.Fuzz(func(t *testing.T, body string, start, end int, hasStart, hasEnd bool) {
		r := xep.FallbackRange{}
		if hasStart {
			r.Start = &start
		}
		if hasEnd {
			r.End = &end
		}
		in := inbound{fallbacks: []*xep.Fallback{
			{For: "urn:other", Body: []xep.FallbackRange{{}}},
			{For: xep.NSReply, Body: []xep.FallbackRange{r}},
		}}
		got := in.bodyWithout(body, xep.NSReply)
		if utf8.RuneCountInString(got) > utf8.RuneCountInString(body) {
			t.Fatalf("bodyWithout(%q) = %q: longer than the body", body, got)
		}
		if !hasStart && !hasEnd && got != "" {
			t.Fatalf("a range without bounds covers the whole body, got %q", got)
		}
	})
}

// FuzzAddressing checks that XEP-0106 escaping round-trips for every
// platform user id, that an escaped id makes a valid JID mapping back to
// the id, and that UserOf takes any JID without panicking.
func FuzzAddressing(f *testing.F) {
	for _, s := range []string{"+15550001111", `a b@c/d\e`, `\20`, `\5c20`, "x:y<z>&'\"", "日本", ""} {
		f.Add(s)
	}
	a := Addressing{Domain: "gw.example.test"}
	f.Fuzz(func(t *testing.T, s string) {
		if got := UnescapeLocal(EscapeLocal(s)); got != s {
			t.Fatalf("UnescapeLocal(EscapeLocal(%q)) = %q", s, got)
		}
		UnescapeLocal(s)
		if j, err := jid.Parse(s); err == nil {
			_, _ = a.UserOf(j)
			_ = Owner(j)
		}
		j, err := jid.Parse(a.UserJID(ids.UserID(s)))
		if err != nil || j.Localpart() != EscapeLocal(s) {
			return // not every string is a valid localpart (PRECIS)
		}
		if u, err := a.UserOf(j); err != nil || string(u) != s {
			t.Fatalf("UserOf(%s) = %q, %v; want %q", j, u, err, s)
		}
	})
}
