package report

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // the sqlite store's own driver, read only here

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// tableHolds says what each table of the sqlite store is for. A table the
// schema has and this map lacks is reported as "not described" (a test
// checks there is none).
var tableHolds = map[string]string{
	"drawbridge_accounts": "Which XMPP address linked which platform account, and its state. Kept until the user unlinks or unregisters.",
	"drawbridge_contacts": "The names of the account's contacts and whether the XMPP user subscribed to them. Kept while the account is linked.",
	"drawbridge_message_ids_by_xmpp": "Pairs of message ids (XMPP ↔ platform), so that receipts, corrections, reactions and replies find their message. " +
		"No message content. Each expires after " + store.DefaultMessageIDTTL.String() + ".",
	"drawbridge_message_ids_by_platform": "The same pairs, looked up from the platform's side; the same expiry.",
	"drawbridge_kv": "The platform adapter's private state per account (for WhatsApp: session data; sealed with store.encryption_key when one is set). " +
		"Deleted on unlink.",
	"drawbridge_queue": "The durable queues: platform messages journaled until the XMPP server confirmed them, and messages to a platform that is " +
		"down, until sent or past limits.send_retry_deadline. Message content lives here only that long.",
	"drawbridge_schema_version": "The schema version (one number).",
}

// SQLiteTables describes the tables of the sqlite store at path: their
// columns (from the schema the gateway created) and their row counts.
func SQLiteTables(ctx context.Context, path string) ([]StoreTable, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("report: opening the store %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("report: reading the store's schema: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("report: reading the store's schema: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: reading the store's schema: %w", err)
	}
	var out []StoreTable
	for _, n := range names {
		t := StoreTable{Name: n, Rows: -1, Holds: tableHolds[n]}
		if t.Holds == "" {
			t.Holds = "not described"
		}
		cols, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, n)
		if err != nil {
			return nil, fmt.Errorf("report: columns of %s: %w", n, err)
		}
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				cols.Close()
				return nil, fmt.Errorf("report: columns of %s: %w", n, err)
			}
			t.Columns = append(t.Columns, c)
		}
		cols.Close()
		// n comes from sqlite_master: a table name, quoted as an identifier.
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(n, `"`, `""`)+`"`).Scan(&t.Rows); err != nil {
			return nil, fmt.Errorf("report: counting %s: %w", n, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// StoreFacts are what the configuration says about keeping data.
func StoreFacts(cfg config.Config) []Fact {
	enc := "not set: the adapters' session state is stored as the platform library writes it"
	if cfg.Store.EncryptionKey != "" || cfg.Store.EncryptionKeyFile != "" {
		enc = "set: the adapters' session state is sealed at rest"
	}
	facts := []Fact{
		{"store.backend", cfg.Store.Backend},
		{"store.encryption_key", enc},
		{"message id pairs expire after", store.DefaultMessageIDTTL.String()},
		{"files.expiry (platform files served to XMPP users)", cfg.Files.ExpiryDuration().String()},
		{"message bodies", "not stored, except in the durable queues while a side is down (above); the sandbox platform keeps its own record in memory"},
	}
	facts = append(facts, Fact{"with store.backend redis", "the same records as hashes, sets and streams under store.redis.key_prefix, one hash tag per owner (gateway/store/redisstore's package comment lists the keys); the id pairs expire by TTL, the rest is kept as above"})
	if cfg.Store.Backend == config.BackendSQLite {
		facts = append(facts[:1], append([]Fact{{"store.sqlite.path", "(one file; the report's run used a temporary one)"}}, facts[1:]...)...)
	}
	return facts
}
