package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
)

// TestRunRefusesNewerSchema: `drawbridge run` on a database that a newer
// drawbridge has migrated stops before serving, with the versions, the
// file and what to do in its error.
func TestRunRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "drawbridge.db")
	st, err := sqlitestore.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", sqlitestore.DSN(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	newer := sqlitestore.SchemaVersion() + 1
	if _, err := db.Exec(`UPDATE drawbridge_schema_version SET version = ?`, newer); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cfgPath := filepath.Join(dir, "drawbridge.yaml")
	cfg := fmt.Sprintf(`component:
  jid: gw.example.test
  server: 127.0.0.1:1
  secret: a-test-secret-of-24-chars
store:
  sqlite:
    path: %s
api:
  listen: ""
metrics:
  listen: ""
`, dbPath)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	err = run(t.Context(), []string{"run", "--config", cfgPath}, &stderr, &stderr)
	if err == nil {
		t.Fatal("run started on a database with a newer schema")
	}
	for _, want := range []string{
		dbPath, fmt.Sprintf("schema version %d", newer), fmt.Sprintf("up to %d", sqlitestore.SchemaVersion()),
		"newer drawbridge", "restore the backup",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("run's error %q does not say %q", err, want)
		}
	}
}
