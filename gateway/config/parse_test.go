package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// secretEnv provides the one setting the defaults lack.
var secretEnv = []string{"DRAWBRIDGE_COMPONENT_SECRET=s3cret-value-for-tests"}

// withSecret returns Default() with the secret secretEnv sets.
func withSecret() Config {
	c := Default()
	c.Component.Secret = "s3cret-value-for-tests"
	return c
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		// files are written to a temporary directory; "{dir}" in yaml
		// and env stands for it.
		files map[string]string
		// want, when set, is the expected configuration.
		want func() Config
		// wantErr lists substrings that must all appear in the error;
		// empty means success.
		wantErr []string
	}{
		{
			name: "defaults and env secret",
			env:  secretEnv,
			want: withSecret,
		},
		{
			name: "null document is defaults",
			yaml: "~\n",
			env:  secretEnv,
			want: withSecret,
		},
		{
			name: "comment-only document is defaults",
			yaml: "# nothing\n",
			env:  secretEnv,
			want: withSecret,
		},
		{
			name: "full file",
			yaml: `
component:
  jid: wa.example.org
  server: xmpp.example.org:5347
  secret: file-secret-of-some-length
  name: WhatsApp
registration:
  allowed_domains: [example.org, example.net]
  allowed_jids: [friend@elsewhere.org]
  denied_jids: [troll@example.org]
store:
  backend: redis
  redis:
    addrs: [r1:6379, r2:6379]
    master_name: mymaster
    key_prefix: "db:"
platforms:
  whatsapp:
    enabled: true
    device_store: {path: wa.db}
log:
  level: debug
  format: json
`,
			want: func() Config {
				c := Default()
				c.Component = ComponentConfig{JID: "wa.example.org", Server: "xmpp.example.org:5347", Secret: "file-secret-of-some-length", Name: "WhatsApp", Admins: []string{}}
				c.Registration = RegistrationConfig{
					AllowedDomains: []string{"example.org", "example.net"},
					AllowedJIDs:    []string{"friend@elsewhere.org"},
					DeniedJIDs:     []string{"troll@example.org"},
				}
				c.Store.Backend = "redis"
				c.Store.Redis = RedisConfig{Addrs: []string{"r1:6379", "r2:6379"}, MasterName: "mymaster", KeyPrefix: "db:"}
				c.Platforms = map[string]map[string]any{
					"whatsapp": {"enabled": true, "device_store": map[string]any{"path": "wa.db"}},
				}
				c.Log = LogConfig{Level: "debug", Format: "json"}
				return c
			},
		},
		{
			name: "partial section keeps other defaults",
			yaml: "component:\n  jid: wa.example.org\n",
			env:  secretEnv,
			want: func() Config {
				c := withSecret()
				c.Component.JID = "wa.example.org"
				return c
			},
		},
		{
			name: "env overrides file",
			yaml: "component:\n  secret: from-file-of-some-length\nlog:\n  level: warn\n",
			env:  []string{"DRAWBRIDGE_COMPONENT_SECRET=from-env-of-some-length", "DRAWBRIDGE_LOG_LEVEL=error", "PATH=/bin"},
			want: func() Config {
				c := Default()
				c.Component.Secret = "from-env-of-some-length"
				c.Log.Level = "error"
				return c
			},
		},
		{
			name: "env lists, nested keys and last duplicate wins",
			env: append([]string{
				"DRAWBRIDGE_REGISTRATION_ALLOWED_DOMAINS=a.org, b.org,,",
				"DRAWBRIDGE_REGISTRATION_DENIED_JIDS=x@a.org",
				"DRAWBRIDGE_STORE_BACKEND=redis",
				"DRAWBRIDGE_STORE_REDIS_URL=redis://cache:6380/2",
				"DRAWBRIDGE_STORE_REDIS_KEY_PREFIX=first",
				"DRAWBRIDGE_STORE_REDIS_KEY_PREFIX=second",
			}, secretEnv...),
			want: func() Config {
				c := withSecret()
				c.Registration.AllowedDomains = []string{"a.org", "b.org"}
				c.Registration.DeniedJIDs = []string{"x@a.org"}
				c.Store.Backend = "redis"
				c.Store.Redis.URL = "redis://cache:6380/2"
				c.Store.Redis.KeyPrefix = "second"
				return c
			},
		},
		{
			name: "env empty list clears the file's list",
			yaml: "registration:\n  allowed_jids: [a@b.org]\n",
			env:  append([]string{"DRAWBRIDGE_REGISTRATION_ALLOWED_JIDS="}, secretEnv...),
			want: withSecret,
		},
		{
			name: "env redis addrs alone drop the default url",
			env:  append([]string{"DRAWBRIDGE_STORE_BACKEND=redis", "DRAWBRIDGE_STORE_REDIS_ADDRS=n1:7000,n2:7000"}, secretEnv...),
			want: func() Config {
				c := withSecret()
				c.Store.Backend = "redis"
				c.Store.Redis.URL = ""
				c.Store.Redis.Addrs = []string{"n1:7000", "n2:7000"}
				return c
			},
		},
		{
			name: "env platform keys: bools, strings, new sections",
			env: append([]string{
				"DRAWBRIDGE_PLATFORMS_SANDBOX_AUTO_CONFIRM=false",
				"DRAWBRIDGE_PLATFORMS_SANDBOX_GREETING=hello",
				"DRAWBRIDGE_PLATFORMS_WHATSAPP_ENABLED=true",
				"DRAWBRIDGE_PLATFORMS_WHATSAPP_DEVICE_STORE=wa.db",
			}, secretEnv...),
			want: func() Config {
				c := withSecret()
				c.Platforms["sandbox"]["auto_confirm"] = false
				c.Platforms["sandbox"]["greeting"] = "hello"
				c.Platforms["whatsapp"] = map[string]any{"enabled": true, "device_store": "wa.db"}
				return c
			},
		},
		{
			name: "env platform id with underscore matches the configured id",
			yaml: "platforms:\n  my_chat:\n    enabled: true\n",
			env:  append([]string{"DRAWBRIDGE_PLATFORMS_MY_CHAT_API_URL=https://x"}, secretEnv...),
			want: func() Config {
				c := withSecret()
				c.Platforms = map[string]map[string]any{"my_chat": {"enabled": true, "api_url": "https://x"}}
				return c
			},
		},
		{
			name: "DRAWBRIDGE_CONFIG is not a setting",
			env:  append([]string{"DRAWBRIDGE_CONFIG=/etc/drawbridge.yaml"}, secretEnv...),
			want: withSecret,
		},
		{
			name:  "secret_file read and trimmed",
			yaml:  "component:\n  secret_file: {dir}/secret\n",
			files: map[string]string{"secret": "from-file-of-some-length\n"},
			want: func() Config {
				c := Default()
				c.Component.Secret = "from-file-of-some-length"
				c.Component.SecretFile = "{dir}/secret"
				return c
			},
		},
		{
			name:  "secret_file through env, CRLF trimmed",
			env:   []string{"DRAWBRIDGE_COMPONENT_SECRET_FILE={dir}/secret"},
			files: map[string]string{"secret": "crlf-of-some-length\r\n"},
			want: func() Config {
				c := Default()
				c.Component.Secret = "crlf-of-some-length"
				c.Component.SecretFile = "{dir}/secret"
				return c
			},
		},
		{
			name:  "redis password_file read",
			yaml:  "store:\n  backend: redis\n  redis:\n    password_file: {dir}/pw\n",
			env:   secretEnv,
			files: map[string]string{"pw": "redis-pw\n"},
			want: func() Config {
				c := withSecret()
				c.Store.Backend = "redis"
				c.Store.Redis.Password = "redis-pw"
				c.Store.Redis.PasswordFile = "{dir}/pw"
				return c
			},
		},
		{
			name:    "secret_file missing",
			yaml:    "component:\n  secret_file: {dir}/absent\n",
			wantErr: []string{"component.secret_file: open ", "no such file", "component.secret: required"},
		},
		{
			name:    "secret_file empty",
			yaml:    "component:\n  secret_file: {dir}/secret\n",
			files:   map[string]string{"secret": "\n"},
			wantErr: []string{"component.secret_file: ", "is empty"},
		},
		{
			name:    "secret and secret_file together",
			yaml:    "component:\n  secret: x\n  secret_file: {dir}/secret\n",
			files:   map[string]string{"secret": "y"},
			wantErr: []string{"component.secret_file: cannot be combined with component.secret"},
		},
		{
			name:    "unknown top-level key",
			yaml:    "component:\n  jid: a.b\nstorage:\n  backend: redis\n",
			env:     secretEnv,
			wantErr: []string{"storage: unknown key (line 3)"},
		},
		{
			name:    "unknown nested keys all reported",
			yaml:    "component:\n  secert: x\nstore:\n  redis:\n    urll: redis://x\n",
			env:     secretEnv,
			wantErr: []string{"component.secert: unknown key (line 2)", "store.redis.urll: unknown key (line 5)"},
		},
		{
			name: "sizes and durations in their grammar",
			yaml: "files:\n  quota: 2 GiB\n  max_file_size: 1_000_000\n  expiry: 36h\nlimits:\n  max_body_size: 64k\n  max_stanza_size: \"1MiB\"\n  send_retry_deadline: 0\n",
			env:  append([]string{"DRAWBRIDGE_FILES_MAX_FILE_SIZE=1.5MB"}, secretEnv...),
			want: func() Config {
				c := withSecret()
				c.Files.Quota, c.Files.MaxFileSize, c.Files.Expiry = 2<<30, 1_500_000, Duration(36*time.Hour)
				c.Limits.MaxBodySize, c.Limits.MaxStanzaSize, c.Limits.SendRetryDeadline = 64_000, 1<<20, 0
				return c
			},
		},
		{
			name: "bad sizes and durations name their keys and lines",
			yaml: "files:\n  quota: lots\n  expiry: 7\nlimits:\n  max_body_size: -1\n  send_retry_deadline: [2m]\n",
			env:  secretEnv,
			wantErr: []string{
				`files.quota: want a size in bytes such as 1048576, "512KiB", "2 MiB" or "1.5MB", got "lots" (line 2)`,
				`files.expiry: want a duration such as "90s", "15m" or "2h45m", got "7" (line 3)`,
				"limits.max_body_size: must not be negative, got -1 (line 5)",
				"limits.send_retry_deadline: want a duration", "(line 6)",
			},
		},
		{
			name:    "a bad size from the environment names the variable and key",
			env:     append([]string{"DRAWBRIDGE_FILES_QUOTA=1.5B"}, secretEnv...),
			wantErr: []string{`DRAWBRIDGE_FILES_QUOTA (files.quota): "1.5B" is not a whole number of bytes`},
		},
		{
			name:    "syntax error keeps the line",
			yaml:    "component:\n  jid: a.b\n   server: x\n",
			env:     secretEnv,
			wantErr: []string{"yaml: line 3"},
		},
		{
			name:    "type error keeps the line",
			yaml:    "log:\n  level: info\n  format: [text]\n",
			env:     secretEnv,
			wantErr: []string{"log.format: must be a string (line 3)"},
		},
		{
			name:    "wrong kinds name their keys",
			yaml:    "component: gw.example.org\nregistration:\n  allowed_jids: a@b.org\n  denied_jids: [[x]]\nplatforms:\n  sandbox: true\n",
			env:     secretEnv,
			wantErr: []string{"component: must be a mapping (line 1)", "registration.allowed_jids: must be a list (line 3)", "registration.denied_jids[0]: must be a string (line 4)", "platforms.sandbox: must be a mapping (line 6)"},
		},
		{
			name: "null values keep defaults or empty lists",
			yaml: "component:\nregistration:\n  allowed_domains:\nplatforms:\n  sandbox:\n",
			env:  secretEnv,
			want: func() Config {
				c := withSecret()
				c.Registration.AllowedDomains = nil
				c.Platforms = map[string]map[string]any{"sandbox": nil}
				return c
			},
		},
		{
			name: "anchors and aliases",
			yaml: "registration:\n  allowed_domains: &d [a.org]\n  denied_jids: []\nstore:\n  redis:\n    addrs: *d\n",
			env:  secretEnv,
			want: func() Config {
				c := withSecret()
				c.Registration.AllowedDomains = []string{"a.org"}
				c.Store.Redis.URL = ""
				c.Store.Redis.Addrs = []string{"a.org"}
				return c
			},
		},
		{
			name:    "duplicate key",
			yaml:    "log:\n  level: info\n  level: debug\n",
			env:     secretEnv,
			wantErr: []string{"line 3", "already defined"},
		},
		{
			name:    "second document",
			yaml:    "log:\n  level: info\n---\nlog:\n  level: debug\n",
			env:     secretEnv,
			wantErr: []string{"config: line 3: a second YAML document"},
		},
		{
			name: "document markers and an empty trailing document",
			yaml: "---\nlog:\n  level: debug\n---\n",
			env:  secretEnv,
			want: func() Config {
				c := withSecret()
				c.Log.Level = "debug"
				return c
			},
		},
		{
			name:    "document that is not a mapping",
			yaml:    "- a\n- b\n",
			env:     secretEnv,
			wantErr: []string{"line 1: the document must be a mapping"},
		},
		{
			name:    "unknown env name with suggestion",
			env:     append([]string{"DRAWBRIDGE_COMPONENT_SECRT=x", "DRAWBRIDGE_NOPE=y"}, secretEnv...),
			wantErr: []string{"DRAWBRIDGE_COMPONENT_SECRT names no setting (did you mean DRAWBRIDGE_COMPONENT_SECRET?)", "DRAWBRIDGE_NOPE names no setting"},
		},
		{
			name:    "env names a section, not a setting",
			env:     append([]string{"DRAWBRIDGE_STORE_REDIS=x"}, secretEnv...),
			wantErr: []string{"DRAWBRIDGE_STORE_REDIS names no setting"},
		},
		{
			name:    "env platform without key",
			env:     append([]string{"DRAWBRIDGE_PLATFORMS_SANDBOX=true"}, secretEnv...),
			wantErr: []string{"DRAWBRIDGE_PLATFORMS_SANDBOX: want DRAWBRIDGE_PLATFORMS_<PLATFORM>_<KEY>"},
		},
		{
			name:    "validation problems joined",
			yaml:    "store:\n  backend: mysql\nlog:\n  level: loud\n",
			wantErr: []string{"component.secret: required", `store.backend: "mysql" is not one of sqlite, redis`, `log.level: "loud" is not one of debug, info, warn, error`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			subst := func(s string) string { return strings.ReplaceAll(s, "{dir}", dir) }
			var env []string
			for _, e := range tt.env {
				env = append(env, subst(e))
			}
			got, err := Parse([]byte(subst(tt.yaml)), env)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Parse succeeded, want error containing %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q\ndoes not contain %q", err, want)
					}
				}
				if !reflect.DeepEqual(got, Config{}) {
					t.Errorf("Parse returned a non-zero Config with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := tt.want()
			want.Component.SecretFile = subst(want.Component.SecretFile)
			want.Store.Redis.PasswordFile = subst(want.Store.Redis.PasswordFile)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse mismatch\n got: %#v\nwant: %#v", got, want)
			}
		})
	}
}

