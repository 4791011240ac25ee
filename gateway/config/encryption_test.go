package config

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEncryptionKey(t *testing.T) {
	good := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", EncryptionKeySize)))
	short := base64.StdEncoding.EncodeToString([]byte("short-key-bytes"))
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		ok   bool
	}{
		{"unset", nil, true},
		{"from env", []string{"DRAWBRIDGE_STORE_ENCRYPTION_KEY=" + good}, true},
		{"from a file", []string{"DRAWBRIDGE_STORE_ENCRYPTION_KEY_FILE=" + file}, true},
		{"not base64", []string{"DRAWBRIDGE_STORE_ENCRYPTION_KEY=not*base64!"}, false},
		{"too short", []string{"DRAWBRIDGE_STORE_ENCRYPTION_KEY=" + short}, false},
	} {
		env := append([]string{"DRAWBRIDGE_COMPONENT_SECRET=a-test-secret-of-24-chars"}, tc.env...)
		cfg, err := Parse(nil, env)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			key, err := cfg.Store.EncryptionKeyBytes()
			if err != nil || (cfg.Store.EncryptionKey != "" && len(key) != EncryptionKeySize) {
				t.Errorf("%s: key %d bytes, %v", tc.name, len(key), err)
			}
			if cfg.Store.EncryptionKey != "" && cfg.Redacted().Store.EncryptionKey != "REDACTED" {
				t.Errorf("%s: Redacted shows the key", tc.name)
			}
			continue
		}
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != "store.encryption_key" {
			t.Errorf("%s: %v, want a store.encryption_key error", tc.name, err)
		}
		if err != nil && (strings.Contains(err.Error(), "base64!") || strings.Contains(err.Error(), short)) {
			t.Errorf("%s: the error quotes the key: %v", tc.name, err)
		}
	}
}
