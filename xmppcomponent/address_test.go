package xmppcomponent

import (
	"errors"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestAddressingRoundTrip(t *testing.T) {
	a := Addressing{Domain: "gw.example.test"}
	for _, tc := range []struct {
		user ids.UserID
		jid  string
	}{
		{"+15550001111", "+15550001111@gw.example.test"},
		{"user@elsewhere", `user\40elsewhere@gw.example.test`},
		{"a b/c:d", `a\20b\2fc\3ad@gw.example.test`},
		{"Ünïcode", "ünïcode@gw.example.test"},
	} {
		got := a.UserJID(tc.user)
		j, err := jid.Parse(got)
		if err != nil {
			t.Fatalf("%q: %q does not parse: %v", tc.user, got, err)
		}
		if tc.user != "Ünïcode" && got != tc.jid {
			t.Errorf("UserJID(%q) = %q, want %q", tc.user, got, tc.jid)
		}
		back, err := a.UserOf(j)
		if err != nil {
			t.Fatalf("UserOf(%s): %v", j, err)
		}
		if tc.user != "Ünïcode" && back != tc.user {
			t.Errorf("round trip %q → %q → %q", tc.user, got, back)
		}
	}
}

func TestAddressingRefusesOthers(t *testing.T) {
	a := Addressing{Domain: "gw.example.test"}
	for _, s := range []string{"gw.example.test", "+1555@other.test", "gw.example.test/res"} {
		if _, err := a.UserOf(jid.MustParse(s)); !errors.Is(err, gateway.ErrUnknownChat) {
			t.Errorf("UserOf(%s) = %v, want ErrUnknownChat", s, err)
		}
	}
}
