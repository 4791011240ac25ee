package delivery

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/event"
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
