package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestSlixmppMUC has an independent client (slixmpp's XEP-0045 plugin)
// join a group's room after the gateway's invitation and exchange a
// message with a platform member.
func TestSlixmppMUC(t *testing.T) {
	e := startE2E(t, config.BackendSQLite)
	python, script := slixmppScript(t, "muc_client.py")
	e.prosody.Register(t, "dave", "pw-dave")
	const phone = "+15553335555"
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, python, script,
		"--jid", "dave@"+e2eDomain, "--password", "pw-dave",
		"--server", e.prosody.C2SAddr, "--gateway", e2eComponent, "--phone", phone,
		"--room", loungeJID, "--nick", "Dave S", "--message", "hello from slixmpp", "--expect", "hi slixmpp", "--timeout", "60")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := e.app.sandbox.Platform()
	waitFor(t, "the slixmpp client's account", func() bool {
		u, ok := p.User(phone)
		return ok && u.Linked
	})
	if err := p.AddMember(sandbox.Alice, sandbox.Lounge, ids.UserID(phone)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slixmpp client's message on the platform", func() bool {
		for _, m := range p.GroupMessages(sandbox.Lounge) {
			if m.From == phone && m.Body == "hello from slixmpp" {
				return true
			}
		}
		return false
	})
	if _, err := p.SendGroupAs(ctx, sandbox.Bob, sandbox.Lounge, "hi slixmpp, from Bob"); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var result struct {
		OK        bool     `json:"ok"`
		Occupants int      `json:"occupants"`
		Nick      string   `json:"nick"`
		Inviter   string   `json:"inviter"`
		Subject   string   `json:"subject"`
		Reflected bool     `json:"reflected"`
		Received  bool     `json:"received"`
		Missing   []string `json:"missing"`
	}
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &result); jerr != nil || err != nil {
		t.Fatalf("slixmpp client: %v / %v\n%s", err, jerr, out.String())
	}
	// The nick it chose is its own; the invitation names who added it —
	// Alice —, or the gateway when its look at the account's groups right
	// after linking (a goroutine) already saw the new membership: the
	// client is invited to a room once. (The inviter of a membership
	// change is checked deterministically by the muc_deliver script and
	// TestGroupRooms.)
	inviters := []string{string(sandbox.Alice) + "@" + e2eComponent, e2eComponent}
	if !result.OK || !result.Reflected || !result.Received || result.Nick != "Dave S" ||
		!slices.Contains(inviters, result.Inviter) ||
		result.Subject != "Welcome to the Sandbox Lounge" || result.Occupants < 3 {
		t.Fatalf("slixmpp result %+v\n%s", result, out.String())
	}
}
