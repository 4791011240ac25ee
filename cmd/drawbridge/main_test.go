package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("component:\n  jid: gw.example.org\n  secert: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{"version", []string{"version"}, "drawbridge ", ""},
		{"help", []string{"help"}, "usage: drawbridge", ""},
		{"no command", nil, "", "no command given"},
		{"unknown", []string{"frobnicate"}, "", `unknown command "frobnicate"`},
		{"example", []string{"config", "example"}, "component:", ""},
		{"check good", []string{"config", "check", good}, "good.yaml: ok", ""},
		{"check bad names the key", []string{"config", "check", bad}, "", "component.secert"},
		{"check missing", []string{"config", "check", filepath.Join(dir, "none.yaml")}, "", "none.yaml"},
		{"run without config", []string{"run"}, "", "--config FILE is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, &out, &errOut)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}

// The example configuration printed by the binary is valid once a secret
// is provided, so an operator can start from it.
func TestConfigExampleChecks(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"config", "example"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "example.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRAWBRIDGE_COMPONENT_SECRET", "a-test-secret-of-24-chars")
	if err := run(t.Context(), []string{"config", "check", path}, &out, &out); err != nil {
		t.Fatalf("example does not check: %v", err)
	}
}
