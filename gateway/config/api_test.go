package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8480":   true,
		"127.8.9.10:1":     true,
		"[::1]:8480":       true,
		"localhost:8480":   true,
		"LocalHost:1":      true,
		"0.0.0.0:8480":     false,
		"[::]:8480":        false,
		":8480":            false,
		"10.0.0.1:8480":    false,
		"api.example:8480": false,
		"127.0.0.1":        false,
	} {
		if got := LoopbackAddr(addr); got != want {
			t.Errorf("LoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestAPIValidation(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		env     []string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults are loopback", check: func(t *testing.T, c Config) {
			if c.API.Listen != DefaultAPIListen || c.Metrics.Listen != DefaultMetricsListen {
				t.Errorf("listen = %q, %q", c.API.Listen, c.Metrics.Listen)
			}
		}},
		{name: "disabled", env: []string{"DRAWBRIDGE_API_LISTEN=", "DRAWBRIDGE_METRICS_LISTEN="}},
		{name: "non-loopback without credentials is refused", env: []string{"DRAWBRIDGE_API_LISTEN=0.0.0.0:8480"},
			wantErr: `api.token: required because api.listen "0.0.0.0:8480" is not a loopback address`},
		{name: "every interface as [::]", env: []string{"DRAWBRIDGE_API_LISTEN=[::]:8480"}, wantErr: "api.token: required"},
		{name: "non-loopback with a token", env: []string{"DRAWBRIDGE_API_LISTEN=0.0.0.0:8480", "DRAWBRIDGE_API_TOKEN=t"}},
		{name: "non-loopback with a token file", env: []string{"DRAWBRIDGE_API_LISTEN=0.0.0.0:8480", "DRAWBRIDGE_API_TOKEN_FILE=" + tokenFile},
			check: func(t *testing.T, c Config) {
				if c.API.Token != "s3cret-token" {
					t.Errorf("token from file = %q", c.API.Token)
				}
				if r := c.Redacted(); r.API.Token != "REDACTED" {
					t.Errorf("Redacted token = %q", r.API.Token)
				}
			}},
		{name: "token and token file", env: []string{"DRAWBRIDGE_API_TOKEN=x", "DRAWBRIDGE_API_TOKEN_FILE=" + tokenFile},
			wantErr: "api.token_file: cannot be combined with api.token"},
		{name: "non-loopback with mutual TLS", env: []string{"DRAWBRIDGE_API_LISTEN=0.0.0.0:8480",
			"DRAWBRIDGE_API_TLS_CERT=c.pem", "DRAWBRIDGE_API_TLS_KEY=k.pem", "DRAWBRIDGE_API_CLIENT_CA=ca.pem"}},
		{name: "client CA without TLS", env: []string{"DRAWBRIDGE_API_CLIENT_CA=ca.pem"}, wantErr: "api.client_ca: requires api.tls_cert"},
		{name: "cert without key", env: []string{"DRAWBRIDGE_API_TLS_CERT=c.pem"}, wantErr: "api.tls_key: api.tls_cert and api.tls_key go together"},
		{name: "bad listen", env: []string{"DRAWBRIDGE_API_LISTEN=8480"}, wantErr: `api.listen: "8480" is not host:port`},
		{name: "bad metrics listen", env: []string{"DRAWBRIDGE_METRICS_LISTEN=localhost"}, wantErr: `metrics.listen: "localhost" is not host:port`},
		{name: "profiling on loopback", env: []string{"DRAWBRIDGE_METRICS_PROFILING=true"},
			check: func(t *testing.T, c Config) {
				if !c.Metrics.Profiling {
					t.Error("metrics.profiling not set")
				}
			}},
		{name: "profiling off loopback", env: []string{"DRAWBRIDGE_METRICS_LISTEN=0.0.0.0:9480", "DRAWBRIDGE_METRICS_PROFILING=true"},
			wantErr: `metrics.profiling: needs metrics.listen on a loopback address (it is "0.0.0.0:9480")`},
		{name: "profiling without the endpoint", env: []string{"DRAWBRIDGE_METRICS_LISTEN=", "DRAWBRIDGE_METRICS_PROFILING=true"},
			wantErr: `metrics.profiling: needs metrics.listen on a loopback address (it is "")`},
		{name: "free port for tests", env: []string{"DRAWBRIDGE_API_LISTEN=127.0.0.1:0", "DRAWBRIDGE_METRICS_LISTEN=127.0.0.1:0"}},
		{name: "admins", env: []string{"DRAWBRIDGE_COMPONENT_ADMINS=Root@Example.org, ops@example.org"},
			check: func(t *testing.T, c Config) {
				for jid, want := range map[string]bool{
					"root@example.org": true, "ROOT@example.org/laptop": true, "ops@example.org": true,
					"alice@example.org": false, "example.org": false, "": false,
				} {
					if got := c.IsAdmin(jid); got != want {
						t.Errorf("IsAdmin(%q) = %v, want %v", jid, got, want)
					}
				}
			}},
		{name: "allowed hosts", env: []string{"DRAWBRIDGE_API_ALLOWED_HOSTS=drawbridge.internal, [::1], 10.0.0.5"},
			check: func(t *testing.T, c Config) {
				if len(c.API.AllowedHosts) != 3 || c.API.AllowedHosts[0] != "drawbridge.internal" {
					t.Errorf("api.allowed_hosts = %q", c.API.AllowedHosts)
				}
			}},
		{name: "allowed host with a port", env: []string{"DRAWBRIDGE_API_ALLOWED_HOSTS=gw.example.org:8480"},
			wantErr: `api.allowed_hosts[0]: "gw.example.org:8480" is not a host name or IP address`},
		{name: "bad admin", env: []string{"DRAWBRIDGE_COMPONENT_ADMINS=root"}, wantErr: `component.admins[0]: "root" is not a bare JID`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(nil, append(append([]string{}, secretEnv...), tc.env...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret-token") {
					t.Errorf("error shows the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
