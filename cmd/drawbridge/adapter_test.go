package main

import (
	"bufio"
	"context"
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
)

// serveAdapterCommand runs `drawbridge adapter NAME --listen` (the real
// binary) on a loopback port with token and dials it.
func serveAdapterCommand(t *testing.T, bin, name, token string) *remote.Adapter {
	t.Helper()
	cmd := exec.Command(bin, "adapter", name, "--listen", "127.0.0.1:0")
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
	a, err := remote.Dial(t.Context(), addr, token, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return a
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
// adapter's placement keys by name, without starting it.
func TestConfigCheckRemoteAdapter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    string // "" for valid
	}{
		{"child", map[string]any{"adapter": "remote", "command": []any{"/nonexistent/drawbridge", "adapter", "sandbox"}}, ""},
		{"loopback", map[string]any{"adapter": "remote", "address": "127.0.0.1:7100"}, ""},
		{"off_loopback_without_token", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100"}, "platforms.echo.token"},
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
// and the served sandbox passes the adapter conformance suite; without a
// token it refuses to listen off loopback.
func TestAdapterCommandServes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGateway(t)
	out, err := exec.Command(bin, "adapter", "sandbox", "--listen", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "token is required") {
		t.Errorf("listening off loopback without a token: %v: %s", err, out)
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
