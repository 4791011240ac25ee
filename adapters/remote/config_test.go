package remote

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

func TestParseSection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    Config
		rest    []string
		errKey  string
	}{
		{name: "command", section: map[string]any{"adapter": "remote", "command": []any{"/bin/drawbridge", "adapter", "sandbox"}, "auto_confirm": true},
			want: Config{Command: []string{"/bin/drawbridge", "adapter", "sandbox"}}, rest: []string{"auto_confirm"}},
		{name: "command_string", section: map[string]any{"adapter": "remote", "command": "/bin/adapter"},
			want: Config{Command: []string{"/bin/adapter"}}},
		{name: "loopback_without_token", section: map[string]any{"adapter": "remote", "address": "127.0.0.1:7100"},
			want: Config{Address: "127.0.0.1:7100"}},
		{name: "loopback_with_token", section: map[string]any{"adapter": "remote", "address": "127.0.0.1:7100", "token": "t0ken"},
			want: Config{Address: "127.0.0.1:7100", Token: "t0ken"}},
		{name: "remote_token_in_clear", section: map[string]any{"adapter": "remote", "address": "10.0.0.7:7100", "token": "t0ken"}, errKey: "platforms.x.tls"},
		{name: "remote_without_anything", section: map[string]any{"adapter": "remote", "address": "10.0.0.7:7100"}, errKey: "platforms.x.tls"},
		{name: "neither", section: map[string]any{"adapter": "remote"}, errKey: "platforms.x.adapter"},
		{name: "both", section: map[string]any{"adapter": "remote", "command": "/a", "address": "127.0.0.1:1"}, errKey: "platforms.x.address"},
		{name: "bad_command", section: map[string]any{"adapter": "remote", "command": []any{"/a", 3}}, errKey: "platforms.x.command"},
		{name: "bad_token", section: map[string]any{"adapter": "remote", "address": "127.0.0.1:1", "token": 5}, errKey: "platforms.x.token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, rest, err := ParseSection("platforms.x", tc.section)
			if tc.errKey != "" {
				var ke *gwconfig.KeyError
				if !errors.As(err, &ke) || ke.Key != tc.errKey {
					t.Fatalf("err = %v, want a problem with %s", err, tc.errKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Command, tc.want.Command) || got.Address != tc.want.Address || got.Token != tc.want.Token {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			var keys []string
			for k := range rest {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if strings.Join(keys, ",") != strings.Join(tc.rest, ",") {
				t.Errorf("rest keys %v, want %v", keys, tc.rest)
			}
		})
	}
}

// TestParseSectionTLS: the tls section of a served adapter's address is
// loaded from its files; each problem names its key, a missing file
// included, and off loopback TLS needs a client certificate or a token.
func TestParseSectionTLS(t *testing.T) {
	ca := testutil.NewCA(t, "adapter-ca")
	cert, key := ca.Issue(t, "gateway", testutil.CertOptions{})
	_, otherKey := ca.Issue(t, "other", testutil.CertOptions{})
	noPEM := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(noPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	const addr = "10.0.0.7:7100"
	section := func(tlsSection any, token string) map[string]any {
		s := map[string]any{"adapter": "remote", "address": addr, "tls": tlsSection}
		if token != "" {
			s["token"] = token
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		section  map[string]any
		errKey   string // "" for valid
		errText  string
		wantCert bool
	}{
		{name: "mtls", section: section(map[string]any{"ca_file": ca.CertFile, "cert_file": cert, "key_file": key}, ""), wantCert: true},
		{name: "mtls_server_name", section: section(map[string]any{"ca_file": ca.CertFile, "cert_file": cert, "key_file": key, "server_name": "adapter.internal"}, ""), wantCert: true},
		{name: "tls_and_token", section: section(map[string]any{"ca_file": ca.CertFile}, "t0ken")},
		{name: "system_roots_and_token", section: section(map[string]any{}, "t0ken")},
		{name: "tls_without_gateway_auth", section: section(map[string]any{"ca_file": ca.CertFile}, ""), errKey: "platforms.x.tls.cert_file", errText: "mutual TLS"},
		{name: "missing_ca_file", section: section(map[string]any{"ca_file": missing, "cert_file": cert, "key_file": key}, ""), errKey: "platforms.x.tls.ca_file", errText: "no such file"},
		{name: "ca_file_without_pem", section: section(map[string]any{"ca_file": noPEM, "cert_file": cert, "key_file": key}, ""), errKey: "platforms.x.tls.ca_file", errText: "no PEM certificate"},
		{name: "missing_cert_file", section: section(map[string]any{"ca_file": ca.CertFile, "cert_file": missing, "key_file": key}, ""), errKey: "platforms.x.tls.cert_file", errText: "no such file"},
		{name: "missing_key_file", section: section(map[string]any{"ca_file": ca.CertFile, "cert_file": cert, "key_file": missing}, ""), errKey: "platforms.x.tls.key_file", errText: "no such file"},
		{name: "cert_without_key", section: section(map[string]any{"cert_file": cert}, ""), errKey: "platforms.x.tls.key_file", errText: "required with cert_file"},
		{name: "key_without_cert", section: section(map[string]any{"key_file": key}, ""), errKey: "platforms.x.tls.cert_file", errText: "required with key_file"},
		{name: "key_of_another_cert", section: section(map[string]any{"cert_file": cert, "key_file": otherKey}, ""), errKey: "platforms.x.tls.cert_file", errText: "private key does not match"},
		{name: "unknown_key", section: section(map[string]any{"cafile": ca.CertFile}, "t0ken"), errKey: "platforms.x.tls.cafile", errText: "did you mean ca_file"},
		{name: "not_a_string", section: section(map[string]any{"server_name": 7}, "t0ken"), errKey: "platforms.x.tls.server_name", errText: "non-empty string"},
		{name: "not_a_section", section: section("yes", "t0ken"), errKey: "platforms.x.tls", errText: "must be a section"},
		{name: "with_command", section: map[string]any{"adapter": "remote", "command": "/a", "tls": map[string]any{}}, errKey: "platforms.x.tls", errText: "applies to address only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ParseSection("platforms.x", tc.section)
			if tc.errKey != "" {
				var ke *gwconfig.KeyError
				if !errors.As(err, &ke) || ke.Key != tc.errKey || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want a problem with %s saying %q", err, tc.errKey, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.TLS == nil {
				t.Fatal("no TLS configuration")
			}
			if hasClientCert(got.TLS) != tc.wantCert {
				t.Errorf("client certificate loaded: %v, want %v", hasClientCert(got.TLS), tc.wantCert)
			}
			if want, _ := tc.section["tls"].(map[string]any)["server_name"].(string); got.TLS.ServerName != want {
				t.Errorf("ServerName = %q, want %q", got.TLS.ServerName, want)
			}
		})
	}
}
