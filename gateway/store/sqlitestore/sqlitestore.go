// Package sqlitestore implements store.Store on SQLite, in pure Go
// (modernc.org/sqlite, driver "sqlite"), in one database file that other
// components — the WhatsApp adapter's device store — may share. Its tables
// are named drawbridge_*; its schema version is kept in
// drawbridge_schema_version rather than PRAGMA user_version, which belongs
// to whoever else uses the file.
//
// Times are stored as Unix nanoseconds. Message id mappings carry an
// expires_at column: expired rows are invisible to lookups and pruned, at
// most once per pruneInterval, by a write.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// pruneInterval is how often, at most, PutMessageID(s) delete expired rows.
const pruneInterval = time.Minute

// Store is a store.Store on SQLite. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	ownsDB bool
	// lastPrune is when expired message ids were last deleted (Unix ns).
	lastPrune atomic.Int64
	// writes counts the write transactions (RoundTrips).
	writes atomic.Uint64
	// stmts are the hot paths' statements, prepared once by OpenDB.
	stmts
}

// stmts are the statements of the hot paths (message id mappings, the
// queues, and what a session does as it connects: the account's state, its
// device data, its contacts), prepared once so that SQLite does not parse
// them on every call.
// database/sql prepares each one again on every connection it is used on,
// once; inside a transaction, use tx.StmtContext.
type stmts struct {
	putByXMPP, putByPlatform         *sql.Stmt
	platformMessageID, xmppMessageID *sql.Stmt
	enqueue, ack, pending            *sql.Stmt
	accountByOwner, accountByID      *sql.Stmt
	setAccountState                  *sql.Stmt
	getContact, putContact           *sql.Stmt
	getKV                            *sql.Stmt
}

// prepare prepares the statements of s.stmts on db. On error, it closes
// those it prepared.
func (s *Store) prepare(ctx context.Context, db *sql.DB) error {
	for _, q := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.putByXMPP, `
INSERT INTO drawbridge_message_ids_by_xmpp (owner, chat, xmpp_id, platform_id, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (owner, chat, xmpp_id) DO UPDATE SET platform_id = excluded.platform_id, expires_at = excluded.expires_at`},
		{&s.putByPlatform, `
INSERT INTO drawbridge_message_ids_by_platform (owner, chat, platform_id, xmpp_id, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (owner, chat, platform_id) DO UPDATE SET xmpp_id = excluded.xmpp_id, expires_at = excluded.expires_at`},
		{&s.platformMessageID, `SELECT platform_id FROM drawbridge_message_ids_by_xmpp
		WHERE owner = ? AND chat = ? AND xmpp_id = ? AND expires_at > ?`},
		{&s.xmppMessageID, `SELECT xmpp_id FROM drawbridge_message_ids_by_platform
		WHERE owner = ? AND chat = ? AND platform_id = ? AND expires_at > ?`},
		{&s.enqueue, `INSERT INTO drawbridge_queue (owner, data, enqueued) VALUES (?, ?, ?)`},
		{&s.ack, `DELETE FROM drawbridge_queue WHERE owner = ? AND seq = ?`},
		{&s.pending, `SELECT seq, data, enqueued FROM drawbridge_queue WHERE owner = ? ORDER BY seq LIMIT ?`},
		{&s.accountByOwner, `SELECT ` + accountColumns + ` FROM drawbridge_accounts WHERE owner = ? AND platform = ?`},
		{&s.accountByID, `SELECT ` + accountColumns + ` FROM drawbridge_accounts
		WHERE platform = ? AND account_id = ? AND account_id <> ''`},
		{&s.setAccountState, `UPDATE drawbridge_accounts SET state = ?, state_detail = ?, updated = ? WHERE owner = ? AND platform = ?`},
		{&s.getContact, `SELECT user_id, name, subscribed, updated FROM drawbridge_contacts
		WHERE owner = ? AND platform = ? AND user_id = ?`},
		{&s.putContact, `
INSERT INTO drawbridge_contacts (owner, platform, user_id, name, subscribed, updated) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (owner, platform, user_id) DO UPDATE SET
	name = excluded.name, subscribed = excluded.subscribed, updated = excluded.updated`},
		{&s.getKV, `SELECT value FROM drawbridge_kv WHERE platform = ? AND account_id = ? AND key = ?`},
	} {
		stmt, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			return errors.Join(fmt.Errorf("preparing %s: %w", strings.TrimSpace(q.sql), err), s.closeStmts())
		}
		*q.stmt = stmt
	}
	return nil
}

