package xmppcomponent

import (
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// TestContactPresenceKeptCompact: the presence a contact last had on the
// platform is kept in the compact per-contact state (contactstate.go),
// not as the event; what a probe gets afterwards is still what the event
// said: show, status, and the XEP-0319 idle time of an offline contact.
func TestContactPresenceKeptCompact(t *testing.T) {
	const owner = ids.Owner("alice@example.test")
	const bob = ids.UserID("+15550000001")
	seen := time.Date(2026, 12, 1, 10, 30, 15, 999, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name string
		ev   event.Presence
		want []string // in the presence written
		not  []string
	}{
		{"dnd with status", event.Presence{Available: true, Show: "dnd", Status: "in a meeting"},
			[]string{"<show>dnd</show>", "<status>in a meeting</status>"}, []string{`type="unavailable"`, "urn:xmpp:idle:1"}},
		{"chat", event.Presence{Available: true, Show: "chat"}, []string{"<show>chat</show>"}, []string{`type="unavailable"`}},
		{"plain available", event.Presence{Available: true}, nil, []string{"<show>", `type="unavailable"`}},
		{"offline, last seen", event.Presence{Status: "gone", LastSeen: seen},
			[]string{`type="unavailable"`, "<status>gone</status>", `since="2026-12-01T09:30:15Z"`}, []string{"<show>"}},
		{"nothing known", event.Presence{}, []string{`type="unavailable"`}, []string{"urn:xmpp:idle:1", "<status>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			hub := newFakeHub()
			linkFake(hub, owner)
			hub.addContact(owner, store.Contact{User: bob, Subscribed: true})
			c, rec := coreComponent(t, hub)
			ev := tc.ev
			ev.Meta = event.Meta{Sender: bob, Chat: ids.DirectChat(bob)}
			if err := testDeliver(ctx, c, owner, fakePlatform, &ev); err != nil {
				t.Fatal(err)
			}
			rec.take()
			c.sendContactPresence(ctx, owner, bob)
			got := containing(rec.take(), "<presence")
			if len(got) != 1 {
				t.Fatalf("wrote %v, want one presence", got)
			}
			for _, w := range tc.want {
				if len(containing(got, w)) == 0 {
					t.Errorf("presence %s lacks %s", got[0], w)
				}
			}
			for _, n := range tc.not {
				if len(containing(got, n)) != 0 {
					t.Errorf("presence %s has %s", got[0], n)
				}
			}
		})
	}
}
