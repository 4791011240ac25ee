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

// Each problem names where its value came from: the file's line, or the
// environment variable, which the file is not blamed for.
func TestLoadNamesTheSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.yaml")
	data := "component:\n  jid: wa.example.org\n  secret: a-test-secret-of-24-chars\n" +
		"registration:\n  allowed_jids:\n    - alice@example.org\n    - not a jid\nlog:\n  level: debug\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRAWBRIDGE_LOG_LEVEL", "verbose")
	t.Setenv("DRAWBRIDGE_LOG_FORMAT", "xml")
	_, src, err := LoadSources(path)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		path + `: registration.allowed_jids[1]: "not a jid" is not a bare JID (localpart@domain) (line 7)`,
		`log.level: "verbose" is not one of debug, info, warn, error (from DRAWBRIDGE_LOG_LEVEL)`,
		`log.format: "xml" is not one of text, json (from DRAWBRIDGE_LOG_FORMAT)`,
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	for key, want := range map[string]string{
		"component.jid": "line 2", "registration.allowed_jids[0]": "line 6", "registration.allowed_jids": "line 5",
		"log.level": "DRAWBRIDGE_LOG_LEVEL", "log": "line 8", "store.backend": "",
	} {
		if got := src.Of(key); got != want {
			t.Errorf("Sources.Of(%q) = %q, want %q", key, got, want)
		}
	}
}
