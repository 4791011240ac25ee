package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	registered := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := s.PutAccount(ctx, store.Account{Owner: "alice@example.org", Platform: "sandbox", ID: "A", Registered: registered}); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}
	if err := s.PutContact(ctx, "alice@example.org", store.Contact{Platform: "sandbox", User: "u", Name: "Juliet"}); err != nil {
		t.Fatalf("PutContact: %v", err)
	}
	if err := s.PutMessageID(ctx, "alice@example.org", "c", "x", "p", 0); err != nil {
		t.Fatalf("PutMessageID: %v", err)
	}
	if err := s.SetKV(ctx, "sandbox", "A", "k", []byte("v")); err != nil {
		t.Fatalf("SetKV: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	a, err := s.AccountByID(ctx, "sandbox", "A")
	if err != nil || a.Owner != "alice@example.org" || !a.Registered.Equal(registered) {
		t.Errorf("AccountByID after reopen = %+v, %v", a, err)
	}
	if c, err := s.GetContact(ctx, "alice@example.org", "sandbox", "u"); err != nil || c.Name != "Juliet" {
		t.Errorf("GetContact after reopen = %+v, %v", c, err)
	}
	if p, err := s.PlatformMessageID(ctx, "alice@example.org", "c", "x"); err != nil || p != "p" {
		t.Errorf("PlatformMessageID after reopen = %q, %v", p, err)
	}
	if v, err := s.GetKV(ctx, "sandbox", "A", "k"); err != nil || string(v) != "v" {
		t.Errorf("GetKV after reopen = %q, %v", v, err)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM drawbridge_schema_version`).Scan(&version); err != nil || version != len(migrations) {
		t.Errorf("schema version = %d, %v; want %d", version, err, len(migrations))
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `UPDATE drawbridge_schema_version SET version = 999`); err != nil {
		t.Fatalf("bumping the version: %v", err)
	}
	s.Close()
	s, err := Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	tooNew, ok := errors.AsType[*store.SchemaTooNewError](err)
	if !ok || tooNew.Found != 999 || tooNew.Known != SchemaVersion() {
		t.Fatalf("Open error = %v, want a SchemaTooNewError 999 > %d", err, SchemaVersion())
	}
	for _, want := range []string{path, "schema version 999", fmt.Sprintf("up to %d", SchemaVersion()), "newer drawbridge", "restore the backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not say %q", err, want)
		}
	}
	// Refused, not touched: the version stays.
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRowContext(ctx, `SELECT version FROM drawbridge_schema_version`).Scan(&version); err != nil || version != 999 {
		t.Errorf("the refused database's version = %d, %v; want 999", version, err)
	}
}

// TestOpenDBShares checks that a Store on a caller's *sql.DB leaves the
// caller's tables and user_version alone and does not close the database.
func TestOpenDBShares(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", DSN(filepath.Join(t.TempDir(), "shared ?#%.db")))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE other (x); PRAGMA user_version = 42`); err != nil {
		t.Fatalf("preparing the shared database: %v", err)
	}
	s, err := OpenDB(ctx, db)
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Errorf("the shared database was closed: %v", err)
	}
	var uv int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&uv); err != nil || uv != 42 {
		t.Errorf("user_version = %d, %v; want 42", uv, err)
	}
	// Opening again migrates nothing and keeps the data.
	if _, err := OpenDB(ctx, db); err != nil {
		t.Fatalf("second OpenDB: %v", err)
	}
}

func TestDefaultMessageIDTTL(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	t.Cleanup(func() { s.Close() })
	before := time.Now()
	if err := s.PutMessageID(ctx, "o", "c", "x", "p", 0); err != nil {
		t.Fatalf("PutMessageID: %v", err)
	}
	for _, table := range []string{"drawbridge_message_ids_by_xmpp", "drawbridge_message_ids_by_platform"} {
		var expires int64
		if err := s.db.QueryRowContext(ctx, `SELECT expires_at FROM `+table).Scan(&expires); err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		at := time.Unix(0, expires)
		if at.Before(before.Add(store.DefaultMessageIDTTL)) || at.After(time.Now().Add(store.DefaultMessageIDTTL)) {
			t.Errorf("%s expires at %v, want %v after the put", table, at, store.DefaultMessageIDTTL)
		}
	}
}

func TestPrunesExpired(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	t.Cleanup(func() { s.Close() })
	// An expired row, as if written long ago.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO drawbridge_message_ids_by_xmpp VALUES ('o', 'c', 'old', 'p', 1)`); err != nil {
		t.Fatalf("inserting: %v", err)
	}
	s.lastPrune.Store(0)
	if err := s.PutMessageID(ctx, "o", "c", "new", "p2", time.Hour); err != nil {
		t.Fatalf("PutMessageID: %v", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM drawbridge_message_ids_by_xmpp`).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows after prune = %d, %v; want 1", n, err)
	}
}

func TestExpirySaturates(t *testing.T) {
	now := time.Now()
	if got := expiry(now, time.Duration(1<<62)); got <= now.UnixNano() {
		t.Errorf("expiry with a huge ttl = %d, before now", got)
	}
}

// TestCanceledContext checks that the hot paths, whose statements run
// without the context's cancellation (shortContext), still fail at once on
// a canceled context and write nothing.
func TestCanceledContext(t *testing.T) {
	s, _ := openTemp(t)
	t.Cleanup(func() { s.Close() })
	seq, err := s.Enqueue(t.Context(), "o", []byte("item"))
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	pairs := []store.MessageIDPair{{Owner: "o", Chat: "c", XMPPID: "x1", PlatformID: "p1"}, {Owner: "o", Chat: "c", XMPPID: "x2", PlatformID: "p2"}}
	for name, err := range map[string]error{
		"PutMessageIDs": s.PutMessageIDs(ctx, pairs),
		"PutMessageID":  s.PutMessageID(ctx, "o", "c", "x3", "p3", 0),
		"AckAll":        s.AckAll(ctx, []store.QueueRef{{Owner: "o", Seq: seq}, {Owner: "o", Seq: "12345"}}),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v, want context.Canceled", name, err)
		}
	}
	if _, err := s.XMPPMessageID(ctx, "o", "c", "p1"); !errors.Is(err, context.Canceled) {
		t.Errorf("XMPPMessageID with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.PlatformMessageID(ctx, "o", "c", "x1"); !errors.Is(err, context.Canceled) {
		t.Errorf("PlatformMessageID with a canceled context: %v, want context.Canceled", err)
	}
	for _, x := range []string{"x1", "x2", "x3"} {
		if _, err := s.PlatformMessageID(t.Context(), "o", "c", x); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PlatformMessageID(%s) after a canceled put: %v, want ErrNotFound", x, err)
		}
	}
	if items, err := s.Pending(t.Context(), "o", 0); err != nil || len(items) != 1 {
		t.Errorf("Pending after a canceled AckAll = %v, %v; want the item", items, err)
	}
	// Close is idempotent, prepared statements included.
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestFilesPrivate: the database and its -wal and -shm files are created
// readable by their owner only (issue 21: under the usual umask 022 they
// were created 0644).
func TestFilesPrivate(t *testing.T) {
	s, path := openTemp(t)
	t.Cleanup(func() { s.Close() })
	if err := s.PutAccount(t.Context(), store.Account{Owner: "alice@example.org", Platform: "sandbox", ID: "A"}); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), m)
		}
	}
}
