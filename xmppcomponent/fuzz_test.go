package xmppcomponent

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// fuzzMaxInput bounds the fuzzers' inputs: the properties hold for any
// size, and small inputs keep each execution fast.
const fuzzMaxInput = 64 << 10

// FuzzNextPacket decodes arbitrary payloads inside a message, a presence
// and an IQ with gosrc's stanza.NextPacket, which runs every XEP payload
// type we registered, and then our own inbound parsing.
func FuzzNextPacket(f *testing.F) {
	for _, s := range xmpptest.FuzzStanzaSeeds {
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
