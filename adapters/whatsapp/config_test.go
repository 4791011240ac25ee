package whatsapp

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
)

func TestParseConfig(t *testing.T) {
	cfg, unknown, err := parseConfig(map[string]any{
		"enabled": true, "database": "/var/lib/drawbridge/wa.db", "component_jid": "wa.example.org",
		"mark_online": "false", "max_file_size": "100MB", "colour": "blue",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.database != "/var/lib/drawbridge/wa.db" || cfg.deviceName != "Drawbridge (wa.example.org)" || cfg.markOnline ||
		cfg.maxFileSize != 100_000_000 || strings.Join(unknown, ",") != "colour" {
		t.Errorf("cfg = %+v, unknown %v", cfg, unknown)
	}
	cfg, _, err = parseConfig(nil)
	if err != nil || cfg.database != DefaultDatabase || cfg.deviceName != "Drawbridge" || !cfg.markOnline || cfg.maxFileSize != convert.MaxDocumentSize {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
	for _, size := range []any{16 << 20, "16MiB", "16 MiB", float64(16 << 20), int64(16 << 20)} {
		cfg, _, err := parseConfig(map[string]any{"max_file_size": size})
		if err != nil || cfg.maxFileSize != 16<<20 {
			t.Errorf("max_file_size %v = %d, %v", size, cfg.maxFileSize, err)
		}
	}
	for key, bad := range map[string]any{
		"database": "", "mark_online": "perhaps", "max_file_size": "lots", "device_name": 3,
	} {
		if _, _, err := parseConfig(map[string]any{key: bad}); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%v: error %v does not name the key", key, bad, err)
		}
	}
	if _, _, err := parseConfig(map[string]any{"max_file_size": "3GB"}); err == nil {
		t.Error("a limit above WhatsApp's was accepted")
	}
}

func TestDefaults(t *testing.T) {
	got := Defaults(map[string]any{"enabled": true}, "wa.example.org", "/var/lib/drawbridge/drawbridge.db")
	if got["component_jid"] != "wa.example.org" || got["database"] != "/var/lib/drawbridge/whatsapp.db" || got["enabled"] != true {
		t.Errorf("Defaults = %v", got)
	}
	kept := Defaults(map[string]any{"component_jid": "x", "database": "/elsewhere.db"}, "wa.example.org", "/a/b.db")
	if kept["component_jid"] != "x" || kept["database"] != "/elsewhere.db" {
		t.Errorf("Defaults overrode the section: %v", kept)
	}
	pg := Defaults(map[string]any{"postgres_dsn": "postgres://x"}, "", "/a/b.db")
	if _, ok := pg["database"]; ok {
		t.Errorf("Defaults added a sqlite file beside PostgreSQL: %v", pg)
	}
	if redis := Defaults(nil, "wa.example.org", ""); redis["database"] != nil {
		t.Errorf("Defaults without a sqlite store = %v", redis)
	}
}
