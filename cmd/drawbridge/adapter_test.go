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
	serve := func(t *testing.T) gateway.Adapter {
		cmd := exec.Command(bin, "adapter", "sandbox", "--listen", "127.0.0.1:0")
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
	gatewaytest.RunAdapterConformance(t, gatewaytest.Conformance{
		NewAdapter: serve,
		Answer: func(*testing.T, gateway.LoginStep) map[string]string {
			return map[string]string{sandbox.FieldPhone: "+15550001234"}
		},
		Contact:  ids.DirectChat(sandbox.EchoBot),
		Unlinked: "+15557654321",
	})
}
