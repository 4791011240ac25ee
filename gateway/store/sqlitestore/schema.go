package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// migrations are the schema changes in order; migrations[i] takes the schema
// from version i to version i+1. Append only: never edit a released one.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE drawbridge_accounts (
	owner        TEXT    NOT NULL,
	platform     TEXT    NOT NULL,
	account_id   TEXT    NOT NULL DEFAULT '',
	state        TEXT    NOT NULL DEFAULT '',
	state_detail TEXT    NOT NULL DEFAULT '',
	registered   INTEGER NOT NULL,
	updated      INTEGER NOT NULL,
	PRIMARY KEY (owner, platform)
) WITHOUT ROWID;

-- The reverse index; an empty account_id (registered, not linked) is not in it.
CREATE UNIQUE INDEX drawbridge_accounts_by_id
	ON drawbridge_accounts (platform, account_id) WHERE account_id <> '';

CREATE TABLE drawbridge_contacts (
	owner      TEXT    NOT NULL,
	platform   TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	subscribed INTEGER NOT NULL DEFAULT 0,
	updated    INTEGER NOT NULL,
	PRIMARY KEY (owner, platform, user_id)
) WITHOUT ROWID;

-- Message ids, one table per direction: each keeps the last pair written.
CREATE TABLE drawbridge_message_ids_by_xmpp (
	owner       TEXT    NOT NULL,
	chat        TEXT    NOT NULL,
	xmpp_id     TEXT    NOT NULL,
	platform_id TEXT    NOT NULL,
	expires_at  INTEGER NOT NULL,
	PRIMARY KEY (owner, chat, xmpp_id)
) WITHOUT ROWID;
CREATE INDEX drawbridge_message_ids_by_xmpp_expiry ON drawbridge_message_ids_by_xmpp (expires_at);

CREATE TABLE drawbridge_message_ids_by_platform (
	owner       TEXT    NOT NULL,
	chat        TEXT    NOT NULL,
	platform_id TEXT    NOT NULL,
	xmpp_id     TEXT    NOT NULL,
	expires_at  INTEGER NOT NULL,
	PRIMARY KEY (owner, chat, platform_id)
) WITHOUT ROWID;
CREATE INDEX drawbridge_message_ids_by_platform_expiry ON drawbridge_message_ids_by_platform (expires_at);

CREATE TABLE drawbridge_kv (
	platform   TEXT NOT NULL,
	account_id TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      BLOB NOT NULL,
	PRIMARY KEY (platform, account_id, key)
) WITHOUT ROWID;
`,
	// 2: the per-owner queues (store.Queues). AUTOINCREMENT keeps sequences
	// increasing even after the newest rows were deleted.
	`
CREATE TABLE drawbridge_queue (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	owner    TEXT    NOT NULL,
	data     BLOB    NOT NULL,
	enqueued INTEGER NOT NULL
);
CREATE INDEX drawbridge_queue_by_owner ON drawbridge_queue (owner, seq);
`,
}

// SchemaVersion is the newest schema version this program knows: the one
// Open brings a database to. A database with a newer one is refused
// (store.SchemaTooNewError).
func SchemaVersion() int { return len(migrations) }

// migrate brings db's schema to the latest version in one transaction, which
// takes the write lock first so that two processes opening the same new
// file do not both migrate it.
func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	err = migrateLocked(ctx, conn)
	if err != nil {
		_, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return errors.Join(err, rbErr)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

func migrateLocked(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS drawbridge_schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: creating the version table: %w", err)
	}
	var version int
	if err := conn.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM drawbridge_schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("migrate: reading the schema version: %w", err)
	}
	if version > len(migrations) {
		return &store.SchemaTooNewError{Store: "the sqlite database", Found: version, Known: len(migrations)}
	}
	for v := version; v < len(migrations); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate: to schema version %d: %w", v+1, err)
		}
	}
	if version == len(migrations) {
		return nil
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM drawbridge_schema_version`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx,
		`INSERT INTO drawbridge_schema_version (version) VALUES (?)`, len(migrations)); err != nil {
		return fmt.Errorf("migrate: recording schema version %d: %w", len(migrations), err)
	}
	return nil
}
