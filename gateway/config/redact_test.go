package config

import (
	"bytes"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

type owner string // like ids.Owner: a named string type, logged as Any

// TestRedactHandler: with log.redact, no JID or phone number reaches the
// output, from the message, string attributes, errors, named string
// types, groups or WithAttrs; the same address gives the same hash, others
// another; domains and domain-only JIDs stay; without it nothing changes.
func TestRedactHandler(t *testing.T) {
	cfg := Default()
	cfg.Component.Secret = "a-test-secret-of-24-chars"
	cfg.Log.Redact = true
	var buf bytes.Buffer
	log := cfg.Logger(&buf).With("owner", owner("Alice@Example.org"))
	log.Info("delivered to alice@example.org/phone from +15550001111@gw.example.org",
		"to", "alice@example.org/laptop",
		"err", errors.New("send to +15550002222 failed"),
		slog.Group("chat", "id", "+15550001111@gw.example.org"),
		"component", "gw.example.org",
		"n", 3)
	out := buf.String()
	for _, secret := range []string{"alice", "Alice", "15550001111", "15550002222", "phone", "laptop"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted line holds %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"@example.org", "@gw.example.org", "component=gw.example.org", "n=3", "chat.id="} {
		if !strings.Contains(out, kept) {
			t.Errorf("redacted line lost %q:\n%s", kept, out)
		}
	}
	hashes := regexp.MustCompile(`#[0-9a-f]{10}@example\.org`).FindAllString(out, -1)
	if len(hashes) != 3 || hashes[0] != hashes[1] || hashes[1] != hashes[2] {
		t.Errorf("alice's JID (any case, any resource) hashed as %v, want the same hash three times:\n%s", hashes, out)
	}
	contact := regexp.MustCompile(`#[0-9a-f]{10}@gw\.example\.org`).FindAllString(out, -1)
	if len(contact) != 2 || contact[0] != contact[1] || strings.TrimSuffix(contact[0], "@gw.example.org") == strings.TrimSuffix(hashes[0], "@example.org") {
		t.Errorf("the contact's JID hashed as %v (alice's %v): want one hash, not alice's", contact, hashes)
	}
	if !regexp.MustCompile(`send to #[0-9a-f]{10} failed`).MatchString(out) {
		t.Errorf("the phone number in the error is not hashed:\n%s", out)
	}

	// The hash depends on the key (the component secret).
	other := cfg
	other.Component.Secret = "another-secret-of-24-chars"
	var buf2 bytes.Buffer
	other.Logger(&buf2).Info("x", "to", "alice@example.org")
	if strings.Contains(buf2.String(), strings.TrimSuffix(hashes[0], "@example.org")) {
		t.Errorf("another key gives the same hash: %s", buf2.String())
	}

	cfg.Log.Redact = false
	buf.Reset()
	cfg.Logger(&buf).Info("delivered", "to", "alice@example.org/phone")
	if !strings.Contains(buf.String(), "alice@example.org/phone") {
		t.Errorf("without log.redact the JID is changed: %s", buf.String())
	}
}
