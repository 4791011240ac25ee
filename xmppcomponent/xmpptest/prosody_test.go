package xmpptest

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestProsodyConfigLoadsOperatorSnippet(t *testing.T) {
	snippet, err := loadSnippet()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := prosodyConfig{
		Domain: "example.test", C2SPort: 1, CompPort: 2, LogLevel: "info",
		Components: []ComponentSpec{{Domain: "gw.example.test", Secret: `se"cret`}, {Domain: "wa.example.test", Secret: "two"}},
		Snippet:    snippet,
	}.render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Component "gw.example.test"`, `component_secret = "se\"cret"`,
		`Component "wa.example.test"`, `component_secret = "two"`,
		`component_conflict_resolve = "kick_old"`,
		`VirtualHost "example.test"`, "run_as_root = true",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, `"change-me"`) || strings.Contains(cfg, `Component "wa.example.org"`) {
		t.Errorf("placeholders left in the config:\n%s", cfg)
	}
	if _, err := instantiateSnippet("Component \"x\"\n", ComponentSpec{Domain: "a", Secret: "b"}); err == nil {
		t.Error("a snippet without placeholders was accepted")
	}
}

func TestProsodyStartRegisterRestart(t *testing.T) {
	p := StartProsody(t, ProsodyOptions{
		Components: []ComponentSpec{{Domain: "gw.example.test", Secret: "s3cret"}},
	})
	if p.Domain != "example.test" {
		t.Errorf("default domain %q", p.Domain)
	}
	for _, addr := range []string{p.C2SAddr, p.ComponentAddr} {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			t.Errorf("%s is not on loopback", addr)
		}
	}
	cfg, err := os.ReadFile(p.ConfigPath)
	if err != nil || !strings.Contains(string(cfg), `Component "gw.example.test"`) {
		t.Fatalf("config %s: %v", p.ConfigPath, err)
	}

	p.Register(t, "alice", "pw-alice")
	c, err := DialClient(testCtx(t), p.C2SAddr, "alice@example.test", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.JID, "alice@example.test/") {
		t.Errorf("bound JID %q", c.JID)
	}
	if _, err := DialClient(testCtx(t), p.C2SAddr, "alice@example.test", "wrong"); err == nil ||
		!strings.Contains(err.Error(), "not-authorized") {
		t.Errorf("wrong password: %v", err)
	}

	// SIGKILL, then start again: same ports, same data (the account survives).
	p.Kill(t)
	if p.Running() {
		t.Fatal("still running after Kill")
	}
	if _, err := c.Next(testCtx(t)); err == nil {
		t.Error("the client did not notice the server's death")
	}
	c.Close()
	p.Start(t)
	c, err = DialClient(testCtx(t), p.C2SAddr, "alice@example.test", "pw-alice")
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	c.Close()

	// SIGTERM and start again.
	p.Stop(t)
	p.Start(t)
	c, err = DialClient(testCtx(t), p.C2SAddr, "alice@example.test", "pw-alice")
	if err != nil {
		t.Fatalf("after stop/start: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	log, err := os.ReadFile(p.LogPath)
	if err != nil || !strings.Contains(string(log), "Hello and welcome to Prosody") {
		t.Errorf("prosody log at %s: %v", p.LogPath, err)
	}
}
