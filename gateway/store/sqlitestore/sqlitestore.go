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
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// pruneInterval is how often, at most, PutMessageID deletes expired rows.
const pruneInterval = time.Minute

// Store is a store.Store on SQLite. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	ownsDB bool
	// lastPrune is when expired message ids were last deleted (Unix ns).
	lastPrune atomic.Int64
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

// Open opens (creating if needed) the database file at path, brings its
// schema up to date and returns a Store that owns the database.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s, err := OpenDB(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s.ownsDB = true
	return s, nil
}

// OpenDB brings the schema of db up to date and returns a Store on it. The
// caller keeps ownership of db: Close does not close it. db should be opened
// with DSN (or at least with a busy timeout and _txlock=immediate).
func OpenDB(ctx context.Context, db *sql.DB) (*Store, error) {
	if err := migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	return &Store{db: db}, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	return nil
}

// Close closes the database if the Store opened it (Open), and does nothing
// if it was given one (OpenDB).
func (s *Store) Close() error {
	if !s.ownsDB {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction and commits it if fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
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
