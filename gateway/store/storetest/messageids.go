package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
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

	waitExpired(t, s, start, short,
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-short", PlatformID: "plat-short"},
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-renewed", PlatformID: "plat-renewed"})

	// ttl <= 0 means the (long) default, not "already expired".
	wantMsg(t, s, alice, "chat1", "xmpp-default", "plat-default")
	wantMsg(t, s, alice, "chat1", "xmpp-negative", "plat-negative")
}

// waitExpired polls until each of pairs (put at start with ttl) is gone in
// both directions, failing on any other lookup error, after
// testutil.DefaultTimeout (a backend that never expires), or if they went
// before ttl passed.
func waitExpired(t *testing.T, s store.Store, start time.Time, ttl time.Duration, pairs ...store.MessageIDPair) {
	t.Helper()
	gone := func() bool {
		all := true
		for _, p := range pairs {
			_, errX := s.PlatformMessageID(ctx(t), p.Owner, p.Chat, p.XMPPID)
			_, errP := s.XMPPMessageID(ctx(t), p.Owner, p.Chat, p.PlatformID)
			for _, err := range []error{errX, errP} {
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("lookup while waiting for expiry: %v", err)
				}
				all = all && err != nil
			}
		}
		return all
	}
	if !testutil.Poll(testutil.DefaultTimeout, gone) {
		t.Fatalf("mappings put with ttl %v still present after %v", ttl, time.Since(start))
	}
	if elapsed := time.Since(start); elapsed < ttl {
		t.Errorf("mapping with ttl %v expired after only %v", ttl, elapsed)
	}
}

// oddOwner has every character the Redis key layout escapes.
const oddOwner ids.Owner = "odd:{x}%@example.test"

func putMsgs(t *testing.T, s store.Store, pairs ...store.MessageIDPair) {
	t.Helper()
	must(t, s.PutMessageIDs(ctx(t), pairs), "PutMessageIDs(%d pairs)", len(pairs))
}

// testPutMessageIDsBatch writes pairs of several owners and chats, their
// owners interleaved, in one batch.
func testPutMessageIDsBatch(t *testing.T, s store.Store) {
	pairs := []store.MessageIDPair{
		{Owner: alice, Chat: "chat1", XMPPID: "xmpp-1", PlatformID: "plat-1", TTL: time.Hour},
		{Owner: bob, Chat: "chat1", XMPPID: "xmpp-1", PlatformID: "plat-b1", TTL: time.Hour},
		{Owner: alice, Chat: "chat2", XMPPID: "xmpp-1", PlatformID: "plat-2"},
		{Owner: oddOwner, Chat: "odd:{chat}%", XMPPID: "x:{1}%", PlatformID: "p:{1}%", TTL: time.Hour},
		{Owner: alice, Chat: "chat1", XMPPID: "xmpp-3", PlatformID: "plat-3", TTL: time.Hour},
		{Owner: carol, Chat: "chat1", XMPPID: "xmpp-1", PlatformID: "plat-c1", TTL: -time.Second},
	}
	putMsgs(t, s, pairs...)
	for _, p := range pairs {
		wantMsg(t, s, p.Owner, p.Chat, p.XMPPID, p.PlatformID)
	}
	_, err := s.PlatformMessageID(ctx(t), bob, "chat2", "xmpp-1")
	wantNotFound(t, err, "bob's xmpp id in alice's chat")

	// The batch's mappings are the owner's like any other: deleting an
	// account of the owner removes them (the Redis index knows them), and
	// only them.
	must(t, s.PutAccount(ctx(t), store.Account{Owner: alice, Platform: sandbox, ID: "A"}), "PutAccount")
	must(t, s.DeleteAccount(ctx(t), alice, sandbox), "DeleteAccount")
	for _, p := range pairs {
		if p.Owner == alice {
			_, err := s.PlatformMessageID(ctx(t), p.Owner, p.Chat, p.XMPPID)
			wantNotFound(t, err, "alice's batch-written xmpp id after DeleteAccount")
			_, err = s.XMPPMessageID(ctx(t), p.Owner, p.Chat, p.PlatformID)
			wantNotFound(t, err, "alice's batch-written platform id after DeleteAccount")
		} else {
			wantMsg(t, s, p.Owner, p.Chat, p.XMPPID, p.PlatformID)
		}
	}
}

