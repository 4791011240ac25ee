package main

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestAdminStanzaScripts runs testdata/scripts/admin/*.xml like
// TestStanzaScripts, with root@example.test as the gateway's
// administrator and a configuration source for reloads (which allows one
// more JID and changes the log format, which needs a restart).
func TestAdminStanzaScripts(t *testing.T) {
	xmpptest.EachScript(t, "../../testdata/scripts/admin/*.xml", func(t *testing.T, path string) {
		var cfg config.Config
		h := newStanzaHarness(t, func(c *config.Config) {
			c.Component.Admins = []string{"root@example.test"}
			cfg = *c
		})
		h.a.mgmt.setLoader(func() (config.Config, error) {
			next := cfg
			next.Registration.AllowedJIDs = []string{"friend@elsewhere.test"}
			next.Log.Format = "json"
			return next, nil
		})
		runScript(t, path, h.handle)
		if !h.a.mgmt.live.Load().RegistrationAllowed("friend@elsewhere.test") {
			t.Error("the reload did not apply registration.allowed_jids")
		}
	})
}

var timestampRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// runScript feeds a script's stanzas to handle and compares the
// transcript with the .golden file beside it (-update rewrites it).
func runScript(t *testing.T, path string, handle func(stanza.Packet) [][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			got.WriteString(line + "\n")
			continue
		}
		got.WriteString(">> " + line + "\n")
		p, err := xmpptest.ParseStanza(line)
		if err != nil {
			got.WriteString("!! decode error: " + err.Error() + "\n")
			continue
		}
		for _, out := range handle(p) {
			got.WriteString("<< " + timestampRE.ReplaceAllString(normalize(out), "TIMESTAMP") + "\n")
		}
	}
	xmpptest.CheckGolden(t, strings.TrimSuffix(path, ".xml")+".golden", got.String(), *update)
}
