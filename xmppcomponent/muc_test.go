package xmppcomponent

import (
	"fmt"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// TestRoomAddressing: room JIDs round-trip and never collide with contacts,
// even contacts whose id starts with '#'.
func TestRoomAddressing(t *testing.T) {
	a := Addressing{Domain: "gw.example.org"}
	for _, chat := range []ids.ChatID{"group-lounge", "120363@g.us", "#odd id/with stuff"} {
		j := jid.MustParse(a.RoomJID(chat))
		got, ok := a.RoomOf(j)
		if !ok || got != chat {
			t.Errorf("RoomOf(RoomJID(%q)) = %q, %v", chat, got, ok)
		}
	}
	for _, user := range []ids.UserID{"+15550001111", "#hash", "a#b"} {
		j := jid.MustParse(a.UserJID(user))
		if _, ok := a.RoomOf(j); ok {
			t.Errorf("contact %q (%s) taken for a room", user, j)
		}
		if got, err := a.UserOf(j); err != nil || got != user {
			t.Errorf("UserOf(UserJID(%q)) = %q, %v", user, got, err)
		}
	}
	if _, ok := a.RoomOf(jid.MustParse("#x@other.example.org")); ok {
		t.Error("a room on another domain")
	}
}

func archive(n int) []archived {
	var out []archived
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		out = append(out, archived{id: fmt.Sprint("m", i), at: t0.Add(time.Duration(i) * time.Minute)})
	}
	return out
}

func idsOf(page []archived) string {
	s := ""
	for _, a := range page {
		s += a.id + " "
	}
	return s
}

// TestArchivePaging covers RSM paging of the room archive.
func TestArchivePaging(t *testing.T) {
	all := archive(5)
	two := 2
	empty, m1, m3, nope := "", "m1", "m3", "zz"
	for _, tc := range []struct {
		name     string
		set      *xep.RSMSet
		want     string
		first    int
		complete bool
		ok       bool
	}{
		{"everything", nil, "m0 m1 m2 m3 m4 ", 0, true, true},
		{"first page", &xep.RSMSet{Max: &two}, "m0 m1 ", 0, false, true},
		{"after m1", &xep.RSMSet{Max: &two, After: &m1}, "m2 m3 ", 2, false, true},
		{"after m3", &xep.RSMSet{Max: &two, After: &m3}, "m4 ", 4, true, true},
		{"last page", &xep.RSMSet{Max: &two, Before: &empty}, "m3 m4 ", 3, false, true},
		{"before m1", &xep.RSMSet{Max: &two, Before: &m1}, "m0 ", 0, true, true},
		{"unknown id", &xep.RSMSet{After: &nope}, "", 0, false, false},
		{"before an unknown id", &xep.RSMSet{Before: &nope}, "", 0, false, false},
	} {
		page, first, complete, ok := pageOf(all, tc.set)
		if idsOf(page) != tc.want || first != tc.first || complete != tc.complete || ok != tc.ok {
			t.Errorf("%s: %q first %d complete %v ok %v", tc.name, idsOf(page), first, complete, ok)
		}
	}
}

// TestJoinHistory covers the history limits of a join.
func TestJoinHistory(t *testing.T) {
	all := archive(5)
	if got := idsOf(history{maxStanzas: -1}.pick(all)); got != "m0 m1 m2 m3 m4 " {
		t.Errorf("no limit: %s", got)
	}
	if got := idsOf(history{maxStanzas: 2}.pick(all)); got != "m3 m4 " {
		t.Errorf("maxstanzas 2: %s", got)
	}
	if got := idsOf(history{maxStanzas: 0}.pick(all)); got != "" {
		t.Errorf("maxstanzas 0: %s", got)
	}
	if got := idsOf(history{maxStanzas: -1, since: all[3].at}.pick(all)); got != "m3 m4 " {
		t.Errorf("since m3: %s", got)
	}
}

// TestRoomNicks: nicks come from names, stay unique and stable.
func TestRoomNicks(t *testing.T) {
	r := &room{nicks: map[ids.UserID]string{}, joined: map[string]bool{}}
	if n := r.nickOf("u1", "Sam"); n != "Sam" {
		t.Errorf("first Sam: %s", n)
	}
	if n := r.nickOf("u2", "Sam"); n != "Sam (u2)" {
		t.Errorf("second Sam: %s", n)
	}
	if n := r.nickOf("u1", "Other"); n != "Sam" {
		t.Errorf("nick changed: %s", n)
	}
	if n := r.nickOf("u3", ""); n != "u3" {
		t.Errorf("nameless: %s", n)
	}
}

// TestRoomRetention: the archive keeps the newest messages up to the limit.
func TestRoomRetention(t *testing.T) {
	r := &room{}
	for _, a := range archive(5) {
		r.archive(a, 3)
	}
	if got := idsOf(r.history); got != "m2 m3 m4 " {
		t.Errorf("kept %s", got)
	}
	r.archive(archived{id: "m5"}, 0)
	if len(r.history) != 0 {
		t.Errorf("a limit of 0 keeps %d", len(r.history))
	}
	for n, want := range map[int]int{0: DefaultRoomHistory, -1: 0, 7: 7} {
		if got := (&Component{cfg: Config{RoomHistory: n}}).roomHistory(); got != want {
			t.Errorf("RoomHistory %d: %d, want %d", n, got, want)
		}
	}
}
