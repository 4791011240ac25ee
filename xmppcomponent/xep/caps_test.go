package xep

import (
	"crypto/sha1"
	"encoding/base64"
	"testing"

	"gosrc.io/xmpp/stanza"
)

var capsFeatures = []string{
	// Unordered on purpose: the algorithm sorts.
	"http://jabber.org/protocol/muc",
	"http://jabber.org/protocol/caps",
	"http://jabber.org/protocol/disco#items",
	"http://jabber.org/protocol/disco#info",
}

// TestCapsVerSimple is the example of XEP-0115 §5.2.
func TestCapsVerSimple(t *testing.T) {
	d := &DiscoInfo{Identities: []stanza.Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}}}
	d.AddFeatures(capsFeatures...)
	ver, err := d.CapsVer()
	if err != nil {
		t.Fatal(err)
	}
	if want := "QgayPKawpkPSDYmwT/WM94uAlu0="; ver != want {
		t.Errorf("ver = %s, want %s", ver, want)
	}
}

// TestCapsVerComplex is the example of XEP-0115 §5.3: identities with
// xml:lang and an extended-information form.
func TestCapsVerComplex(t *testing.T) {
	form := Form{Type: "result", Fields: []Field{
		{Var: "os_version", Values: []string{"10.5.1"}},
		{Var: "FORM_TYPE", Type: "hidden", Values: []string{"urn:xmpp:dataforms:softwareinfo"}},
		{Var: "ip_version", Type: "text-multi", Values: []string{"ipv6", "ipv4"}},
		{Var: "os", Values: []string{"Mac"}},
		{Var: "software", Values: []string{"Psi"}},
		{Var: "software_version", Values: []string{"0.11"}},
	}}
	// A form without a hidden FORM_TYPE does not count.
	loose := Form{Type: "result", Fields: []Field{{Var: "x", Values: []string{"y"}}}}
	s, err := capsString([]capsIdentity{
		{category: "client", typ: "pc", lang: "en", name: "Psi 0.11"},
		{category: "client", typ: "pc", lang: "el", name: "Ψ 0.11"},
	}, capsFeatures, []Form{loose, form})
	if err != nil {
		t.Fatal(err)
	}
	wantS := "client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<"
	if s != wantS {
		t.Fatalf("S =\n%s\nwant\n%s", s, wantS)
	}
	sum := sha1.Sum([]byte(s))
	if ver, want := base64.StdEncoding.EncodeToString(sum[:]), "q07IKJEyjvHSyhy//CH0CxmKi8w="; ver != want {
		t.Errorf("ver = %s, want %s", ver, want)
	}
}

// TestCapsVerIllFormed: what XEP-0115 §5.4 rejects is never hashed.
func TestCapsVerIllFormed(t *testing.T) {
	twice := &DiscoInfo{}
	twice.AddIdentity("a", "client", "phone")
	twice.AddFeatures("urn:xmpp:ping", "urn:xmpp:ping")
	if _, err := twice.CapsVer(); err == nil {
		t.Error("a feature twice: no error")
	}
	idTwice := &DiscoInfo{}
	idTwice.AddIdentity("a", "client", "phone")
	idTwice.AddIdentity("a", "client", "phone")
	if _, err := idTwice.CapsVer(); err == nil {
		t.Error("an identity twice: no error")
	}
	ft := Field{Var: "FORM_TYPE", Type: "hidden", Values: []string{"urn:x"}}
	forms := &DiscoInfo{Forms: []Form{{Fields: []Field{ft}}, {Fields: []Field{ft}}}}
	if _, err := forms.CapsVer(); err == nil {
		t.Error("two forms of one FORM_TYPE: no error")
	}
}
