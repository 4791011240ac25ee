package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// serveAdapterCommand runs `drawbridge adapter NAME --listen` (the real
// binary) on a loopback port with token and dials it.
func serveAdapterCommand(t *testing.T, bin, name, token string) *remote.Adapter {
	t.Helper()
	addr := startAdapterCommand(t, bin, token, name, "--listen", "127.0.0.1:0")
	a, err := remote.Dial(t.Context(), addr, token, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return a
}

// startAdapterCommand runs `drawbridge adapter ARGS...` (the real binary)
// with token in the environment and returns the address it serves on.
func startAdapterCommand(t *testing.T, bin, token string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"adapter"}, args...)...)
	cmd.Env = append(os.Environ(), adapterTokenEnv+"="+token)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stderr)
	addr := ""
	for addr == "" && sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "addr="); ok && strings.Contains(sc.Text(), "adapter serving") {
			addr = strings.Fields(rest)[0]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	if addr == "" {
		t.Fatal("the adapter did not say where it listens")
	}
	return addr
}

// TestAdapterCommandTelegram: `drawbridge adapter telegram --listen`
// serves the Telegram adapter: a gateway that dials it sees the Telegram
// platform and its login flows, and a section without api_id is refused
// through the protocol with the key named. (Its conformance through the
// remote host runs against the fake Telegram in adapters/telegram's
// TestConformanceRemote: this binary reaches only the real Telegram.)
// An adapter name it does not know is refused.
func TestAdapterCommandTelegram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGateway(t)
	out, err := exec.Command(bin, "adapter", "signal", "--listen", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `no adapter "signal"`) {
		t.Errorf("unknown adapter: %v: %s", err, out)
	}
	a := serveAdapterCommand(t, bin, "telegram", "adapter-command-token")
	if info := a.Info(); info.ID != "telegram" || info.Name != "Telegram" {
		t.Errorf("Info = %+v, want Telegram", info)
	}
	h := gatewaytest.NewHost(t)
	if err := a.Init(h, map[string]any{"api_hash": "x"}); err == nil || !strings.Contains(err.Error(), "api_id") {
		t.Errorf("Init without api_id = %v, want an error naming api_id", err)
	}
	if err := a.Init(h, map[string]any{"api_id": 17349, "api_hash": "344583e45741c457fe1862106095a5eb"}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	var flows []string
	for _, f := range a.LoginFlows() {
		flows = append(flows, f.ID)
	}
	if strings.Join(flows, ",") != "phone,qr" {
		t.Errorf("login flows = %v, want phone and qr", flows)
	}
}

