package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestBackupRestore: `backup` of a running gateway (sqlite store) while
// platform messages wait in its queue for the XMPP link, `restore` into a
// fresh data directory, and a gateway started from there has the linked
// account and delivers the queued messages; the file host's files come
// back too.
func TestBackupRestore(t *testing.T) {
	e := startE2E(t, config.BackendSQLite)
	u := e.user("alice")
	linkByChat(t, u)
	owner := ids.Owner(u.bare)
	aliceJID := string(sandbox.Alice) + "@" + e2eComponent
	ctx := t.Context()
	if err := os.WriteFile(filepath.Join(e.cfg.Files.Dir, "kept.txt"), []byte("a hosted file"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The XMPP server goes away; what the platform sends waits in the queue.
	waitFor(t, "the gateway's stanzas to be confirmed", func() bool {
		s := e.app.component.Conn().Stats()
		return s.InFlight == 0 && s.Queued == 0
	})
	e.prosody.Kill(t)
	waitFor(t, "the gateway to notice the dead link", func() bool { return !e.app.component.Conn().Connected() })
	const queued = 5
	for i := range queued {
		if _, err := e.app.sandbox.Platform().SendAs(ctx, sandbox.Alice, alicePhone, fmt.Sprintf("q%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the messages to be queued", func() bool {
		items, err := e.app.store.Pending(ctx, owner, 0)
		return err == nil && len(items) >= queued
	})

	// Backup while the gateway runs.
	dir := filepath.Join(t.TempDir(), "backup")
	var out strings.Builder
	if err := backup(ctx, e.cfg, "", dir, &out); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	for _, want := range []string{"drawbridge.db: the gateway's store", "files/: the file host's 1 files", "backup written to " + dir} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("backup says:\n%s\nwant %q", out.String(), want)
		}
	}
	e.shutdown()

	// Restore into a fresh data directory; a second restore refuses to
	// overwrite it.
	fresh := t.TempDir()
	cfg := e.cfg
	cfg.Store.SQLite.Path = filepath.Join(fresh, "drawbridge.db")
	cfg.Files.Dir = filepath.Join(fresh, "files")
	out.Reset()
	if err := restore(ctx, cfg, dir, &out); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if err := restore(ctx, cfg, dir, &out); err == nil || !strings.Contains(err.Error(), "exists; stop the gateway") {
		t.Errorf("a restore over existing data: %v, want a refusal naming the file", err)
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Files.Dir, "kept.txt")); err != nil || string(b) != "a hosted file" {
		t.Errorf("restored file host file: %q, %v", b, err)
	}

	// A gateway on the restored data: the account is linked and the queued
	// messages arrive once the server is back.
	e.cfg = cfg
	e.prosody.Start(t)
	e.start()
	if a, err := e.app.store.AccountByOwner(ctx, owner, "sandbox"); err != nil || a.ID == "" {
		t.Fatalf("restored account of %s: %+v, %v", owner, a, err)
	}
	u.connect()
	for i := range queued {
		u.waitMessage(aliceJID, fmt.Sprintf("q%02d", i))
	}
	// And the account works: the Echo Bot answers.
	u.raw(`<message type='chat' to='` + echoJID + `' id='after'><body>after restore</body></message>`)
	u.waitMessage(echoJID, "echo: after restore")
}

// TestBackupRedisSaysHow: with the Redis store, backup copies what is on
// this machine (the encryption key here) and says how to back up Redis,
// which it does not copy.
func TestBackupRedisSaysHow(t *testing.T) {
	cfg := config.Default()
	cfg.Store.Backend = config.BackendRedis
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Store.EncryptionKeyFile = keyFile
	dir := filepath.Join(t.TempDir(), "backup")
	var out strings.Builder
	if err := backup(t.Context(), cfg, "", dir, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"The Redis store is not in this backup", "redis-cli -u REDIS_URL --rdb", "BGSAVE", "encryption.key: the encryption key"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("backup says:\n%s\nwant %q", out.String(), want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "encryption.key")); err != nil || string(b) != "a key\n" {
		t.Errorf("the key in the backup: %q, %v", b, err)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST.txt"))
	if err != nil || !strings.Contains(string(manifest), "The Redis store is not in this backup") {
		t.Errorf("MANIFEST.txt: %q, %v", manifest, err)
	}
	if err := backup(t.Context(), cfg, "", dir, &out); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a backup into a used directory: %v, want a refusal", err)
	}
}
