package xmppcomponent

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestLeaveOwnerRoomsForShutdown: the owner handed over gets, for each
// resource in each of its rooms, an unavailable self-presence with codes
// 110 and 332, and its rooms forget who joined; another owner's rooms
// are left alone (LeaveRoomsForShutdown then tells those).
func TestLeaveOwnerRoomsForShutdown(t *testing.T) {
	c, _, rec := newGroupsComponent(t)
	const other ids.Owner = "bob@example.test"
	c.muc.mu.Lock()
	for _, k := range []roomKey{{mucOwner, "g1"}, {mucOwner, "g2"}, {other, "g1"}} {
		r := c.muc.getLocked(k)
		r.info.Self = "self"
		r.nicks["self"] = "Me"
		r.joined[string(k.owner)+"/pc"] = true
		if k.chat == "g1" {
			r.joined[string(k.owner)+"/phone"] = true
		}
	}
	c.muc.mu.Unlock()

	if n := c.LeaveOwnerRoomsForShutdown(t.Context(), mucOwner); n != 3 {
		t.Errorf("told %d resources of %s, want 3", n, mucOwner)
	}
	out := rec.take()
	if len(out) != 3 {
		t.Fatalf("sent %d stanzas, want 3: %q", len(out), out)
	}
	for _, s := range out {
		for _, want := range []string{`type="unavailable"`, `to="` + string(mucOwner) + `/`, `/Me"`, `code="110"`, `code="332"`, `role="none"`} {
			if !strings.Contains(s, want) {
				t.Errorf("lacks %s: %s", want, s)
			}
		}
	}
	if n := c.LeaveOwnerRoomsForShutdown(t.Context(), mucOwner); n != 0 {
		t.Errorf("a second call told %d resources, want 0 (the rooms forgot who joined)", n)
	}
	if n := c.LeaveRoomsForShutdown(t.Context()); n != 2 {
		t.Errorf("LeaveRoomsForShutdown told %d resources, want 2 (%s's)", n, other)
	}
}
