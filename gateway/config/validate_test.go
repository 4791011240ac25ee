package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		// want is the exact joined error text; "" means valid.
		want string
	}{
		{"default with secret", func(*Config) {}, ""},
		{"redis url", func(c *Config) { c.Store.Backend = "redis" }, ""},
		{"redis unix socket", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = "unix:///run/redis.sock"
		}, ""},
		{"redis sentinel", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = ""
			c.Store.Redis.Addrs = []string{"s1:26379", "[::1]:26379"}
			c.Store.Redis.MasterName = "mymaster"
		}, ""},
		{"open registration", func(c *Config) { c.Registration.AllowedDomains = []string{"*"} }, ""},
		{"single-label jid with allowed domains", func(c *Config) {
			c.Component.JID = "gateway"
			c.Registration.AllowedDomains = []string{"example.org"}
		}, ""},
		{"missing jid", func(c *Config) { c.Component.JID = "" }, "component.jid: required"},
		{"jid with localpart", func(c *Config) { c.Component.JID = "user@gw.example.org" },
			`component.jid: "user@gw.example.org" is not a valid domain`},
		{"jid with trailing dot", func(c *Config) { c.Component.JID = "gw.example.org." },
			`component.jid: "gw.example.org." is not a valid domain`},
		{"jid label with leading hyphen", func(c *Config) { c.Component.JID = "-gw.example.org" },
			`component.jid: "-gw.example.org" is not a valid domain`},
		{"single-label jid needs allowed domains", func(c *Config) { c.Component.JID = "gateway" },
			`registration.allowed_domains: required because component.jid "gateway" has no parent domain`},
		{"missing server", func(c *Config) { c.Component.Server = "" }, "component.server: required"},
		{"server without port", func(c *Config) { c.Component.Server = "x" }, `component.server: "x" is not host:port`},
		{"server port out of range", func(c *Config) { c.Component.Server = "h:70000" }, `component.server: "h:70000" is not host:port`},
		{"server without host", func(c *Config) { c.Component.Server = ":5347" }, `component.server: ":5347" is not host:port`},
		{"missing secret", func(c *Config) { c.Component.Secret = "" }, "component.secret: required (or set component.secret_file)"},
		{"missing name", func(c *Config) { c.Component.Name = "" }, "component.name: required"},
		{"bad allowed domain", func(c *Config) { c.Registration.AllowedDomains = []string{"ok.org", "bad domain"} },
			`registration.allowed_domains[1]: "bad domain" is not a valid domain (or *)`},
		{"allowed jid with resource", func(c *Config) {
			c.Registration.AllowedJIDs = []string{"a@b.org", "c@d.org", "e@f.org/res"}
		}, `registration.allowed_jids[2]: "e@f.org/res" is not a bare JID (localpart@domain)`},
		{"denied jid without localpart", func(c *Config) { c.Registration.DeniedJIDs = []string{"example.org"} },
			`registration.denied_jids[0]: "example.org" is not a bare JID (localpart@domain)`},
		{"unknown backend", func(c *Config) { c.Store.Backend = "mysql" }, `store.backend: "mysql" is not one of sqlite, redis`},
		{"cluster on redis", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.InstanceID = "gw-1.example:a"
		}, ""},
		{"cluster on sqlite", func(c *Config) { c.Cluster.Enabled = true },
			"cluster.enabled: needs store.backend redis (the sqlite store belongs to one process)"},
		{"cluster on redis cluster", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = ""
			c.Store.Redis.Addrs = []string{"a:1"}
			c.Cluster.Enabled = true
		}, "cluster.enabled: needs a standalone or Sentinel Redis (store.redis.url, or store.redis.master_name): fenced writes check the lease in the same script, across hash slots, which Redis Cluster refuses"},
		{"cluster disabled is not checked", func(c *Config) { c.Cluster.LeaseTTL = 0 }, ""},
		{"cluster bad instance id and renewal", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.InstanceID = "a b"
			c.Cluster.RenewEvery = Duration(10 * time.Second)
		}, "cluster.instance_id: \"a b\" is not 1-128 letters, digits and . _ : - (starting with a letter or digit)\ncluster.renew_every: 10s must be shorter than cluster.lease_ttl (10s); a third of it is the default"},
		{"cluster mode standby", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.Mode = ClusterStandby
		}, ""},
		{"cluster mode empty is standby", func(c *Config) { c.Cluster.Mode = "" }, ""},
		{"cluster mode unknown", func(c *Config) { c.Cluster.Mode = "active" },
			`cluster.mode: "active" is not one of standby, sharded`},
		{"cluster sharded on sqlite", func(c *Config) {
			c.Cluster.Enabled = true
			c.Cluster.Mode = ClusterSharded
		}, "cluster.mode: sharded needs store.backend redis (the sqlite store belongs to one process)"},
		{"cluster sharded without cluster", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Mode = ClusterSharded
		}, "cluster.mode: sharded needs cluster.enabled: true"},
		{"cluster links each in standby", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.Links = ClusterLinksEach
		}, "cluster.links: each needs cluster.mode: sharded (a standby holds no link)"},
		{"cluster links unknown", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.Mode = ClusterSharded
			c.Cluster.Links = "all"
		}, `cluster.links: "all" is not one of one, each`},
		{"cluster sharded with negative moves", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.Mode = ClusterSharded
			c.Cluster.MaxMovesPerSecond = -1
		}, "cluster.max_moves_per_second: must not be negative (0 means the default, 50)"},
		{"cluster sharded with a negative inbox bound", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.Mode = ClusterSharded
			c.Cluster.MaxInbox = -1
		}, "cluster.max_inbox: must not be negative (0 means the default, 5000)"},
		{"cluster lease too short", func(c *Config) {
			c.Store.Backend = "redis"
			c.Cluster.Enabled = true
			c.Cluster.LeaseTTL = Duration(100 * time.Millisecond)
		}, "cluster.lease_ttl: 100ms is shorter than 500ms"},
		{"missing sqlite path", func(c *Config) { c.Store.SQLite.Path = "" }, "store.sqlite.path: required when store.backend is sqlite"},
		{"redis url and addrs", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.Addrs = []string{"a:1"}
		}, "store.redis.url: cannot be combined with store.redis.addrs"},
		{"redis neither url nor addrs", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = ""
		}, "store.redis: set url (one server) or addrs (Cluster or Sentinel)"},
		{"redis bad scheme", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = "http://h:6379"
		}, `store.redis.url: scheme "http" is not one of redis, rediss, unix`},
		{"redis no host", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = "redis:///0"
		}, "store.redis.url: no host"},
		{"redis bad port", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = "redis://h:0/0"
		}, `store.redis.url: port "0" is not a number from 1 to 65535`},
		{"redis bad database", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = "rediss://h/db"
		}, `store.redis.url: database "db" is not a number`},
		{"redis unix without path", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = "unix://"
		}, "store.redis.url: no socket path"},
		{"redis bad addr and master without addrs", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.URL = ""
			c.Store.Redis.Addrs = []string{"a:1", "b"}
			c.Store.Redis.MasterName = "m"
		}, `store.redis.addrs[1]: "b" is not host:port`},
		{"sentinel master without addrs", func(c *Config) {
			c.Store.Backend = "redis"
			c.Store.Redis.MasterName = "m"
		}, "store.redis.master_name: requires store.redis.addrs (the Sentinel addresses)"},
		{"redis settings ignored with sqlite", func(c *Config) {
			c.Store.Redis.URL = "nonsense://"
			c.Store.Redis.Addrs = []string{"x"}
		}, ""},
		{"no platform", func(c *Config) { c.Platforms = nil }, "platforms: no platform is enabled"},
		{"all platforms disabled", func(c *Config) { c.Platforms["sandbox"]["enabled"] = false }, "platforms: no platform is enabled"},
		{"enabled not a bool", func(c *Config) { c.Platforms["sandbox"]["enabled"] = "yes" },
			"platforms.sandbox.enabled: must be true or false\nplatforms: no platform is enabled"},
		{"bad platform id", func(c *Config) { c.Platforms["Whats App"] = map[string]any{} },
			`platforms: "Whats App" is not a valid platform id (lower-case letters, digits, _ and -)`},
		{"zero file expiry", func(c *Config) { c.Files.Expiry = 0 }, "files.expiry: must be a positive duration (e.g. 168h), got 0s"},
		{"file larger than the quota", func(c *Config) { c.Files.MaxFileSize = c.Files.Quota + 1 },
			"files.max_file_size: must be positive and at most files.quota"},
		{"sender share below the largest file", func(c *Config) { c.Files.SenderQuota = c.Files.MaxFileSize - 1 },
			"files.sender_quota: must be at least files.max_file_size (104857600 bytes)"},
		{"no owner share", func(c *Config) { c.Files.OwnerQuota = 0 }, "files.owner_quota: must be a positive number of bytes"},
		{"negative retry deadline", func(c *Config) { c.Limits.SendRetryDeadline = -1 },
			"limits.send_retry_deadline: must not be negative (e.g. 2m; 0 turns retrying off), got -1ns"},
		{"no retrying", func(c *Config) { c.Limits.SendRetryDeadline = 0 }, ""},
		{"dispatch budget below the stanza size", func(c *Config) { c.Limits.DispatchChatBytes = 4096 },
			"limits.dispatch_chat_bytes: must be at least limits.max_stanza_size (1048576 bytes)"},
		{"dispatch total below one lane", func(c *Config) { c.Limits.DispatchTotalBytes = 2 << 20 },
			"limits.dispatch_total_bytes: must be at least limits.dispatch_chat_bytes (16777216 bytes)"},
		{"no download timeout", func(c *Config) { c.Limits.FetchTimeout = 0 },
			"limits.fetch_timeout: must be a positive duration (e.g. 30s), got 0s\n" +
				"limits.fetch_connect_timeout: must be a positive duration no longer than limits.fetch_timeout (e.g. 5s), got 5s"},
		{"connect timeout over the download's", func(c *Config) { c.Limits.FetchConnectTimeout = Duration(time.Minute) },
			"limits.fetch_connect_timeout: must be a positive duration no longer than limits.fetch_timeout (e.g. 5s), got 1m0s"},
		{"download budget too small", func(c *Config) { c.Limits.FetchInFlightBytes = 1000 },
			"limits.fetch_in_flight_bytes: must be at least 1MiB"},
		{"no downloads per user", func(c *Config) { c.Limits.FetchesPerUser = 0 }, "limits.fetches_per_user: must be at least 1"},
		{"fewer downloads than one user's", func(c *Config) { c.Limits.Fetches = 1 },
			"limits.fetches: must be at least limits.fetches_per_user (2)"},
		{"bad log level", func(c *Config) { c.Log.Level = "verbose" }, `log.level: "verbose" is not one of debug, info, warn, error`},
		{"bad log format", func(c *Config) { c.Log.Format = "xml" }, `log.format: "xml" is not one of text, json`},
		{"several problems in order", func(c *Config) {
			c.Component.Secret = ""
			c.Store.Backend = ""
			c.Log.Level = ""
		}, "component.secret: required (or set component.secret_file)\n" +
			`store.backend: "" is not one of sqlite, redis` + "\n" +
			`log.level: "" is not one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := withSecret()
			tt.modify(&c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestValidateKeyErrors checks that every joined problem is a *KeyError.
func TestValidateKeyErrors(t *testing.T) {
	c := Config{}
	err := c.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Validate() = %T, want a joined error", err)
	}
	for _, e := range joined.Unwrap() {
		var ke *KeyError
		if !errors.As(e, &ke) || ke.Key == "" {
			t.Errorf("problem %q is not a *KeyError with a key", e)
		}
	}
}

// TestInvalidGolden parses testdata/invalid.yaml, which breaks most
// settings at once, and compares the full report with
// testdata/invalid.golden (rewrite it with go test -update).
func TestInvalidGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "invalid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(data, nil)
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	got := err.Error() + "\n"
	golden := filepath.Join("testdata", "invalid.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s (go test -update to accept):\n%s", golden, diffLines(string(want), got))
	}
	if strings.Contains(got, "hunter2") {
		t.Errorf("report shows a secret")
	}
}

// diffLines lists the lines only in want (-) and only in got (+).
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
