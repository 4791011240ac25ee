package config

import "testing"

func TestParentDomain(t *testing.T) {
	for jid, want := range map[string]string{
		"gw.example.org":    "example.org",
		"WA.Example.ORG":    "example.org",
		"a.b.c.example.org": "b.c.example.org",
		"gw.localhost":      "localhost",
		"gateway":           "",
		"":                  "",
	} {
		c := Default()
		c.Component.JID = jid
		if got := c.ParentDomain(); got != want {
			t.Errorf("ParentDomain() with jid %q = %q, want %q", jid, got, want)
		}
	}
}

func TestRegistrationAllowed(t *testing.T) {
	tests := []struct {
		name    string
		jid     string
		domains []string
		allowed []string
		denied  []string
		want    bool
	}{
		{name: "parent domain by default", jid: "alice@example.org", want: true},
		{name: "parent domain, any case", jid: "Alice@EXAMPLE.org", want: true},
		{name: "resource ignored", jid: "alice@example.org/phone", want: true},
		{name: "other domain refused", jid: "alice@example.net", want: false},
		{name: "subdomain of parent refused", jid: "alice@sub.example.org", want: false},
		{name: "component domain itself refused", jid: "alice@wa.example.org", want: false},
		{name: "listed domains replace the parent", jid: "alice@example.org", domains: []string{"example.net"}, want: false},
		{name: "listed domain, any case", jid: "bob@example.net", domains: []string{"Example.NET"}, want: true},
		{name: "wildcard domain", jid: "bob@anywhere.test", domains: []string{"*"}, want: true},
		{name: "allowed jid from another domain", jid: "carol@elsewhere.org", allowed: []string{"carol@elsewhere.org"}, want: true},
		{name: "allowed jid, case-insensitive", jid: "carol@elsewhere.org", allowed: []string{"Carol@ElseWhere.org"}, want: true},
		{name: "allowed jid does not admit its domain", jid: "dave@elsewhere.org", allowed: []string{"carol@elsewhere.org"}, want: false},
		{name: "denied wins over domain", jid: "troll@example.org", denied: []string{"troll@example.org"}, want: false},
		{name: "denied wins over allowed jid", jid: "troll@x.org", allowed: []string{"troll@x.org"}, denied: []string{"troll@x.org"}, want: false},
		{name: "denied wins over wildcard, any case", jid: "Troll@X.org/r", domains: []string{"*"}, denied: []string{"troll@x.ORG"}, want: false},
		{name: "denied only that jid", jid: "alice@example.org", denied: []string{"troll@example.org"}, want: true},
		{name: "domain-only jid refused", jid: "example.org", want: false},
		{name: "empty localpart refused", jid: "@example.org", want: false},
		{name: "empty refused", jid: "", domains: []string{"*"}, want: false},
		{name: "malformed domain refused", jid: "a@bad domain", domains: []string{"*"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Component.JID = "wa.example.org"
			c.Registration = RegistrationConfig{AllowedDomains: tt.domains, AllowedJIDs: tt.allowed, DeniedJIDs: tt.denied}
			if got := c.RegistrationAllowed(tt.jid); got != tt.want {
				t.Errorf("RegistrationAllowed(%q) = %v, want %v", tt.jid, got, tt.want)
			}
		})
	}
}

func TestRegistrationAllowedSingleLabel(t *testing.T) {
	c := Default()
	c.Component.JID = "gateway"
	if c.RegistrationAllowed("alice@gateway") {
		t.Error("single-label component with no allowed domains admitted a user")
	}
}
