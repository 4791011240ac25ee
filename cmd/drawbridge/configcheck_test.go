package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckNamesTheKey runs `config check` on each case of issue 15
// and on their neighbours: check makes run's checks, the adapter's
// section included, and every problem names its key, where the value
// came from (the file's line or the environment variable) and what is
// expected. run refuses the same files with the same message.
func TestConfigCheckNamesTheKey(t *testing.T) {
	const head = "component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\n"
	for _, tc := range []struct {
		name string
		yaml string   // after head, whose 3 lines come first
		env  []string // KEY=value
		// want are parts of the one-line error, in order; "" means ok.
		want []string
		// fromEnv: the file is not blamed.
		fromEnv bool
	}{
		{name: "good", yaml: "platforms:\n  sandbox:\n    auto_confirm: false\n"},
		{name: "unknown platform", yaml: "platforms:\n  whatsap:\n    enabled: true\n",
			want: []string{"c.yaml: platforms.whatsap: no such platform", "did you mean whatsapp?", "(line 5)"}},
		{name: "unknown platform beside the enabled one", yaml: "platforms:\n  sandbox: {}\n  sandbx:\n    enabled: false\n",
			want: []string{"c.yaml: platforms.sandbx: no such platform", "did you mean sandbox?", "(line 6)"}},
		{name: "bad bool in an adapter section", yaml: "platforms:\n  sandbox:\n    auto_confirm: \"nope\"\n",
			want: []string{"c.yaml: platforms.sandbox.auto_confirm: want true or false", `"nope"`, "(line 6)"}},
		{name: "typo in an adapter section", yaml: "platforms:\n  sandbox:\n    auto_confrim: true\n",
			want: []string{"c.yaml: platforms.sandbox.auto_confrim: unknown key (did you mean auto_confirm?)", "(line 6)"}},
		{name: "typo in the whatsapp section", yaml: "platforms:\n  whatsapp:\n    mark_onlne: true\n",
			want: []string{"c.yaml: platforms.whatsapp.mark_onlne: unknown key (did you mean mark_online?)", "(line 6)"}},
		{name: "bad size in an adapter section", yaml: "platforms:\n  sandbox:\n    max_file_size: lots\n",
			want: []string{"c.yaml: platforms.sandbox.max_file_size: want a size in bytes such as", `"lots"`, "(line 6)"}},
		{name: "bad size", yaml: "limits:\n  max_body_size: lots\n",
			want: []string{"c.yaml: limits.max_body_size: want a size in bytes such as", "(line 5)"}},
		{name: "bad whole number", yaml: "limits:\n  max_attachments: lots\n",
			want: []string{"c.yaml: limits.max_attachments: must be a whole number, got \"lots\"", "(line 5)"}},
		{name: "bad bool", yaml: "files:\n  allow_private_fetch: \"nope\"\n",
			want: []string{"c.yaml: files.allow_private_fetch: must be true or false, got \"nope\"", "(line 5)"}},
		{name: "bad duration", yaml: "limits:\n  send_retry_deadline: soon\n",
			want: []string{"c.yaml: limits.send_retry_deadline: want a duration such as", "(line 5)"}},
		{name: "bad value in the file", yaml: "log:\n  level: verbose\n",
			want: []string{"c.yaml: log.level: \"verbose\" is not one of debug, info, warn, error", "(line 5)"}},
		{name: "cluster on the sqlite store", yaml: "cluster:\n  enabled: true\n",
			want: []string{"c.yaml: cluster.enabled: needs store.backend redis (the sqlite store belongs to one process)", "(line 5)"}},
		{name: "bad value from the environment", env: []string{"DRAWBRIDGE_LOG_LEVEL=verbose"}, fromEnv: true,
			want: []string{"log.level: \"verbose\" is not one of debug, info, warn, error", "(from DRAWBRIDGE_LOG_LEVEL)"}},
		{name: "the environment wins over the file, and takes the blame", yaml: "log:\n  level: debug\n", env: []string{"DRAWBRIDGE_LOG_LEVEL=verbose"}, fromEnv: true,
			want: []string{"log.level: \"verbose\" is not one of", "(from DRAWBRIDGE_LOG_LEVEL)"}},
		{name: "bad size from the environment", env: []string{"DRAWBRIDGE_LIMITS_MAX_BODY_SIZE=lots"}, fromEnv: true,
			want: []string{"DRAWBRIDGE_LIMITS_MAX_BODY_SIZE (limits.max_body_size): want a size in bytes such as"}},
		{name: "bad adapter value from the environment", env: []string{"DRAWBRIDGE_PLATFORMS_SANDBOX_AUTO_CONFIRM=nope"}, fromEnv: true,
			want: []string{"platforms.sandbox.auto_confirm: want true or false", "(from DRAWBRIDGE_PLATFORMS_SANDBOX_AUTO_CONFIRM)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(head+tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			err := run(t.Context(), []string{"config", "check", path}, &out, &out)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("config check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("config check passed; want an error with %q", tc.want)
			}
			msg := strings.ReplaceAll(err.Error(), path, "c.yaml")
			rest := msg
			for _, part := range tc.want {
				i := strings.Index(rest, part)
				if i < 0 {
					t.Fatalf("error %q lacks %q (in order)", msg, part)
				}
				rest = rest[i+len(part):]
			}
			if tc.fromEnv && strings.Contains(msg, "c.yaml") {
				t.Errorf("error %q blames the file for an environment variable", msg)
			}
			// run refuses it the same way, before it starts anything.
			runErr := run(t.Context(), []string{"run", "--config", path}, &out, &out)
			if runErr == nil || runErr.Error() != err.Error() {
				t.Errorf("run: %v\nconfig check: %v", runErr, err)
			}
		})
	}
}
