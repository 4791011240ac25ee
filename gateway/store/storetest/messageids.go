package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

func putMsg(t *testing.T, s store.Store, owner ids.Owner, chat ids.ChatID, xmppID string, platformID ids.MessageID, ttl time.Duration) {
	t.Helper()
	must(t, s.PutMessageID(ctx(t), owner, chat, xmppID, platformID, ttl), "PutMessageID(%q, %q, %q, %q)", owner, chat, xmppID, platformID)
}

// wantMsg checks both directions of a mapping.
func wantMsg(t *testing.T, s store.Store, owner ids.Owner, chat ids.ChatID, xmppID string, platformID ids.MessageID) {
	t.Helper()
	wantPlatformID(t, s, owner, chat, xmppID, platformID)
	wantXMPPID(t, s, owner, chat, platformID, xmppID)
}

func wantPlatformID(t *testing.T, s store.Store, owner ids.Owner, chat ids.ChatID, xmppID string, want ids.MessageID) {
	t.Helper()
	got, err := s.PlatformMessageID(ctx(t), owner, chat, xmppID)
	if err != nil || got != want {
		t.Errorf("PlatformMessageID(%q, %q, %q) = %q, %v; want %q", owner, chat, xmppID, got, err, want)
	}
}

func wantXMPPID(t *testing.T, s store.Store, owner ids.Owner, chat ids.ChatID, platformID ids.MessageID, want string) {
	t.Helper()
	got, err := s.XMPPMessageID(ctx(t), owner, chat, platformID)
	if err != nil || got != want {
		t.Errorf("XMPPMessageID(%q, %q, %q) = %q, %v; want %q", owner, chat, platformID, got, err, want)
	}
}

func testMessageIDBothDirections(t *testing.T, s store.Store) {
	putMsg(t, s, alice, "chat1", "xmpp-1", "plat-1", time.Hour)
	putMsg(t, s, alice, "chat1", "xmpp-2", "plat-2", time.Hour)
	putMsg(t, s, alice, "chat2", "xmpp-1", "plat-3", time.Hour)
	wantMsg(t, s, alice, "chat1", "xmpp-1", "plat-1")
	wantMsg(t, s, alice, "chat1", "xmpp-2", "plat-2")
	wantMsg(t, s, alice, "chat2", "xmpp-1", "plat-3")
}

func testMessageIDNotFound(t *testing.T, s store.Store) {
	putMsg(t, s, alice, "chat1", "xmpp-1", "plat-1", time.Hour)
	tests := []struct {
		name string
		call func() error
	}{
		{"unknown xmpp id", func() error { _, err := s.PlatformMessageID(ctx(t), alice, "chat1", "xmpp-2"); return err }},
		{"unknown platform id", func() error { _, err := s.XMPPMessageID(ctx(t), alice, "chat1", "plat-2"); return err }},
		{"xmpp id, other chat", func() error { _, err := s.PlatformMessageID(ctx(t), alice, "chat2", "xmpp-1"); return err }},
		{"platform id, other chat", func() error { _, err := s.XMPPMessageID(ctx(t), alice, "chat2", "plat-1"); return err }},
		{"xmpp id, other owner", func() error { _, err := s.PlatformMessageID(ctx(t), bob, "chat1", "xmpp-1"); return err }},
		{"platform id, other owner", func() error { _, err := s.XMPPMessageID(ctx(t), bob, "chat1", "plat-1"); return err }},
		// The two directions are separate namespaces.
		{"xmpp id looked up as platform id", func() error { _, err := s.XMPPMessageID(ctx(t), alice, "chat1", "xmpp-1"); return err }},
		{"platform id looked up as xmpp id", func() error { _, err := s.PlatformMessageID(ctx(t), alice, "chat1", "plat-1"); return err }},
	}
	for _, tc := range tests {
		wantNotFound(t, tc.call(), tc.name)
	}
}

// testMessageIDOverwrite pins the overwrite rule: each direction keeps the
// last pair written for its key.
func testMessageIDOverwrite(t *testing.T, s store.Store) {
	putMsg(t, s, alice, "chat1", "xmpp-1", "plat-1", time.Hour)
	putMsg(t, s, alice, "chat1", "xmpp-1", "plat-2", time.Hour)
	wantMsg(t, s, alice, "chat1", "xmpp-1", "plat-2")

	putMsg(t, s, alice, "chat1", "xmpp-3", "plat-2", time.Hour)
	wantMsg(t, s, alice, "chat1", "xmpp-3", "plat-2")
}

func testMessageIDExpiry(t *testing.T, s store.Store) {
	const short = 300 * time.Millisecond
	start := time.Now()
	putMsg(t, s, alice, "chat1", "xmpp-short", "plat-short", short)
	putMsg(t, s, alice, "chat1", "xmpp-default", "plat-default", 0)
	putMsg(t, s, alice, "chat1", "xmpp-negative", "plat-negative", -time.Second)
	// Re-putting with a short ttl shortens the mapping's life.
	putMsg(t, s, alice, "chat1", "xmpp-renewed", "plat-renewed", time.Hour)
	putMsg(t, s, alice, "chat1", "xmpp-renewed", "plat-renewed", short)
	if time.Since(start) < short/2 {
		wantMsg(t, s, alice, "chat1", "xmpp-short", "plat-short")
	}

	// Poll until both directions are gone; a backend that never expires
	// fails here.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errX := s.PlatformMessageID(ctx(t), alice, "chat1", "xmpp-short")
		_, errP := s.XMPPMessageID(ctx(t), alice, "chat1", "plat-short")
		_, errR := s.PlatformMessageID(ctx(t), alice, "chat1", "xmpp-renewed")
		gone := errors.Is(errX, store.ErrNotFound) && errors.Is(errP, store.ErrNotFound) && errors.Is(errR, store.ErrNotFound)
		if gone {
			break
		}
		for _, err := range []error{errX, errP, errR} {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("lookup while waiting for expiry: %v", err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mappings put with ttl %v still present after %v", short, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if elapsed := time.Since(start); elapsed < short {
		t.Errorf("mapping with ttl %v expired after only %v", short, elapsed)
	}

	// ttl <= 0 means the (long) default, not "already expired".
	wantMsg(t, s, alice, "chat1", "xmpp-default", "plat-default")
	wantMsg(t, s, alice, "chat1", "xmpp-negative", "plat-negative")
}