// TestParseDefaultsNotShared checks that overriding a platform through the
// environment does not leak into later defaults.
func TestParseDefaultsNotShared(t *testing.T) {
	if _, err := Parse(nil, append([]string{"DRAWBRIDGE_PLATFORMS_SANDBOX_AUTO_CONFIRM=false"}, secretEnv...)); err != nil {
		t.Fatal(err)
	}
	if got := Default().Platforms["sandbox"]["auto_confirm"]; got != true {
		t.Errorf("Default().Platforms[sandbox][auto_confirm] = %v after an override, want true", got)
	}
}

// TestErrorsNeverShowSecrets feeds secrets into failing configurations and
// checks that no error message quotes them.
func TestErrorsNeverShowSecrets(t *testing.T) {
	const secret = "Sup3rS3cret"
	cases := []struct {
		name string
		yaml string
		env  []string
	}{
		{"bad env name carrying a secret", "", []string{"DRAWBRIDGE_COMPONENT_SECRETT=" + secret}},
		{"redis url with password, bad scheme", "store:\n  backend: redis\n  redis:\n    url: http://u:" + secret + "@h/0\n", nil},
		{"redis url with password, bad db", "store:\n  backend: redis\n  redis:\n    url: redis://u:" + secret + "@h/x\n", nil},
		{"redis url that does not parse", "store:\n  backend: redis\n  redis:\n    url: \"redis://u:" + secret + "@h:port%zz\"\n", nil},
		{"secret next to an invalid setting", "component:\n  secret: " + secret + "\n  server: nope\n", nil},
		{"secret as a list", "component:\n  secret: [" + secret + "]\n", nil},
		{"secret as a mapping", "component:\n  secret: {" + secret + ": 1}\n", nil},
		{"redis password next to url and addrs", "store:\n  backend: redis\n  redis:\n    password: " + secret + "\n    addrs: [a:1]\n    url: redis://h\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), tc.env)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:7]) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}
