package config

import "testing"

func TestDefault(t *testing.T) {
	c := Default()
	if c.Store.Backend != BackendSQLite || c.Log.Level != "info" || c.Log.Format != "text" ||
		c.Component.JID != "gw.localhost" || c.Component.Server != "127.0.0.1:5347" || c.Component.Secret != "" {
		t.Errorf("Default() = %+v", c)
	}
	if c.Platforms["sandbox"]["auto_confirm"] != true {
		t.Errorf("sandbox auto_confirm = %v, want true", c.Platforms["sandbox"]["auto_confirm"])
	}
	// Only the secret is missing.
	c.Component.Secret = "a-test-secret-of-24-chars"
	if err := c.Validate(); err != nil {
		t.Errorf("Default() with a secret is invalid: %v", err)
	}
}

func TestPlatformEnabled(t *testing.T) {
	c := Config{Platforms: map[string]map[string]any{
		"on":       {"enabled": true},
		"off":      {"enabled": false},
		"implicit": {"other": 1},
		"null":     nil,
		"odd":      {"enabled": "no"},
	}}
	for id, want := range map[string]bool{
		"on": true, "off": false, "implicit": true, "null": true, "odd": true, "absent": false,
	} {
		if got := c.PlatformEnabled(id); got != want {
			t.Errorf("PlatformEnabled(%q) = %v, want %v", id, got, want)
		}
	}
}
