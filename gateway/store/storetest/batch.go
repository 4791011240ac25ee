package storetest

import (
	"errors"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// testWriteBatch checks store.Batcher, for a backend that has it: pairs,
// appends and acks of several owners in one batch, as the roles' calls
// would have written them.
func testWriteBatch(t *testing.T, s store.Store) {
	b, ok := s.(store.Batcher)
	if !ok {
		return // optional: the backend has none
	}
	ctx := t.Context()
	const alice, bob = ids.Owner("alice@example.org"), ids.Owner("bob@example.org")
	old, err := s.EnqueueAll(ctx, []store.QueueAppend{{Owner: alice, Data: []byte("old-a")}, {Owner: bob, Data: []byte("old-b")}})
	must(t, err, "EnqueueAll")
	seqs, err := b.WriteBatch(ctx, store.Batch{
		Pairs: []store.MessageIDPair{
			{Owner: alice, Chat: "c1", XMPPID: "x1", PlatformID: "p1"},
			{Owner: bob, Chat: "c2", XMPPID: "x2", PlatformID: "p2"},
		},
		Appends: []store.QueueAppend{{Owner: alice, Data: []byte("a1")}, {Owner: bob, Data: []byte("b1")}, {Owner: alice, Data: []byte("a2")}},
		Acks:    []store.QueueRef{{Owner: alice, Seq: old[0]}, {Owner: bob, Seq: old[1]}, {Owner: bob, Seq: "not-a-seq"}},
	})
	if errors.Is(err, store.ErrNoBatch) {
		// Not in one round trip in this configuration (owner fences):
		// nothing may have been written.
		if items, err := s.Pending(ctx, alice, 0); err != nil || len(items) != 1 {
			t.Errorf("after ErrNoBatch, Pending(alice) = %d items, %v; want the 1 before", len(items), err)
		}
		return
	}
	must(t, err, "WriteBatch")
	if len(seqs) != 3 {
		t.Fatalf("WriteBatch returned %d sequences, want 3", len(seqs))
	}
	for _, p := range []struct {
		owner    ids.Owner
		chat     ids.ChatID
		xmpp     string
		platform ids.MessageID
	}{{alice, "c1", "x1", "p1"}, {bob, "c2", "x2", "p2"}} {
		got, err := s.PlatformMessageID(ctx, p.owner, p.chat, p.xmpp)
		must(t, err, "PlatformMessageID %s", p.xmpp)
		if got != p.platform {
			t.Errorf("PlatformMessageID(%s) = %q, want %q", p.xmpp, got, p.platform)
		}
		x, err := s.XMPPMessageID(ctx, p.owner, p.chat, p.platform)
		must(t, err, "XMPPMessageID %s", p.platform)
		if x != p.xmpp {
			t.Errorf("XMPPMessageID(%s) = %q, want %q", p.platform, x, p.xmpp)
		}
	}
	for _, want := range []struct {
		owner ids.Owner
		data  []string
		seqs  []string
	}{{alice, []string{"a1", "a2"}, []string{seqs[0], seqs[2]}}, {bob, []string{"b1"}, []string{seqs[1]}}} {
		items, err := s.Pending(ctx, want.owner, 0)
		must(t, err, "Pending %s", want.owner)
		if len(items) != len(want.data) {
			t.Fatalf("Pending(%s) has %d items, want %d (the acked one removed)", want.owner, len(items), len(want.data))
		}
		for i, it := range items {
			if string(it.Data) != want.data[i] || it.Seq != want.seqs[i] {
				t.Errorf("Pending(%s)[%d] = %s %q, want %s %q", want.owner, i, it.Seq, it.Data, want.seqs[i], want.data[i])
			}
		}
	}
	// Acking the rest empties the queues: PendingOwners no longer lists them.
	_, err = b.WriteBatch(ctx, store.Batch{Acks: []store.QueueRef{{Owner: alice, Seq: seqs[0]}, {Owner: bob, Seq: seqs[1]}, {Owner: alice, Seq: seqs[2]}}})
	must(t, err, "WriteBatch of acks")
	owners, err := s.PendingOwners(ctx)
	must(t, err, "PendingOwners")
	if len(owners) != 0 {
		t.Errorf("PendingOwners = %v after every item was acked, want none", owners)
	}
	if seqs, err := b.WriteBatch(ctx, store.Batch{}); err != nil || len(seqs) != 0 {
		t.Errorf("empty WriteBatch = %v, %v; want nothing, nil", seqs, err)
	}
}
