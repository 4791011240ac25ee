package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestAttackScript runs the maintainers' attack script
// (testdata/attacks/attack.py) against a gateway on Prosody, as it would
// run against a live deployment: the link flood, long ids, fallback
// ranges and the file host fill must all be withstood. The file host has
// an owner share smaller than the attacker's files, and a sender share as
// large as the quota (the echo bot sends every user's echoes: its share
// is everybody's).
func TestAttackScript(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Files.Quota, c.Files.OwnerQuota, c.Files.SenderQuota, c.Files.MaxFileSize = 8<<20, 4<<20, 8<<20, 1<<20
	})
	alice, mallory := e.user("alice"), e.user("mallory")
	linkPhone(t, alice, alicePhone)
	linkPhone(t, mallory, "+15557654399")
	// The script logs in itself; these sessions only linked the accounts.
	alice.c.Close()
	mallory.c.Close()

	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import slixmpp").Run(); err != nil {
		t.Fatalf("python3-slixmpp is required (apt-get install python3-slixmpp): %v", err)
	}
	script, err := filepath.Abs("../../testdata/attacks/attack.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script,
		// The file host fill first: the flood uses up mallory's rate.
		"file-host-fill", "long-ids", "fallback-ranges", "link-flood",
		"--server", e.prosody.C2SAddr, "--plaintext",
		"--gateway", e2eComponent,
		"--attacker", "mallory@"+e2eDomain+":pw-mallory",
		"--victim", "alice@"+e2eDomain+":pw-alice",
		"--echo", echoJID,
		"--listen", testutil.FreeAddr(t), "--advertise", "127.0.0.1",
		"--step-timeout", "20")
	out, err := cmd.Output()
	t.Logf("attack.py:\n%s", out)
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = tailLines(string(ee.Stderr), 30)
		}
		t.Fatalf("attack.py: %v\n%s", err, stderr)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			Attack    string `json:"attack"`
			Withstood bool   `json:"withstood"`
			Exercised *bool  `json:"exercised"`
			Stored    int    `json:"attacker_stored"`
			Refused   int    `json:"attacker_refused"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not a result line: %s", line)
		}
		seen[r.Attack] = r.Withstood
		// Mallory's owner share (4 MiB) holds four of his ten 1 MB files.
		if r.Attack == "file-host-fill" && (r.Exercised == nil || !*r.Exercised || r.Stored != 4 || r.Refused != 6) {
			t.Errorf("file-host-fill: %s; want mallory's message passed on, 4 files stored and 6 refused", line)
		}
	}
	for _, a := range []string{"link-flood", "long-ids", "fallback-ranges", "file-host-fill"} {
		if !seen[a] {
			t.Errorf("%s not withstood (or not run)", a)
		}
	}
}

// TestAttackScriptCommentFlood runs the script's hostile server: the
// gateway's XEP-0114 link connects to it, and after the handshake it
// sends "<!--" and up to 300 MB. The link refuses the comment at once
// (restricted-xml), long before the flood has been sent.
func TestAttackScriptCommentFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the attack script")
	}
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import slixmpp").Run(); err != nil {
		t.Fatalf("python3-slixmpp is required (apt-get install python3-slixmpp): %v", err)
	}
	script, err := filepath.Abs("../../testdata/attacks/attack.py")
	if err != nil {
		t.Fatal(err)
	}
	addr := testutil.FreeAddr(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script, "comment-flood",
		"--component-listen", addr, "--gateway", e2eComponent, "--secret", e2eSecret,
		"--flood-bytes", "300MB", "--step-timeout", "20", "--timeout", "60")
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The script accepts one connection: the link's, once it listens.
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var said []string
		for sc.Scan() {
			if strings.Contains(sc.Text(), "waiting for the gateway") {
				listening <- true
				_, _ = io.Copy(io.Discard, stderr)
				return
			}
			said = append(said, sc.Text())
		}
		t.Logf("attack.py said: %s", strings.Join(said, "\n"))
		listening <- false
	}()
	if !<-listening {
		_ = cmd.Wait()
		t.Fatal("the script did not listen")
	}
	linkCtx, stopLink := context.WithCancel(ctx)
	defer stopLink()
	conn := stream.New(stream.Config{Addr: addr, Domain: e2eComponent, Secret: e2eSecret, Logger: slog.New(slog.DiscardHandler)}, func(context.Context, stanza.Packet) {})
	go func() { _ = conn.Run(linkCtx) }()
	err = cmd.Wait()
	stopLink()
	t.Logf("attack.py: %s", stdout.String())
	if err != nil {
		t.Fatalf("attack.py: %v", err)
	}
	var r struct {
		Withstood  bool  `json:"withstood"`
		BytesSent  int64 `json:"bytes_sent"`
		Restricted bool  `json:"restricted_xml"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Withstood || r.BytesSent >= 300_000_000 {
		t.Errorf("comment flood: %+v; want the link closed before the whole flood was sent", r)
	}
}