// closeStmts closes the prepared statements (those that are set).
func (s *Store) closeStmts() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{
		s.putByXMPP, s.putByPlatform, s.platformMessageID, s.xmppMessageID,
		s.enqueue, s.ack, s.pending,
		s.accountByOwner, s.accountByID, s.setAccountState,
		s.getContact, s.putContact, s.getKV,
	} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

var _ store.Store = (*Store)(nil)

// DSN returns the data source name Open uses for the database file at path:
// foreign keys on, WAL journal, a 5 s busy timeout, and write transactions
// that take the write lock when they begin (BEGIN IMMEDIATE), so concurrent
// read-then-write transactions wait for each other instead of failing with
// SQLITE_BUSY. Synchronous is NORMAL: in WAL mode a committed transaction
// survives a crash of the process (the gateway being killed), and only a
// power loss or kernel crash may lose the last commits — the usual trade for
// not waiting on an fsync per message. Use it when opening a *sql.DB to
// share with OpenDB.
func DSN(path string) string {
	// The part before '?' is an SQLite URI path: escape what it decodes.
	path = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	return "file:" + path +
		"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// maxConns bounds the pool of connections to the database file.
const maxConns = 8

// Open opens (creating if needed) the database file at path, brings its
// schema up to date and returns a Store that owns the database.
//
// A new database file is created readable by its owner only (0600); SQLite
// gives the -wal and -shm files it creates beside it the same mode. An
// existing file keeps its mode.
func Open(ctx context.Context, path string) (*Store, error) {
	if path != ":memory:" {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			f.Close()
		case !errors.Is(err, fs.ErrExist):
			return nil, fmt.Errorf("sqlitestore: create %s: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	// Connections are kept rather than closed when more than two were busy
	// at once: opening one runs the pragmas and prepares the statements
	// again, which cost more under load than the statements themselves.
	// SQLite takes one writer at a time anyway; readers share the WAL.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	s, err := OpenDB(ctx, db)
	if err != nil {
		db.Close()
		if tooNew, ok := errors.AsType[*store.SchemaTooNewError](err); ok {
			tooNew.Store = "the sqlite database " + path
			return nil, fmt.Errorf("sqlitestore: %w", tooNew)
		}
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s.ownsDB = true
	return s, nil
}

// OpenDB brings the schema of db up to date, prepares the statements of the
// hot paths and returns a Store on it. The caller keeps ownership of db:
// Close closes only the Store's statements, not db. db should be opened
// with DSN (or at least with a busy timeout and _txlock=immediate).
func OpenDB(ctx context.Context, db *sql.DB) (*Store, error) {
	if err := migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	s := &Store{db: db}
	if err := s.prepare(ctx, db); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	return s, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	return nil
}

// Close closes the Store's prepared statements, and the database if the
// Store opened it (Open) — not if it was given one (OpenDB).
func (s *Store) Close() error {
	err := s.closeStmts()
	if s.ownsDB {
		err = errors.Join(err, s.db.Close())
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction and commits it if fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.writes.Add(1)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// shortContext is ctx without its cancellation, for the statements of the
// hot paths that cannot wait long: those inside a write transaction (it
// holds the write lock from its start, BEGIN IMMEDIATE, so they wait for no
// lock) and point lookups (in WAL mode, readers do not wait for writers).
// The driver watches a cancelable context with a goroutine per statement,
// which costs more than such a statement itself; callers check ctx.Err()
// before each statement instead, so a cancellation is noticed one short
// statement late at most. (A reader may still, rarely, wait out the busy
// timeout, 5 s, for the WAL index, e.g. while another process recovers it.)
func shortContext(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

// unixNano stores t; the zero time is stored as 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano reads what unixNano stored, in UTC.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// RoundTrips returns how many write transactions the store has run since
// it was opened (a single statement outside a transaction counts one);
// reads are not counted. It is for metrics and benchmarks
// (drawbridge_store_round_trips_total).
func (s *Store) RoundTrips() uint64 { return s.writes.Load() }
