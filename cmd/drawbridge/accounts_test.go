package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// startAPIApp runs the hub and the management API in-process, without an
// XMPP server (what the component sends is recorded and dropped).
func startAPIApp(t *testing.T, mutate func(*config.Config)) *app {
	t.Helper()
	cfg := config.Default()
	cfg.Component.JID = "gw.example.test"
	cfg.Component.Secret, cfg.Component.AllowWeakSecret = "s", true
	cfg.Store.SQLite.Path = filepath.Join(t.TempDir(), "db")
	cfg.API.Listen, cfg.Metrics.Listen = "127.0.0.1:0", ""
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := newApp(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.component.SetSender(&recorder{})
	if err := a.mgmt.start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.mgmt.stopAPI(ctx)
		_ = a.gw.Stop(ctx)
		a.store.Close()
	})
	return a
}

// cli runs "drawbridge accounts ARGS..." against a, with stdin.
func cli(t *testing.T, a *app, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{args[0], "--api", a.mgmt.api.Addr().String()}, args[1:]...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = cmdAccounts(ctx, full, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestAccountsCommand(t *testing.T) {
	a := startAPIApp(t, nil)

	out, _, err := cli(t, a, "", "list")
	if err != nil || !strings.Contains(out, "No users are registered.") {
		t.Fatalf("list: %q %v", out, err)
	}

	// Link with the phone number given as a flag, after the owner.
	out, _, err = cli(t, a, "", "link", "alice@example.test", "--input", "phone=+15557654321")
	if err != nil {
		t.Fatalf("link: %v", err)
	}
	for _, want := range []string{"Pairing code: ", "Linked: account +15557654321."} {
		if !strings.Contains(out, want) {
			t.Errorf("link output lacks %q:\n%s", want, out)
		}
	}

	// Link interactively: a refused number, then a good one.
	out, errOut, err := cli(t, a, "12\n+15557654322\n", "link", "bob@example.test")
	if err != nil {
		t.Fatalf("interactive link: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "Phone number") || !strings.Contains(errOut, "Refused: ") || !strings.Contains(out, "Linked: account +15557654322.") {
		t.Errorf("interactive link:\nstdout %s\nstderr %s", out, errOut)
	}
	// Standard input runs dry: the error says how to answer.
	_, _, err = cli(t, a, "", "link", "carol@example.test")
	if err == nil || !strings.Contains(err.Error(), "--input phone=VALUE") {
		t.Errorf("link without input: %v", err)
	}

	out, _, err = cli(t, a, "", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "OWNER") || !strings.Contains(lines[1], "alice@example.test") ||
		!strings.Contains(lines[1], "+15557654321") || !strings.Contains(lines[1], "connected") || !strings.Contains(lines[3], "carol@example.test") {
		t.Errorf("list:\n%s", out)
	}

	out, _, err = cli(t, a, "", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Accounts []struct {
			Owner           string `json:"owner"`
			PlatformAccount string `json:"platform_account"`
			Linked          bool   `json:"linked"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Accounts) != 3 || !list.Accounts[1].Linked || list.Accounts[2].Linked {
		t.Errorf("list --json: %v\n%s", err, out)
	}

	out, _, err = cli(t, a, "", "show", "alice@example.test")
	if err != nil || !strings.Contains(out, "account:        +15557654321") || !strings.Contains(out, "live session:   yes") {
		t.Errorf("show: %v\n%s", err, out)
	}
	_, _, err = cli(t, a, "", "show", "nobody@example.test")
	if err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("show nobody: %v", err)
	}

	out, _, err = cli(t, a, "", "unlink", "alice@example.test", "--json")
	if err != nil || !strings.Contains(out, `"linked": false`) {
		t.Errorf("unlink --json: %v\n%s", err, out)
	}
	_, _, err = cli(t, a, "", "unlink", "alice@example.test")
	if err == nil || !strings.Contains(err.Error(), "FailedPrecondition") {
		t.Errorf("unlink twice: %v", err)
	}

	for _, bad := range [][]string{{"list", "extra"}, {"show"}, {"frob"}, {"link", "a@b.c", "--input", "nokey"}} {
		if _, _, err := cli(t, a, "", bad...); err == nil {
			t.Errorf("accounts %v: no error", bad)
		}
	}
}

func TestAccountsCommandAuth(t *testing.T) {
	const token = "cli-t0ken-7d1e"
	a := startAPIApp(t, func(c *config.Config) { c.API.Token = token })
	_, _, err := cli(t, a, "", "list")
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("list without a token: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("the error shows the token: %v", err)
	}
	_, _, err = cli(t, a, "", "list", "--token", "wrong")
	if err == nil || !strings.Contains(err.Error(), "Unauthenticated") && !strings.Contains(err.Error(), "refused") {
		t.Errorf("list with a wrong token: %v", err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli(t, a, "", "list", "--token-file", file); err != nil {
		t.Errorf("list --token-file: %v", err)
	}
	t.Setenv("DRAWBRIDGE_API_TOKEN", token)
	if _, _, err := cli(t, a, "", "list"); err != nil {
		t.Errorf("list with DRAWBRIDGE_API_TOKEN: %v", err)
	}
}

func TestAccountsCommandUnreachable(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"accounts", "list", "--api", "127.0.0.1:1", "--timeout", "5s"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the management API at 127.0.0.1:1") {
		t.Errorf("unreachable API: %v", err)
	}
	err = run(t.Context(), []string{"accounts"}, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "drawbridge accounts <subcommand>") {
		t.Errorf("accounts without a subcommand: %v", err)
	}
}

// A non-loopback API without credentials: the gateway refuses to start,
// naming the setting.
func TestRunRefusesOpenAPI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "open.yaml")
	if err := os.WriteFile(path, []byte("component:\n  secret: s\napi:\n  listen: 0.0.0.0:8480\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"run", "--config", path}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "api.token: required") {
		t.Errorf("run with an open API: %v", err)
	}
}

func TestRenderQR(t *testing.T) {
	var dark, light bytes.Buffer
	if err := renderQR(&dark, "https://example.test/login?code=1234", false); err != nil {
		t.Fatal(err)
	}
	if err := renderQR(&light, "https://example.test/login?code=1234", true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(dark.String(), "\n"), "\n")
	width := utf8.RuneCountInString(lines[0])
	// A version-3 code (29 modules) plus a 4-module quiet zone each side.
	if width < 29 || len(lines) != (width+1)/2 {
		t.Errorf("QR of %d lines of %d characters:\n%s", len(lines), width, dark.String())
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) != width || strings.Trim(l, "█▀▄ ") != "" {
			t.Fatalf("odd line %q", l)
		}
	}
	// The quiet zone is drawn on a dark terminal, blank on a light one.
	if !strings.HasPrefix(lines[0], "████") || !strings.HasPrefix(light.String(), "    ") {
		t.Errorf("quiet zone:\n%s\n%s", dark.String(), light.String())
	}
}

// TestAccountsSaysWhichGateway: with two gateways on one machine, `accounts
// list` and `show` say which one answered (its component domain and API
// address) and where that address came from.
func TestAccountsSaysWhichGateway(t *testing.T) {
	a := startAPIApp(t, nil)
	b := startAPIApp(t, func(c *config.Config) { c.Component.JID = "other.example.test" })
	aAddr, bAddr := a.mgmt.api.Addr().String(), b.mgmt.api.Addr().String()

	_, errOut, err := cli(t, a, "", "list")
	if err != nil || !strings.Contains(errOut, "gateway gw.example.test, management API "+aAddr+" (--api)") {
		t.Errorf("list against A: %v, stderr %q", err, errOut)
	}
	_, errOut, err = cli(t, b, "", "show", "nobody@example.test")
	if err == nil || !strings.Contains(errOut, "gateway other.example.test, management API "+bAddr+" (--api)") {
		t.Errorf("show against B: %v, stderr %q", err, errOut)
	}

	// No --api: the address comes from DRAWBRIDGE_API_LISTEN, and the
	// command says so, with the JSON on standard output untouched.
	t.Setenv("DRAWBRIDGE_API_LISTEN", bAddr)
	var out, errBuf bytes.Buffer
	if err := cmdAccounts(t.Context(), []string{"list", "--json"}, strings.NewReader(""), &out, &errBuf); err != nil {
		t.Fatal(err)
	}
	if want := "gateway other.example.test, management API " + bAddr + " ($DRAWBRIDGE_API_LISTEN)"; !strings.Contains(errBuf.String(), want) {
		t.Errorf("list from the environment: stderr %q, want %q", errBuf.String(), want)
	}
	if !json.Valid(out.Bytes()) {
		t.Errorf("list --json: stdout is not JSON: %q", out.String())
	}
}
