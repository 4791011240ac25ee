package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWeakSecretRefused: "config check" and "run" refuse a placeholder
// component secret (the shipped Kubernetes Secret's change-me) and one
// under 16 characters, naming component.secret and the override; with
// DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET=true check accepts them.
func TestWeakSecretRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, secret, want string }{
		{"shipped placeholder", "change-me", "component.secret: is a placeholder"},
		{"short", "s3cret-15-chars", "component.secret: is 15 characters, shorter than 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			// Should run get past the configuration, it must neither
			// block nor take fixed ports: free ports, a cancelled context.
			yaml := "component:\n  jid: gw.example.org\n  server: 127.0.0.1:1\n  secret: " + tc.secret + "\n" +
				"api:\n  listen: 127.0.0.1:0\nmetrics:\n  listen: 127.0.0.1:0\nfiles:\n  listen: 127.0.0.1:0\n  dir: " + dir + "\n" +
				"store:\n  sqlite:\n    path: " + filepath.Join(dir, "db") + "\n"
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"config", "check", path}, {"run", "--config", path}} {
				var out bytes.Buffer
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				err := run(ctx, args, &out, &out)
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "component.allow_weak_secret") {
					t.Errorf("%s: error %v, want one with %q naming the override", strings.Join(args[:2], " "), err, tc.want)
				}
				if err != nil && strings.Contains(err.Error(), tc.secret) {
					t.Errorf("%s: the error quotes the secret: %v", args[0], err)
				}
			}
			t.Setenv("DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET", "true")
			var out bytes.Buffer
			if err := run(t.Context(), []string{"config", "check", path}, &out, &out); err != nil {
				t.Errorf("with DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET=true: %v", err)
			}
		})
	}
}
