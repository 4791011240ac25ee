package whatsapp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	// Drivers of the device store: "pgx" for PostgreSQL; "sqlite"
	// (modernc.org/sqlite, pure Go) is registered by the gateway's own
	// sqlite store and imported here too so the adapter stands alone.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"go.mau.fi/whatsmeow/store/sqlstore"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// SQLiteDSN is the data source name of the device store's sqlite file at
// path: foreign keys on (whatsmeow's schema needs them and refuses to start
// without), WAL journal, a 5 s busy timeout, and write transactions that
// take the lock when they begin so that concurrent ones wait instead of
// failing with SQLITE_BUSY.
func SQLiteDSN(path string) string {
	path = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	return "file:" + path +
		"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate"
}

// openContainer opens whatsmeow's device store (one database holds the
// devices of every linked account) and brings its schema up to date.
func openContainer(ctx context.Context, cfg config, log waLog.Logger) (*sqlstore.Container, error) {
	if cfg.postgresDSN != "" {
		c, err := sqlstore.New(ctx, "pgx", cfg.postgresDSN, log)
		if err != nil {
			return nil, fmt.Errorf("whatsapp: opening the device store on PostgreSQL: %w", err)
		}
		return c, nil
	}
	if dir := filepath.Dir(cfg.database); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("whatsapp: creating the directory of the device store %s: %w", cfg.database, err)
		}
	}
	c, err := sqlstore.New(ctx, "sqlite", SQLiteDSN(cfg.database), log)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: opening the device store %s: %w", cfg.database, err)
	}
	// The file holds every linked account's keys: keep it private.
	if err := os.Chmod(cfg.database, 0o600); err != nil && !os.IsNotExist(err) {
		log.Warnf("cannot restrict the permissions of %s: %v", cfg.database, err)
	}
	return c, nil
}