// TestConfigCheckRemoteAdapter: config check validates an out-of-process
// adapter's placement keys by name, its tls section's files included,
// without starting it.
func TestConfigCheckRemoteAdapter(t *testing.T) {
	ca := testutil.NewCA(t, "adapter-ca")
	cert, key := ca.Issue(t, "gateway", testutil.CertOptions{})
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    string // "" for valid
	}{
		{"child", map[string]any{"adapter": "remote", "command": []any{"/nonexistent/drawbridge", "adapter", "sandbox"}}, ""},
		{"loopback", map[string]any{"adapter": "remote", "address": "127.0.0.1:7100"}, ""},
		{"loopback_token", map[string]any{"adapter": "remote", "address": "127.0.0.1:7100", "token": "s3cret"}, ""},
		{"off_loopback_without_anything", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100"}, "platforms.echo.tls"},
		{"off_loopback_token_in_clear", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100", "token": "s3cret"}, "platforms.echo.tls"},
		{"off_loopback_mtls", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100", "tls": map[string]any{"ca_file": ca.CertFile, "cert_file": cert, "key_file": key}}, ""},
		{"off_loopback_tls_token", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100", "token": "s3cret", "tls": map[string]any{"ca_file": ca.CertFile}}, ""},
		{"off_loopback_tls_without_gateway_auth", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100", "tls": map[string]any{"ca_file": ca.CertFile}}, "platforms.echo.tls.cert_file"},
		{"missing_key_file", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100", "tls": map[string]any{"cert_file": cert, "key_file": "/nonexistent/gateway.key"}}, "platforms.echo.tls.key_file"},
		{"nowhere", map[string]any{"adapter": "remote"}, "platforms.echo.adapter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Platforms = map[string]map[string]any{"echo": tc.section}
			err := checkConfig(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkConfig: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("checkConfig = %v, want a problem with %s", err, tc.want)
			}
		})
	}
}

// TestAdapterCommandServes: `drawbridge adapter sandbox --listen` (the
// real binary) serves the sandbox with the token from the environment,
// and the served sandbox passes the adapter conformance suite; without
// TLS it refuses to listen off loopback.
func TestAdapterCommandServes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGateway(t)
	out, err := exec.Command(bin, "adapter", "sandbox", "--listen", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--tls-cert") {
		t.Errorf("listening off loopback without TLS: %v: %s", err, out)
	}
	const token = "adapter-command-token"
	serve := func(t *testing.T) gateway.Adapter { return serveAdapterCommand(t, bin, "sandbox", token) }
	gatewaytest.RunAdapterConformance(t, gatewaytest.Conformance{
		NewAdapter: serve,
		Answer: func(*testing.T, gateway.LoginStep) map[string]string {
			return map[string]string{sandbox.FieldPhone: "+15550001234"}
		},
		Contact:  ids.DirectChat(sandbox.EchoBot),
		Unlinked: "+15557654321",
	})
}

// TestAdapterCommandFlags: `drawbridge adapter --listen` off loopback is
// refused without TLS (a token alone would travel in clear) and with TLS
// but neither --client-ca nor a token; bad TLS flags are named. Nothing
// listens in any of these cases.
func TestAdapterCommandFlags(t *testing.T) {
	ca := testutil.NewCA(t, "adapter-ca")
	cert, key := ca.Issue(t, "adapter", testutil.CertOptions{Server: true})
	for _, tc := range []struct {
		name  string
		token string
		args  []string
		want  string
	}{
		{"nothing", "", []string{"--listen", "0.0.0.0:0"}, "--tls-cert and --tls-key, and --client-ca"},
		{"token_in_clear", "s3cret", []string{"--listen", "0.0.0.0:0"}, "would travel in clear"},
		{"tls_without_gateway_auth", "", []string{"--listen", "0.0.0.0:0", "--tls-cert", cert, "--tls-key", key}, "give --client-ca (mutual TLS) or a token"},
		{"cert_without_key", "", []string{"--listen", "127.0.0.1:0", "--tls-cert", cert}, "--tls-cert needs --tls-key"},
		{"key_without_cert", "", []string{"--listen", "127.0.0.1:0", "--tls-key", key}, "--tls-key needs --tls-cert"},
		{"client_ca_alone", "", []string{"--listen", "127.0.0.1:0", "--client-ca", ca.CertFile}, "--client-ca needs --tls-cert"},
		{"missing_client_ca", "", []string{"--listen", "0.0.0.0:0", "--tls-cert", cert, "--tls-key", key, "--client-ca", "/nonexistent/ca.pem"}, "--client-ca: open /nonexistent/ca.pem"},
		{"missing_key", "", []string{"--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", "/nonexistent/adapter.key"}, "--tls-cert, --tls-key: open /nonexistent/adapter.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(adapterTokenEnv, tc.token)
			err := cmdAdapter(t.Context(), append([]string{"sandbox"}, tc.args...), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("cmdAdapter = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestAdapterCommandMutualTLS: `drawbridge adapter sandbox --listen
// --tls-cert --tls-key --client-ca` (the real binary) serves a gateway
// that presents a client certificate of the client CA, and refuses one
// without, saying why.
func TestAdapterCommandMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGateway(t)
	serverCA, clientCA := testutil.NewCA(t, "adapter-ca"), testutil.NewCA(t, "gateway-ca")
	srvCert, srvKey := serverCA.Issue(t, "adapter", testutil.CertOptions{Server: true})
	cliCert, cliKey := clientCA.Issue(t, "gateway", testutil.CertOptions{})
	addr := startAdapterCommand(t, bin, "", "sandbox", "--listen", "127.0.0.1:0",
		"--tls-cert", srvCert, "--tls-key", srvKey, "--client-ca", clientCA.CertFile)
	dial := func(tlsKeys map[string]any) (gateway.Adapter, error) {
		cfg := config.Default()
		cfg.Platforms = map[string]map[string]any{"sandbox": {"adapter": "remote", "address": addr, "tls": tlsKeys}}
		_, a, err := newRemoteAdapter(t.Context(), cfg, "sandbox", cfg.Platforms["sandbox"], slog.New(slog.DiscardHandler))
		if a != nil {
			t.Cleanup(func() { _ = a.Stop(context.Background()) })
		}
		return a, err
	}
	if _, err := dial(map[string]any{"ca_file": serverCA.CertFile}); !errors.Is(err, remote.ErrUnauthenticated) || !strings.Contains(err.Error(), "no client certificate") {
		t.Errorf("dial without a client certificate = %v, want it refused for want of one", err)
	}
	a, err := dial(map[string]any{"ca_file": serverCA.CertFile, "cert_file": cliCert, "key_file": cliKey})
	if err != nil {
		t.Fatalf("dial with the client certificate: %v", err)
	}
	if a.Info().ID != "sandbox" {
		t.Errorf("Info = %+v, want the sandbox", a.Info())
	}
}
