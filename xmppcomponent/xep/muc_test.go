package xep

import (
	"encoding/xml"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

// A join presence decodes to MUCJoin with every history limit, and a
// since in any XEP-0082 form (fractions, offsets) does not fail the
// presence; a limit that is no number does.
func TestMUCJoinDecodes(t *testing.T) {
	const head = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams">`
	decode := func(x string) (stanza.Presence, error) {
		d := xml.NewDecoder(strings.NewReader(head + `<presence id='j' to='#g@gw/nick'>` + x + `</presence>`))
		if _, err := d.Token(); err != nil {
			t.Fatal(err)
		}
		p, err := stanza.NextPacket(d)
		if err != nil {
			return stanza.Presence{}, err
		}
		return p.(stanza.Presence), nil
	}
	for _, tc := range []struct {
		name, x string
		check   func(j *MUCJoin) bool
	}{
		{"bare", `<x xmlns='http://jabber.org/protocol/muc'/>`, func(j *MUCJoin) bool { return j.History == nil }},
		{"limits", `<x xmlns='http://jabber.org/protocol/muc'><history maxchars='0' maxstanzas='5' seconds='60'/></x>`, func(j *MUCJoin) bool {
			h := j.History
			return h != nil && *h.MaxChars == 0 && *h.MaxStanzas == 5 && *h.Seconds == 60 && h.Since == ""
		}},
		{"since with fractions", `<x xmlns='http://jabber.org/protocol/muc'><history since='2026-01-01T10:00:00.123Z'/></x>`, func(j *MUCJoin) bool {
			return j.History != nil && j.History.Since == "2026-01-01T10:00:00.123Z" && j.History.MaxChars == nil
		}},
		{"since with an offset", `<x xmlns='http://jabber.org/protocol/muc'><history since='2026-01-01T10:00:00+01:00'/></x><x xmlns='http://jabber.org/protocol/muc#user'/>`, func(j *MUCJoin) bool {
			return j.History != nil && j.History.Since == "2026-01-01T10:00:00+01:00"
		}},
		{"a password", `<x xmlns='http://jabber.org/protocol/muc'><password>pw</password></x>`, func(j *MUCJoin) bool { return j.Password == "pw" }},
	} {
		p, err := decode(tc.x)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		found := false
		for _, e := range p.Extensions {
			if j, ok := e.(*MUCJoin); ok && tc.check(j) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: not decoded; extensions %#v", tc.name, p.Extensions)
		}
	}
	if _, err := decode(`<x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='many'/></x>`); err == nil {
		t.Error("maxstanzas='many' decoded")
	}
}
