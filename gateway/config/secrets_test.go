package config

import (
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRedacted(t *testing.T) {
	c := withSecret()
	c.Registration.AllowedJIDs = []string{"a@b.org"}
	c.Store.Redis.URL = "redis://user:pw-in-url@cache:6379/0"
	c.Store.Redis.Password = "redis-pw"
	c.Platforms["whatsapp"] = map[string]any{
		"enabled":      true,
		"api_token":    "tok-123",
		"postgres_dsn": "postgres://wa:pw@db/wa",
		"nested":       map[string]any{"client_secret": "cs-456", "name": "ok"},
		"keys":         []any{"k1", "k2"},
		"servers":      []any{map[string]any{"host": "h1", "password": "srv-pw"}, "plain"},
	}
	c.Platforms["telegram"] = map[string]any{"api_id": 12345, "api_hash": "0123456789abcdef"}
	orig := Config{}
	// A deep copy through YAML, to check that Redacted leaves c alone.
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &orig); err != nil {
		t.Fatal(err)
	}

	r := c.Redacted()

	if r.Component.Secret != "REDACTED" || r.Store.Redis.Password != "REDACTED" {
		t.Errorf("secrets not redacted: %q, %q", r.Component.Secret, r.Store.Redis.Password)
	}
	if r.Store.Redis.URL != "redis://user:REDACTED@cache:6379/0" {
		t.Errorf("Redis URL = %q", r.Store.Redis.URL)
	}
	if tg := r.Platforms["telegram"]; tg["api_hash"] != "REDACTED" || tg["api_id"] != 12345 {
		t.Errorf("telegram section = %#v, want api_hash hidden and api_id shown", tg)
	}
	wa := r.Platforms["whatsapp"]
	if wa["api_token"] != "REDACTED" || wa["postgres_dsn"] != "REDACTED" || wa["keys"] != "REDACTED" || wa["enabled"] != true {
		t.Errorf("whatsapp section = %#v", wa)
	}
	if nested := wa["nested"].(map[string]any); nested["client_secret"] != "REDACTED" || nested["name"] != "ok" {
		t.Errorf("nested section = %#v", nested)
	}
	servers := wa["servers"].([]any)
	if s0 := servers[0].(map[string]any); s0["password"] != "REDACTED" || s0["host"] != "h1" || servers[1] != "plain" {
		t.Errorf("servers = %#v", servers)
	}
	out, err := yaml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"s3cret-value-for-tests", "pw-in-url", "redis-pw", "tok-123", "cs-456", "k1", "srv-pw"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("redacted YAML shows %q:\n%s", secret, out)
		}
	}

	// The original is untouched, and the copy shares nothing with it.
	if !reflect.DeepEqual(c, orig) {
		t.Errorf("Redacted modified its receiver")
	}
	r.Registration.AllowedJIDs[0] = "changed"
	r.Platforms["sandbox"]["auto_confirm"] = false
	if c.Registration.AllowedJIDs[0] != "a@b.org" || c.Platforms["sandbox"]["auto_confirm"] != true {
		t.Errorf("Redacted copy shares slices or maps with its receiver")
	}
}

func TestRedactedKeepsEmptyAndOddValues(t *testing.T) {
	c := Default()
	c.Store.Redis.URL = "redis://cache:6379/0"
	r := c.Redacted()
	if r.Component.Secret != "" || r.Store.Redis.Password != "" {
		t.Errorf("unset secrets should stay empty, got %q, %q", r.Component.Secret, r.Store.Redis.Password)
	}
	if r.Store.Redis.URL != "redis://cache:6379/0" {
		t.Errorf("URL without password changed: %q", r.Store.Redis.URL)
	}
	c.Store.Redis.URL = "redis://u:p@h:port%zz"
	if got := c.Redacted().Store.Redis.URL; got != "REDACTED" {
		t.Errorf("unparsable URL redacted to %q, want REDACTED", got)
	}
	c.Platforms = nil
	if c.Redacted().Platforms != nil {
		t.Errorf("nil platforms became non-nil")
	}
}