// testPutMessageIDsOverwrite checks that a batch leaves what the same
// PutMessageID calls in the same order would: alice's mappings are written
// in batches, bob's one by one, and every lookup must agree.
func testPutMessageIDsOverwrite(t *testing.T, s store.Store) {
	type pair struct {
		chat     ids.ChatID
		xmppID   string
		platform ids.MessageID
	}
	batches := [][]pair{
		{{"chat1", "xmpp-1", "plat-1"}},
		// Overwrites within one batch, in both directions.
		{{"chat1", "xmpp-1", "plat-2"}, {"chat1", "xmpp-3", "plat-2"}, {"chat2", "xmpp-1", "plat-1"}, {"chat1", "xmpp-4", "plat-4"}, {"chat1", "xmpp-4", "plat-5"}},
		// And across batches.
		{{"chat1", "xmpp-1", "plat-6"}, {"chat1", "xmpp-5", "plat-4"}},
	}
	xmppIDs := map[ids.ChatID]map[string]bool{}
	platformIDs := map[ids.ChatID]map[ids.MessageID]bool{}
	for _, batch := range batches {
		var pairs []store.MessageIDPair
		for _, p := range batch {
			pairs = append(pairs, store.MessageIDPair{Owner: alice, Chat: p.chat, XMPPID: p.xmppID, PlatformID: p.platform, TTL: time.Hour})
			putMsg(t, s, bob, p.chat, p.xmppID, p.platform, time.Hour)
			if xmppIDs[p.chat] == nil {
				xmppIDs[p.chat], platformIDs[p.chat] = map[string]bool{}, map[ids.MessageID]bool{}
			}
			xmppIDs[p.chat][p.xmppID], platformIDs[p.chat][p.platform] = true, true
		}
		putMsgs(t, s, pairs...)
	}
	for chat, xs := range xmppIDs {
		for x := range xs {
			want, err := s.PlatformMessageID(ctx(t), bob, chat, x)
			must(t, err, "PlatformMessageID(bob, %q, %q)", chat, x)
			wantPlatformID(t, s, alice, chat, x, want)
		}
		for p := range platformIDs[chat] {
			want, err := s.XMPPMessageID(ctx(t), bob, chat, p)
			must(t, err, "XMPPMessageID(bob, %q, %q)", chat, p)
			wantXMPPID(t, s, alice, chat, p, want)
		}
	}
	// Spot checks of the rule itself: each direction keeps the last pair
	// written for its key.
	wantMsg(t, s, alice, "chat1", "xmpp-1", "plat-6")
	wantXMPPID(t, s, alice, "chat1", "plat-2", "xmpp-3")
	wantXMPPID(t, s, alice, "chat1", "plat-4", "xmpp-5")
	wantPlatformID(t, s, alice, "chat1", "xmpp-4", "plat-5")
}

// testPutMessageIDsExpiry checks per-pair TTLs within one batch, owners
// mixed: short ones expire, <= 0 means the default, and a pair written
// again later in the batch takes the later TTL.
func testPutMessageIDsExpiry(t *testing.T, s store.Store) {
	const short = 300 * time.Millisecond
	start := time.Now()
	putMsgs(t, s,
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-short", PlatformID: "plat-short", TTL: short},
		store.MessageIDPair{Owner: bob, Chat: "chat1", XMPPID: "xmpp-short", PlatformID: "plat-short", TTL: short},
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-default", PlatformID: "plat-default"},
		store.MessageIDPair{Owner: bob, Chat: "chat1", XMPPID: "xmpp-negative", PlatformID: "plat-negative", TTL: -time.Second},
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-renewed", PlatformID: "plat-renewed", TTL: time.Hour},
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-long", PlatformID: "plat-long", TTL: time.Hour},
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-renewed", PlatformID: "plat-renewed", TTL: short},
	)
	if time.Since(start) < short/2 {
		wantMsg(t, s, alice, "chat1", "xmpp-short", "plat-short")
		wantMsg(t, s, bob, "chat1", "xmpp-short", "plat-short")
		wantMsg(t, s, alice, "chat1", "xmpp-renewed", "plat-renewed")
	}

	waitExpired(t, s, start, short,
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-short", PlatformID: "plat-short"},
		store.MessageIDPair{Owner: bob, Chat: "chat1", XMPPID: "xmpp-short", PlatformID: "plat-short"},
		store.MessageIDPair{Owner: alice, Chat: "chat1", XMPPID: "xmpp-renewed", PlatformID: "plat-renewed"})
	wantMsg(t, s, alice, "chat1", "xmpp-default", "plat-default")
	wantMsg(t, s, bob, "chat1", "xmpp-negative", "plat-negative")
	wantMsg(t, s, alice, "chat1", "xmpp-long", "plat-long")
}

// testPutMessageIDsEmpty checks that an empty batch is a no-op.
func testPutMessageIDsEmpty(t *testing.T, s store.Store) {
	must(t, s.PutMessageIDs(ctx(t), nil), "PutMessageIDs(nil)")
	must(t, s.PutMessageIDs(ctx(t), []store.MessageIDPair{}), "PutMessageIDs(empty)")
	_, err := s.PlatformMessageID(ctx(t), alice, "", "")
	wantNotFound(t, err, "lookup after empty batches")
}

// testPutMessageIDsLarge writes a batch larger than backends are likely to
// split it into, of two owners.
func testPutMessageIDsLarge(t *testing.T, s store.Store) {
	const n = 700
	var pairs []store.MessageIDPair
	for i := range n {
		owner := alice
		if i%3 == 0 {
			owner = bob
		}
		pairs = append(pairs, store.MessageIDPair{
			Owner: owner, Chat: ids.ChatID(fmt.Sprint("chat", i%7)),
			XMPPID: fmt.Sprint("x", i), PlatformID: ids.MessageID(fmt.Sprint("p", i)), TTL: time.Hour,
		})
	}
	putMsgs(t, s, pairs...)
	for _, p := range pairs {
		wantMsg(t, s, p.Owner, p.Chat, p.XMPPID, p.PlatformID)
		if t.Failed() {
			t.FailNow()
		}
	}
}
