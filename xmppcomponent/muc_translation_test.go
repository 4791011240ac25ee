package xmppcomponent

import (
	"context"
	"encoding/xml"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

const mucOwner ids.Owner = "alice@example.test"

// groupsHub is the fake hub with a signal after each group listing, for
// the listing inviteToGroups runs on its own goroutine.
type groupsHub struct {
	*fakeHub
	listed chan error
}

func (h *groupsHub) Groups(ctx context.Context, owner ids.Owner, p ids.PlatformID) ([]gateway.GroupInfo, error) {
	g, err := h.fakeHub.Groups(ctx, owner, p)
	h.listed <- err
	return g, err
}

func newGroupsComponent(t *testing.T) (*Component, *groupsHub, *scriptRecorder) {
	t.Helper()
	hub := &groupsHub{fakeHub: newFakeHub(), listed: make(chan error, 10)}
	c, err := New(Config{
		Conn:     stream.Config{Domain: "gw.example.test"},
		Platform: fakePlatform,
		Logger:   slog.New(slog.DiscardHandler),
	}, hub)
	if err != nil {
		t.Fatal(err)
	}
	rec := &scriptRecorder{}
	c.SetSender(rec)
	return c, hub, rec
}

// invitesIn returns the rooms of the XEP-0249 invitations among out.
func invitesIn(out []string) []string {
	var rooms []string
	for _, s := range out {
		if _, rest, ok := strings.Cut(s, `<x xmlns="jabber:x:conference" jid="`); ok {
			room, _, _ := strings.Cut(rest, `"`)
			rooms = append(rooms, room)
		}
	}
	return rooms
}

// waitInvites collects the invitations the component sends until want
// rooms arrived or the deadline passes.
func waitInvites(t *testing.T, rec *scriptRecorder, want int) []string {
	t.Helper()
	var got []string
	testutil.Poll(5*time.Second, func() bool {
		got = append(got, invitesIn(rec.take())...)
		return len(got) >= want
	})
	return got
}

// TestInviteToGroupsOnConnect: once the account is connected, the owner is
// invited to the room of each of their groups, once per run, by a listing
// that outlives the delivery's context.
func TestInviteToGroupsOnConnect(t *testing.T) {
	c, hub, rec := newGroupsComponent(t)
	hub.accounts[mucOwner] = fakeLinked(mucOwner)
	hub.addGroup(mucOwner, gateway.GroupInfo{Chat: "g1", Name: "Lounge"})
	hub.addGroup(mucOwner, gateway.GroupInfo{Chat: "g2", Name: "Book club"})
	connected := &event.AccountState{State: event.StateConnected}

	// A state other than connected lists nothing.
	if err := testDeliver(t.Context(), c, mucOwner, fakePlatform, &event.AccountState{State: event.StateConnecting}); err != nil {
		t.Fatal(err)
	}
	if calls := hub.takeCalls(); len(calls) != 0 {
		t.Fatalf("connecting: hub calls %v", calls)
	}

	// The delivery's context ends at once: the listing goes on.
	ctx, cancel := context.WithCancel(t.Context())
	if err := testDeliver(ctx, c, mucOwner, fakePlatform, connected); err != nil {
		t.Fatal(err)
	}
	cancel()
	if got := waitInvites(t, rec, 2); strings.Join(got, " ") != "#g1@gw.example.test #g2@gw.example.test" {
		t.Fatalf("invitations after connecting: %q", got)
	}

	// Connected again, with a new group: only the new group's room. It
	// is listed last, so its invitation ends the listing.
	hub.addGroup(mucOwner, gateway.GroupInfo{Chat: "g3", Name: "Garden"})
	if err := testDeliver(t.Context(), c, mucOwner, fakePlatform, connected); err != nil {
		t.Fatal(err)
	}
	if got := waitInvites(t, rec, 1); strings.Join(got, " ") != "#g3@gw.example.test" {
		t.Fatalf("invitations after connecting again: %q", got)
	}

	// The listing fails: no invitation.
	hub.addGroup(mucOwner, gateway.GroupInfo{Chat: "g4", Name: "Attic"})
	hub.mu.Lock()
	hub.fail["Groups"] = gateway.ErrUnavailable
	hub.mu.Unlock()
	for len(hub.listed) > 0 {
		<-hub.listed
	}
	if err := testDeliver(t.Context(), c, mucOwner, fakePlatform, connected); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-hub.listed:
		if err == nil {
			t.Fatal("the listing did not fail")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no listing")
	}
	if got := invitesIn(rec.take()); len(got) != 0 {
		t.Errorf("invitations after a failed listing: %q", got)
	}
}

// TestInviteToGroupsWithoutGroups: an account whose platform has no groups
// is not listed.
func TestInviteToGroupsWithoutGroups(t *testing.T) {
	c, hub, rec := newGroupsComponent(t)
	hub.accounts[mucOwner] = fakeLinked(mucOwner)
	if err := testDeliver(t.Context(), c, mucOwner, fakePlatform, &event.AccountState{State: event.StateConnected}); err != nil {
		t.Fatal(err)
	}
	for _, call := range hub.takeCalls() {
		if strings.HasPrefix(call, "Groups") {
			t.Errorf("listed the groups of an account without groups: %s", call)
		}
	}
	if got := invitesIn(rec.take()); len(got) != 0 {
		t.Errorf("invitations: %q", got)
	}
}

// TestRoomArchiveStamps: join history and the archive are stamped with the
// time the platform gives a message (XEP-0203: when it was sent), or the
// time the room got it when the platform gives none.
func TestRoomArchiveStamps(t *testing.T) {
	s := newScript(t)
	s.hub.accounts[mucOwner] = fakeLinked(mucOwner)
	s.hub.addGroup(mucOwner, gateway.GroupInfo{Chat: "g1", Name: "Lounge", Self: "+15550009999",
		Members: []gateway.GroupMember{{User: "+15550009999"}, {User: "+15550000001"}}})
	sent := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	for _, e := range []event.Event{
		&event.Message{Meta: event.Meta{Chat: "g1", Sender: "+15550000001", ID: "W1", Time: sent}, Body: "old"},
		&event.Message{Meta: event.Meta{Chat: "g1", Sender: "+15550000001", ID: "W2"}, Body: "undated"},
		&event.Edit{Meta: event.Meta{Chat: "g1", Sender: "+15550000001", ID: "W3", Time: sent.Add(time.Minute)}, Target: "W1", Body: "older"},
	} {
		if err := testDeliver(t.Context(), s.c, mucOwner, fakePlatform, e); err != nil {
			t.Fatal(err)
		}
	}
	s.rec.take()
	join := `<presence id='j1' from='alice@example.test/phone' to='#g1@gw.example.test/x'><x xmlns='http://jabber.org/protocol/muc'/></presence>`
	mam := `<iq type='set' id='q1' from='alice@example.test/phone' to='#g1@gw.example.test'><query xmlns='urn:xmpp:mam:2'/></iq>`
	for _, tc := range []struct {
		name, stanza string
		stamps       int // of the history or archive
	}{
		{"join history", join, 3},
		{"archive", mam, 3},
	} {
		var stamps []string
		for _, o := range stepOut(t, s, tc.stanza) {
			if _, rest, ok := strings.Cut(o, `stamp="`); ok {
				stamp, _, _ := strings.Cut(rest, `"`)
				stamps = append(stamps, stamp)
			}
		}
		if len(stamps) != tc.stamps {
			t.Fatalf("%s: stamps %q", tc.name, stamps)
		}
		if stamps[0] != "2026-01-02T02:04:05Z" || stamps[2] != "2026-01-02T02:05:05Z" {
			t.Errorf("%s: the platform's times are stamped %s and %s", tc.name, stamps[0], stamps[2])
		}
		if at, err := time.Parse(time.RFC3339, stamps[1]); err != nil || time.Since(at) > time.Minute {
			t.Errorf("%s: an undated message is stamped %s (%v), not about now", tc.name, stamps[1], err)
		}
	}
}

// TestHistoryRequest covers what a join presence asks of the history.
func TestHistoryRequest(t *testing.T) {
	since := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name      string
		ext       stanza.PresExtension
		join      bool
		max, char int
		since     time.Time
		seconds   time.Duration // since is about now minus this
	}{
		{"a presence update", nil, false, -1, -1, time.Time{}, 0},
		{"a presence with other payloads", &xep.MUCUser{}, false, -1, -1, time.Time{}, 0},
		{"a join: the recent history", &xep.MUCJoin{}, true, defaultJoinHistory, -1, time.Time{}, 0},
		{"an empty history element: the same", &xep.MUCJoin{History: &xep.MUCHistory{}}, true, defaultJoinHistory, -1, time.Time{}, 0},
		{"maxstanzas", &xep.MUCJoin{History: &xep.MUCHistory{MaxStanzas: n(3)}}, true, 3, -1, time.Time{}, 0},
		{"maxchars", &xep.MUCJoin{History: &xep.MUCHistory{MaxChars: n(0)}}, true, -1, 0, time.Time{}, 0},
		{"negative limits are none", &xep.MUCJoin{History: &xep.MUCHistory{MaxChars: n(-1), MaxStanzas: n(-5)}}, true, -1, -1, time.Time{}, 0},
		{"since", &xep.MUCJoin{History: &xep.MUCHistory{Since: "2026-01-01T10:00:00Z"}}, true, -1, -1, since, 0},
		{"since with fractions", &xep.MUCJoin{History: &xep.MUCHistory{Since: "2026-01-01T10:00:00.000Z"}}, true, -1, -1, since, 0},
		{"since with an offset", &xep.MUCJoin{History: &xep.MUCHistory{Since: "2026-01-01T11:00:00+01:00"}}, true, -1, -1, since, 0},
		{"seconds", &xep.MUCJoin{History: &xep.MUCHistory{Seconds: n(60)}}, true, -1, -1, time.Time{}, time.Minute},
		{"the later of since and seconds", &xep.MUCJoin{History: &xep.MUCHistory{Since: "2026-01-01T10:00:00Z", Seconds: n(60)}}, true, -1, -1, time.Time{}, time.Minute},
	} {
		p := stanza.Presence{XMLName: xml.Name{Local: "presence"}}
		if tc.ext != nil {
			p.Extensions = []stanza.PresExtension{tc.ext}
		}
		h, err := historyRequest(p)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if h.join != tc.join || h.maxStanzas != tc.max || h.maxChars != tc.char {
			t.Errorf("%s: join %v maxstanzas %d maxchars %d, want %v %d %d", tc.name, h.join, h.maxStanzas, h.maxChars, tc.join, tc.max, tc.char)
		}
		switch {
		case tc.seconds > 0:
			if d := time.Since(h.since); d < tc.seconds || d > tc.seconds+time.Minute {
				t.Errorf("%s: since %v, %v ago", tc.name, h.since, d)
			}
		case !h.since.Equal(tc.since):
			t.Errorf("%s: since %v, want %v", tc.name, h.since, tc.since)
		}
	}
	bad := stanza.Presence{Extensions: []stanza.PresExtension{&xep.MUCJoin{History: &xep.MUCHistory{Since: "yesterday"}}}}
	if _, err := historyRequest(bad); err == nil {
		t.Error("since='yesterday' accepted")
	}
}

