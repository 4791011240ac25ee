package xmpptest

import (
	"strings"
	"testing"
)

func TestEjabberdConfigLoadsOperatorSnippet(t *testing.T) {
	snippet, err := loadRepoFile(EjabberdSnippetPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ejabberdConfig{
		Hosts: []string{"example.test"}, C2SPort: 1, CompPort: 2, S2SPort: 3, LogLevel: "info",
		Components: []ComponentSpec{{Domain: "gw.example.test", Secret: `se"cret`}},
		Snippet:    snippet,
	}.render()
	if err != nil {
		t.Fatal(err)
	}
	s := string(cfg)
	for _, want := range []string{
		"ejabberd_service", "gw.example.test", `se"cret`, "mod_privilege", "ejabberd_s2s_in",
		"mod_s2s_dialback", "backlog: 1024",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("config lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "change-me") || strings.Contains(s, "wa.example.org") {
		t.Errorf("placeholders left in the config:\n%s", s)
	}
	if _, err := instantiateEjabberdSnippet("listen: []\n", ComponentSpec{Domain: "a", Secret: "b"}); err == nil {
		t.Error("a snippet without placeholders was accepted")
	}
}

func TestEjabberdResolverRecords(t *testing.T) {
	_, eval, err := ejabberdResolver(map[string]string{"alpha.test": "127.0.0.1:5999"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"_xmpp-server._tcp.alpha.test", in, srv`, `{0, 0, 5999, "127.0.0.1"}`} {
		if !strings.Contains(eval, want) {
			t.Errorf("boot expression lacks %s: %s", want, eval)
		}
	}
	if _, _, err := ejabberdResolver(map[string]string{"x.test": "192.0.2.1:1"}); err == nil {
		t.Error("a route off loopback was accepted")
	}
}

func TestEjabberdStartRegisterLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ejabberd")
	}
	e := StartEjabberd(t, EjabberdOptions{
		Components: []ComponentSpec{{Domain: "gw.example.test", Secret: "s3cret"}},
	})
	e.Register(t, "carol", "pw-carol")
	c, err := DialClient(testCtx(t), e.C2SAddr, "carol@example.test", "pw-carol")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendPresence(); err != nil {
		t.Fatal(err)
	}
	if !e.Running() {
		t.Fatal("ejabberd is not running")
	}
}
