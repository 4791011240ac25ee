package main

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// TestConfigCheckRemoteAdapter: config check validates an out-of-process
// adapter's placement keys by name, without starting it.
func TestConfigCheckRemoteAdapter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    string // "" for valid
	}{
		{"child", map[string]any{"adapter": "remote", "command": []any{"/nonexistent/drawbridge", "adapter", "sandbox"}}, ""},
		{"loopback", map[string]any{"adapter": "remote", "address": "127.0.0.1:7100"}, ""},
		{"off_loopback_without_token", map[string]any{"adapter": "remote", "address": "10.0.0.7:7100"}, "platforms.echo.token"},
		{"nowhere", map[string]any{"adapter": "remote"}, "platforms.echo.adapter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Platforms = map[string]map[string]any{"echo": tc.section}
			err := checkConfig(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkConfig: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("checkConfig = %v, want a problem with %s", err, tc.want)
			}
		})
	}
}
