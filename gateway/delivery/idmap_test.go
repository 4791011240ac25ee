package delivery

import (
	"context"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// TestIDMapAlone checks lookups both ways, from memory and, for a new map,
// from the store; and that a copy of a message already sent is recognised
// only with the same content.
func TestIDMapAlone(t *testing.T) {
	st := openStore(t)
	m := NewIDMap(IDMapConfig{Store: st})
	ctx := t.Context()
	hello := &event.Message{Body: "hello"}
	m.Put(ctx, testOwner, testChat, "p1", m.Sum(hello), "s1", "o1")
	for _, x := range []string{"s1", "o1"} {
		if id, ok := m.PlatformID(ctx, testOwner, testChat, x); !ok || id != "p1" {
			t.Errorf("PlatformID(%s) = %q, %v", x, id, ok)
		}
	}
	if x, ok := m.XMPPID(ctx, testOwner, testChat, "p1"); !ok || x != "s1" {
		t.Errorf("XMPPID(p1) = %q, %v; want s1", x, ok)
	}
	if id, dup := m.Duplicate(ctx, testOwner, testChat, m.Sum(hello), []string{"s1", "o1"}); !dup || id != "p1" {
		t.Errorf("Duplicate of the same message = %q, %v", id, dup)
	}
	if _, dup := m.Duplicate(ctx, testOwner, testChat, m.Sum(&event.Message{Body: "other"}), []string{"s1"}); dup {
		t.Error("a reused stanza id with other content is a duplicate")
	}
	m.NoteInbound(testOwner, testChat, "in1")
	if !m.SeenInbound(testOwner, testChat, "in1") || m.SeenInbound(testOwner, testChat, "p1") {
		t.Error("SeenInbound does not follow NoteInbound")
	}

	// Not started, Put wrote through: a new map finds the pair in the store.
	m2 := NewIDMap(IDMapConfig{Store: st})
	if id, ok := m2.SentBefore(ctx, testOwner, testChat, []string{"", "o1"}); !ok || id != "p1" {
		t.Errorf("SentBefore from the store = %q, %v", id, ok)
	}
}

// gatedIDs is a store whose PutMessageIDs waits for gate.
type gatedIDs struct {
	store.Store
	gate chan struct{}
}

func (g gatedIDs) PutMessageIDs(ctx context.Context, pairs []store.MessageIDPair) error {
	<-g.gate
	return g.Store.PutMessageIDs(ctx, pairs)
}

// TestIDMapSynced checks that Synced waits for the background writer to
// write what was put before the call, and no longer.
func TestIDMapSynced(t *testing.T) {
	st := gatedIDs{Store: openStore(t), gate: make(chan struct{})}
	m := NewIDMap(IDMapConfig{Store: st})
	m.Start(t.Context())
	t.Cleanup(m.Stop)
	if err := m.Synced(t.Context()); err != nil {
		t.Fatalf("Synced with nothing put: %v", err)
	}
	m.Put(t.Context(), testOwner, testChat, "p1", 1, "s1")
	synced := make(chan error, 1)
	go func() { synced <- m.Synced(t.Context()) }()
	select {
	case err := <-synced:
		t.Fatalf("Synced returned (%v) while the write waits", err)
	default:
	}
	close(st.gate)
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	if id, err := st.PlatformMessageID(t.Context(), testOwner, testChat, "s1"); err != nil || id != "p1" {
		t.Errorf("after Synced the store maps s1 to %q (%v)", id, err)
	}
}

// TestIDMapReadsPairsOfBareChats checks that pairs stored before chats
// were keyed by platform (under the bare chat id) are still found through
// the chat's ChatKey, in both directions, while pairs written now live
// under the key only and do not answer for another platform's chat of the
// same id.
func TestIDMapReadsPairsOfBareChats(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	if err := st.PutMessageID(ctx, testOwner, testChat, "old-x", "old-p", 0); err != nil {
		t.Fatal(err)
	}
	m := NewIDMap(IDMapConfig{Store: st})
	wa, sb := ChatKey("whatsapp", testChat), ChatKey("sandbox", testChat)
	if id, ok := m.PlatformID(ctx, testOwner, wa, "old-x"); !ok || id != "old-p" {
		t.Errorf("PlatformID of an old pair = %q, %v", id, ok)
	}
	if x, ok := m.XMPPID(ctx, testOwner, wa, "old-p"); !ok || x != "old-x" {
		t.Errorf("XMPPID of an old pair = %q, %v", x, ok)
	}
	m.PutNow(ctx, testOwner, wa, "new-p", 0, "new-x")
	fresh := NewIDMap(IDMapConfig{Store: st})
	if id, ok := fresh.PlatformID(ctx, testOwner, wa, "new-x"); !ok || id != "new-p" {
		t.Errorf("PlatformID of a new pair = %q, %v", id, ok)
	}
	if id, ok := fresh.PlatformID(ctx, testOwner, sb, "new-x"); ok {
		t.Errorf("the sandbox's chat of the same id finds WhatsApp's message %q", id)
	}
	if _, err := st.PlatformMessageID(ctx, testOwner, testChat, "new-x"); err == nil {
		t.Error("a new pair was stored under the bare chat id")
	}
}
