package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckComponents runs `config check` on configurations with a
// components list: every component's platform is checked as run would
// (the in-process adapters' sections decoded, a remote one's placement
// keys checked without starting it), and each problem names its key and
// line. A configuration without the list keeps working, and one enabling
// two platforms without it is told how to migrate.
func TestConfigCheckComponents(t *testing.T) {
	const two = "component:\n  server: 127.0.0.1:5347\n" +
		"components:\n" +
		"  - jid: wa.example.org\n    secret: wa-secret-of-24-characters\n    platform: whatsapp\n" +
		"  - jid: sb.example.org\n    secret: sb-secret-of-24-characters\n    platform: sandbox\n"
	for _, tc := range []struct {
		name string
		yaml string
		// want are parts of the error; none means ok.
		want []string
	}{
		{name: "two platforms", yaml: two + "platforms:\n  whatsapp: {}\n  sandbox: {auto_confirm: true}\n"},
		{name: "a remote third", yaml: two + "  - jid: echo.example.org\n    secret: echo-secret-of-24-chars0\n    platform: echo\n" +
			"platforms:\n  whatsapp: {}\n  sandbox: {}\n  echo:\n    adapter: remote\n    address: 127.0.0.1:7100\n"},
		{name: "old single component", yaml: "component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\nplatforms:\n  sandbox: {}\n"},
		{name: "two enabled without components",
			yaml: "component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\nplatforms:\n  sandbox: {}\n  whatsapp: {}\n",
			want: []string{"platforms: exactly one platform must be enabled per component, found 2 (sandbox, whatsapp)", "list one component per platform under components"}},
		{name: "second component's adapter section", yaml: two + "platforms:\n  whatsapp: {}\n  sandbox:\n    auto_confrim: true\n",
			want: []string{"platforms.sandbox.auto_confrim: unknown key (did you mean auto_confirm?)", "(line 13)"}},
		{name: "first component's adapter section", yaml: two + "platforms:\n  whatsapp:\n    mark_onlne: true\n  sandbox: {}\n",
			want: []string{"platforms.whatsapp.mark_onlne: unknown key (did you mean mark_online?)", "(line 12)"}},
		{name: "remote placement", yaml: two + "  - jid: echo.example.org\n    secret: echo-secret-of-24-chars0\n    platform: echo\n" +
			"platforms:\n  whatsapp: {}\n  sandbox: {}\n  echo:\n    adapter: remote\n    address: 10.0.0.7:7100\n",
			want: []string{"platforms.echo.tls: required for an address other than loopback"}},
		{name: "remote placement's tls file", yaml: two + "  - jid: echo.example.org\n    secret: echo-secret-of-24-chars0\n    platform: echo\n" +
			"platforms:\n  whatsapp: {}\n  sandbox: {}\n  echo:\n    adapter: remote\n    address: 10.0.0.7:7100\n    tls:\n      ca_file: /nonexistent/ca.pem\n      cert_file: /nonexistent/gw.pem\n      key_file: /nonexistent/gw.key\n",
			want: []string{"platforms.echo.tls.ca_file: open /nonexistent/ca.pem", "platforms.echo.tls.cert_file: stat /nonexistent/gw.pem"}},
		{name: "platform used twice", yaml: strings.Replace(two, "platform: sandbox", "platform: whatsapp", 1) + "platforms:\n  whatsapp: {}\n",
			want: []string{`components[1].platform: "whatsapp" is also components[0].platform`, "(line 9)"}},
		{name: "duplicate domain", yaml: strings.Replace(two, "jid: sb.example.org", "jid: wa.example.org", 1) + "platforms:\n  whatsapp: {}\n  sandbox: {}\n",
			want: []string{`components[1].jid: "wa.example.org" is also components[0].jid`, "(line 7)"}},
		{name: "unknown platform", yaml: strings.Replace(two, "platform: sandbox", "platform: sandbx", 1) + "platforms:\n  whatsapp: {}\n  sandbox: {}\n",
			want: []string{`components[1].platform: "sandbx" names no platforms section (have: sandbox, whatsapp)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := run(t.Context(), []string{"config", "check", path}, &out, &out)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("config check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("config check passed; want an error with %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("config check = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
