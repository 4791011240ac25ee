package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// TestSlixmppInterop has an independent client (slixmpp, Python) link an
// account and chat with the echo bot, so the gateway is not only tested
// against our own client code. slixmpp also checks that the echo bot is
// present as clients are: from a full JID, with XEP-0115 caps its own
// implementation verifies; that its answers come from a full JID (where
// slixmpp sends its receipts, which reach the platform) and carry
// <active/> after <composing/>, and that it reads the bot's receipts and
// typing notifications.
func TestSlixmppInterop(t *testing.T) {
	e := startE2E(t, config.BackendSQLite)
	python, script := slixmppScript(t, "drawbridge_client.py")
	e.prosody.Register(t, "carol", "pw-carol")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script,
		"--mode", "interop",
		"--jid", "carol@"+e2eDomain, "--password", "pw-carol",
		"--server", e.prosody.C2SAddr,
		"--gateway", e2eComponent,
		"--phone", "+15553334444",
		"--contact", echoJID,
		"--message", "hello from slixmpp", "--message", "second message",
		"--timeout", "60")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("slixmpp client failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var result struct {
		OK           bool `json:"ok"`
		Sent         int  `json:"sent"`
		Echoed       int  `json:"echoed"`
		Receipts     int  `json:"receipts"`
		CapsVerified bool `json:"caps_verified"`
		FullJID      int  `json:"replies_full_jid"`
		Active       int  `json:"replies_active"`
		Composing    int  `json:"composing"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &result); err != nil {
		t.Fatalf("last line is not the result JSON: %v\n%s", err, out)
	}
	if !result.OK || result.Sent != 2 || result.Echoed != 2 || result.Receipts != 2 {
		t.Fatalf("slixmpp result %+v, want ok with 2 sent, echoed and receipted\n%s", result, out)
	}
	if !result.CapsVerified || result.FullJID != 2 || result.Active != 2 {
		t.Fatalf("slixmpp result %+v, want verified caps and 2 echoes from a full JID with <active/>\n%s", result, out)
	}
	// The bot's typing notifications (no stanza id, no storage hint) reach
	// slixmpp as chat states, one before each echo.
	if result.Composing < 2 {
		t.Errorf("slixmpp saw %d typing notifications from the bot, want one per echo (2)\n%s", result.Composing, out)
	}
	// slixmpp acknowledged each echo (XEP-0184 auto_ack) to the full JID it
	// came from: the receipts reach the platform.
	waitFor(t, "slixmpp's receipts for the echoes on the platform", func() bool {
		n := 0
		for _, r := range e.app.sandbox.Platform().Receipts("+15553334444") {
			n += len(r.Targets)
		}
		return n >= 2
	})
	if got := e.app.sandbox.Platform().Received("+15550000001"); len(got) != 2 || got[0].Body != "hello from slixmpp" {
		t.Errorf("echo bot received %+v", got)
	}
}

// slixmppScript returns the Python with slixmpp (Debian's, not one on PATH)
// and the absolute path of a client script in testdata/clients.
func slixmppScript(t *testing.T, name string) (python, script string) {
	t.Helper()
	python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import slixmpp").Run(); err != nil {
		t.Fatalf("python3-slixmpp is required (apt-get install python3-slixmpp): %v", err)
	}
	script, err := filepath.Abs(filepath.Join("../../testdata/clients", name))
	if err != nil {
		t.Fatal(err)
	}
	return python, script
}
