package xmppcomponent

import (
	"encoding/xml"
	"fmt"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
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
		id := fmt.Sprint("m", i)
		out = append(out, archived{id: id, at: t0.Add(time.Duration(i) * time.Minute),
			msg: stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: stanza.Attrs{Id: id, From: "#g@gw/Bob"}, Body: "hello"}})
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

// TestJoinHistory covers the history limits of a join: maxstanzas,
// since, and maxchars (whole stanzas as sent, newest first, that fit).
func TestJoinHistory(t *testing.T) {
	r := &room{history: archive(5), nicks: map[ids.UserID]string{}}
	all := r.history
	pick := func(h history) string {
		s := ""
		for _, m := range h.pick(r, "#g@gw", "alice@example.test/phone") {
			s += m.Id + " "
		}
		return s
	}
	last, err := xml.Marshal(delayed(r, all[4], "#g@gw", "alice@example.test/phone"))
	if err != nil {
		t.Fatal(err)
	}
	one := len(last) // every message here is as long as the last one
	for _, tc := range []struct {
		name string
		h    history
		want string
	}{
		{"no limit", history{maxStanzas: -1, maxChars: -1}, "m0 m1 m2 m3 m4 "},
		{"maxstanzas 2", history{maxStanzas: 2, maxChars: -1}, "m3 m4 "},
		{"maxstanzas 0", history{maxStanzas: 0, maxChars: -1}, ""},
		{"since m3", history{maxStanzas: -1, maxChars: -1, since: all[3].at}, "m3 m4 "},
		{"maxchars 0", history{maxStanzas: -1, maxChars: 0}, ""},
		{"maxchars for one", history{maxStanzas: -1, maxChars: one}, "m4 "},
		{"maxchars for almost two", history{maxStanzas: -1, maxChars: 2*one - 1}, "m4 "},
		{"maxchars for two", history{maxStanzas: -1, maxChars: 2 * one}, "m3 m4 "},
		{"maxchars and maxstanzas", history{maxStanzas: 1, maxChars: 2 * one}, "m4 "},
	} {
		if got := pick(tc.h); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestHistoryNicks: the owner's messages in the history and the archive
// come from the nick the owner has now, others' from theirs.
func TestHistoryNicks(t *testing.T) {
	r := &room{info: gateway.GroupInfo{Self: "me"}, nicks: map[ids.UserID]string{"me": "+15550009999", "bob": "Bob"}}
	mine := archived{id: "m1", sender: "me", msg: stanza.Message{Attrs: stanza.Attrs{From: "#g@gw/+15550009999"}}}
	bobs := archived{id: "m2", sender: "bob", msg: stanza.Message{Attrs: stanza.Attrs{From: "#g@gw/Bob"}}}
	rooms := archived{id: "m3", msg: stanza.Message{Attrs: stanza.Attrs{From: "#g@gw"}}}
	r.nicks["me"] = "Ali"
	for _, tc := range []struct {
		a    archived
		want string
	}{{mine, "#g@gw/Ali"}, {bobs, "#g@gw/Bob"}, {rooms, "#g@gw"}} {
		a, want := tc.a, tc.want
		if got := r.replayed(a, "#g@gw").From; got != want {
			t.Errorf("%s: from %s, want %s", a.id, got, want)
		}
		if got := delayed(r, a, "#g@gw", "alice@example.test/phone").From; got != want {
			t.Errorf("%s as history: from %s, want %s", a.id, got, want)
		}
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
