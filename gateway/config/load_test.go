package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.yaml")
	if err := os.WriteFile(path, []byte("component:\n  jid: wa.example.org\nlog:\n  level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRAWBRIDGE_COMPONENT_SECRET", "from-env-of-some-length")
	t.Setenv("DRAWBRIDGE_LOG_LEVEL", "warn")

	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Component.JID != "wa.example.org" || c.Component.Secret != "from-env-of-some-length" || c.Log.Level != "warn" {
		t.Errorf("Load = %+v", c)
	}
}

func TestLoadWithoutFile(t *testing.T) {
	t.Setenv("DRAWBRIDGE_COMPONENT_SECRET", "from-env-of-some-length")
	c, err := Load("")
	if err != nil {
		t.Fatalf(`Load(""): %v`, err)
	}
	if c.Component.JID != Default().Component.JID {
		t.Errorf(`Load("") did not start from the defaults: %+v`, c)
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(absent) = %v, want fs.ErrNotExist", err)
	}

	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("log:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRAWBRIDGE_COMPONENT_SECRET", "a-test-secret-of-24-chars")
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `log.level: "loud"`) {
		t.Errorf("Load(bad) = %v, want the path and log.level", err)
	}
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "log.level" {
		t.Errorf("Load(bad) error does not unwrap to the *KeyError of log.level: %v", err)
	}
}