// TestRoomDiscoChangeSubject: muc#roominfo says whether members may change
// the subject.
func TestRoomDiscoChangeSubject(t *testing.T) {
	for _, adminsOnly := range []bool{false, true} {
		s := newScript(t)
		s.hub.accounts[mucOwner] = fakeLinked(mucOwner)
		s.hub.addGroup(mucOwner, gateway.GroupInfo{Chat: "g1", Name: "Lounge", TopicByAdminsOnly: adminsOnly})
		out := strings.Join(stepOut(t, s, `<iq type='get' id='q1' from='alice@example.test/phone' to='#g1@gw.example.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`), "\n")
		want := `<field var="muc#roomconfig_changesubject"><value>` + boolValue(!adminsOnly) + `</value>`
		if !strings.Contains(out, want) || boolValue(!adminsOnly) == boolValue(adminsOnly) {
			t.Errorf("topic by admins only %v: %s", adminsOnly, out)
		}
	}
}

// stepOut runs one script line and returns the stanzas written.
func stepOut(t *testing.T, s *script, line string) []string {
	t.Helper()
	s.out.Reset()
	s.step(t.Context(), line)
	var out []string
	for _, l := range strings.Split(s.out.String(), "\n") {
		if o, ok := strings.CutPrefix(l, "<< "); ok {
			out = append(out, o)
		}
	}
	return out
}

// fakeLinked is a linked account of the fake hub.
func fakeLinked(owner ids.Owner) store.Account {
	return store.Account{Owner: owner, Platform: fakePlatform, ID: ids.AccountID("acct-" + string(owner)), State: event.StateConnected}
}
