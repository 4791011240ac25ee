package whatsapp

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
)

func TestParseConfig(t *testing.T) {
	cfg, err := parseConfig(map[string]any{
		"enabled": true, "database": "/var/lib/drawbridge/wa.db", "component_jid": "wa.example.org",
		"mark_online": "true", "max_file_size": "100MB",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.database != "/var/lib/drawbridge/wa.db" || cfg.deviceName != "Drawbridge (wa.example.org)" || !cfg.markOnline ||
		cfg.maxFileSize != 100_000_000 {
		t.Errorf("cfg = %+v", cfg)
	}
	cfg, err = parseConfig(nil)
	if err != nil || cfg.database != DefaultDatabase || cfg.deviceName != "Drawbridge" || cfg.markOnline || cfg.maxFileSize != convert.MaxDocumentSize {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
	// Every documented key is known.
	cfg, err = parseConfig(map[string]any{
		ConfigDatabase: "wa.db", ConfigPostgresDSN: "postgres://x", ConfigDeviceName: "Phone bridge",
		ConfigComponentJID: "wa.example.org", ConfigMarkOnline: true, ConfigMaxFileSize: "16MiB",
	})
	if err != nil || cfg.deviceName != "Phone bridge" || cfg.postgresDSN != "postgres://x" || cfg.componentJID != "wa.example.org" {
		t.Errorf("every key = %+v, %v", cfg, err)
	}
}

func TestConfigSizes(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
	}{
		{16 << 20, 16 << 20},
		{int64(16 << 20), 16 << 20},
		{float64(16 << 20), 16 << 20},
		{"16777216", 16 << 20},
		{"16MiB", 16 << 20},
		{"16 MiB", 16 << 20},
		{"100MB", 100_000_000},
		{"1.5mb", 1_500_000},
		{"512k", 512_000},
		{"2GB", 2_000_000_000},
	} {
		cfg, err := parseConfig(map[string]any{ConfigMaxFileSize: tc.in})
		if err != nil || cfg.maxFileSize != tc.want {
			t.Errorf("max_file_size %#v = %d, %v; want %d", tc.in, cfg.maxFileSize, err, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]any
		want string // the whole error
	}{
		{"unknown key", map[string]any{"foo": 1}, "whatsapp.foo: unknown key"},
		{"empty database", map[string]any{"database": " "}, "whatsapp.database: must not be empty"},
		{"mark_online words", map[string]any{"mark_online": "perhaps"}, `whatsapp.mark_online: want true or false, got "perhaps"`},
		{"device_name number", map[string]any{"device_name": 3}, "whatsapp.device_name: want a string, got 3"},
		{"postgres_dsn is not quoted", map[string]any{"postgres_dsn": 3}, "whatsapp.postgres_dsn: want a string, got a value of type int"},
		{"max_file_size words", map[string]any{"max_file_size": "lots"},
			`whatsapp.max_file_size: want a size in bytes such as 1048576, "512KiB", "2 MiB" or "1.5MB", got "lots"`},
		{"max_file_size above WhatsApp's", map[string]any{"max_file_size": "3GB"},
			"whatsapp.max_file_size: must be between 1 byte and 2GB (WhatsApp's limit), got 3GB"},
		{"max_file_size zero", map[string]any{"max_file_size": 0},
			"whatsapp.max_file_size: must be between 1 byte and 2GB (WhatsApp's limit), got 0B"},
		{"history_days negative", map[string]any{"history_days": -1},
			"whatsapp.history_days: must be between 0 (no history) and 366 days, got -1"},
		{"several", map[string]any{"colour": "blue", "mark_online": 2},
			"whatsapp.colour: unknown key\nwhatsapp.mark_online: want true or false, got 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseConfig(tc.cfg); err == nil || err.Error() != tc.want {
				t.Errorf("parseConfig(%v) = %v\nwant %s", tc.cfg, err, tc.want)
			}
		})
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
