package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// twoComponents is a valid configuration with two components: WhatsApp
// and the sandbox, on one server.
const twoComponents = `
component:
  server: 127.0.0.1:5347
components:
  - jid: wa.example.org
    secret: wa-secret-of-24-characters
    platform: whatsapp
  - jid: sb.example.org
    secret: sb-secret-of-24-characters
    platform: sandbox
    server: 127.0.0.1:5348
    name: Sandbox bridge
platforms:
  whatsapp: {}
  sandbox: {auto_confirm: true}
`

func TestParseComponents(t *testing.T) {
	c, err := Parse([]byte(twoComponents), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{
		{JID: "wa.example.org", Server: "127.0.0.1:5347", Secret: "wa-secret-of-24-characters", Name: "Drawbridge", Platform: "whatsapp", Key: "components[0]"},
		{JID: "sb.example.org", Server: "127.0.0.1:5348", Secret: "sb-secret-of-24-characters", Name: "Sandbox bridge", Platform: "sandbox", Key: "components[1]"},
	}
	if got := c.Links(); !reflect.DeepEqual(got, want) {
		t.Errorf("Links() =\n%+v\nwant\n%+v", got, want)
	}
	if got := c.ParentDomain(); got != "example.org" {
		t.Errorf("ParentDomain() = %q, want the first component's parent", got)
	}
	r := c.Redacted()
	for i, l := range r.Components {
		if l.Secret != redactedValue {
			t.Errorf("Redacted().Components[%d].Secret = %q", i, l.Secret)
		}
	}
	if c.Components[0].Secret == redactedValue {
		t.Error("Redacted changed the original's secret")
	}
}

// TestLinksSingle checks that a configuration without a components list
// runs the component section with its one enabled platform.
func TestLinksSingle(t *testing.T) {
	c := withSecret()
	want := []Link{{JID: "gw.localhost", Server: "127.0.0.1:5347", Secret: "s3cret-value-for-tests", Name: "Drawbridge", Platform: "sandbox", Key: "component"}}
	if got := c.Links(); !reflect.DeepEqual(got, want) {
		t.Errorf("Links() = %+v, want %+v", got, want)
	}
	c.Platforms["whatsapp"] = map[string]any{}
	if got := c.Links()[0].Platform; got != "" {
		t.Errorf("Links()[0].Platform with two enabled = %q, want empty", got)
	}
}

func TestComponentsSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sb")
	if err := os.WriteFile(path, []byte("sb-secret-from-a-file-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(twoComponents, "secret: sb-secret-of-24-characters", "secret_file: "+path, 1)
	c, err := Parse([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Links()[1].Secret; got != "sb-secret-from-a-file-0123" {
		t.Errorf("secret from file = %q", got)
	}
	doc = strings.Replace(twoComponents, "secret: sb-secret-of-24-characters", "secret: x\n    secret_file: "+path, 1)
	if _, err := Parse([]byte(doc), nil); err == nil || !strings.Contains(err.Error(), "components[1].secret_file: cannot be combined with components[1].secret") {
		t.Errorf("secret and secret_file: %v", err)
	}
}

func TestValidateComponents(t *testing.T) {
	base := func() Config {
		c, err := Parse([]byte(twoComponents), nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name   string
		modify func(*Config)
		// want is the exact joined error text; "" means valid.
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"server from each entry", func(c *Config) {
			c.Component.Server = ""
			c.Components[0].Server = "127.0.0.1:5347"
		}, ""},
		{"missing jid", func(c *Config) { c.Components[1].JID = "" }, "components[1].jid: required"},
		{"bad jid", func(c *Config) { c.Components[0].JID = "a@wa.example.org" },
			`components[0].jid: "a@wa.example.org" is not a valid domain`},
		{"duplicate jid", func(c *Config) { c.Components[1].JID = "WA.example.org" },
			`components[1].jid: "WA.example.org" is also components[0].jid: each component needs its own domain`},
		{"missing secret", func(c *Config) { c.Components[1].Secret = "" },
			"components[1].secret: required (or set components[1].secret_file)"},
		{"weak secret", func(c *Config) { c.Components[0].Secret = "change-me" },
			"components[0].secret: is a placeholder from the examples or shipped manifests; use a long random value (e.g. openssl rand -hex 24) here and in the XMPP server's component secret, or set components[0].allow_weak_secret: true for a test setup"},
		{"weak secret allowed", func(c *Config) {
			c.Components[0].Secret = "short"
			c.Components[0].AllowWeakSecret = true
		}, ""},
		{"no server anywhere", func(c *Config) { c.Component.Server = "" },
			"components[0].server: required (or set component.server for every component)"},
		{"bad server", func(c *Config) { c.Components[1].Server = "nowhere" }, `components[1].server: "nowhere" is not host:port`},
		{"missing platform", func(c *Config) { c.Components[0].Platform = "" },
			"components[0].platform: required: the platforms.<id> section this component fronts\n" +
				"platforms.whatsapp: enabled but no component fronts it: add it to components, or set platforms.whatsapp.enabled: false"},
		{"unknown platform", func(c *Config) { c.Components[0].Platform = "whatsap" },
			`components[0].platform: "whatsap" names no platforms section (have: sandbox, whatsapp)` + "\n" +
				"platforms.whatsapp: enabled but no component fronts it: add it to components, or set platforms.whatsapp.enabled: false"},
		{"disabled platform", func(c *Config) { c.Platforms["whatsapp"]["enabled"] = false },
			"components[0].platform: platforms.whatsapp is disabled (enabled: false)"},
		{"platform used twice", func(c *Config) { c.Components[1].Platform = "whatsapp" },
			`components[1].platform: "whatsapp" is also components[0].platform: a platform is fronted by one component` + "\n" +
				"platforms.sandbox: enabled but no component fronts it: add it to components, or set platforms.sandbox.enabled: false"},
		{"platform left without component", func(c *Config) { c.Platforms["echo"] = map[string]any{"adapter": "remote"} },
			"platforms.echo: enabled but no component fronts it: add it to components, or set platforms.echo.enabled: false"},
		{"component jid beside components", func(c *Config) { c.Component.JID = "gw.example.org" },
			"component.jid: cannot be combined with components: give each component its jid there (components[0].jid, ...)"},
		{"component secret beside components", func(c *Config) { c.Component.Secret = "a-secret-of-24-characters" },
			"component.secret: cannot be combined with components: give each component its secret there (components[0].secret, ...)"},
		{"single-label jid first", func(c *Config) { c.Components[0].JID = "wa" },
			`registration.allowed_domains: required because components[0].jid "wa" has no parent domain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.modify(&c)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestComponentsErrorLine checks that a problem in the list names the
// file's line, as the other settings' problems do.
func TestComponentsErrorLine(t *testing.T) {
	doc := strings.Replace(twoComponents, "platform: sandbox", "platform: whatsapp", 1)
	_, err := Parse([]byte(doc), nil)
	if err == nil || !strings.Contains(err.Error(), `components[1].platform: "whatsapp" is also components[0].platform`) {
		t.Fatalf("Parse = %v", err)
	}
	if !strings.Contains(err.Error(), "(line ") {
		t.Errorf("no line in %v", err)
	}
}
