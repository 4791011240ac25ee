package convert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
)

// testGroup is the group as WhatsApp describes it: LID-addressed, with
// the owner as its creator (super-admin), Alice an admin, Bob (number
// unknown) and Carol (number in the LID map) members.
func testGroup() *types.GroupInfo {
	gi := &types.GroupInfo{JID: group, OwnerJID: ownerLID, AddressingMode: types.AddressingModeLID,
		Participants: []types.GroupParticipant{
			{JID: ownerLID, PhoneNumber: owner, LID: ownerLID, IsAdmin: true, IsSuperAdmin: true},
			{JID: aliceLID, PhoneNumber: alice, LID: aliceLID, IsAdmin: true},
			{JID: bobLID, LID: bobLID},
			{JID: carolLID, LID: carolLID},
		}}
	gi.Name = "Book club"
	gi.Topic = "Monthly picks"
	gi.TopicID = "T1"
	gi.IsLocked = true
	return gi
}

// groupJSON renders a gateway.GroupInfo for golden files.
func groupJSON(t *testing.T, gi gateway.GroupInfo) []byte {
	t.Helper()
	type member struct {
		User, Name, Role string
	}
	v := struct {
		Chat, Name, Topic, Self string
		TopicByAdminsOnly       bool
		Members                 []member
	}{string(gi.Chat), gi.Name, gi.Topic, string(gi.Self), gi.TopicByAdminsOnly, nil}
	for _, m := range gi.Members {
		v.Members = append(v.Members, member{string(m.User), m.Name, m.Role.String()})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGroupGolden converts group descriptions (GroupInfo), changes
// (events.GroupInfo) and the account joining a group (events.JoinedGroup).
func TestGroupGolden(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("testdata", "groups")
	used := map[string]bool{}
	check := func(name string, got []byte) {
		used[name+".golden"] = true
		t.Run(name, func(t *testing.T) { wt.Golden(t, filepath.Join(dir, name+".golden"), got, *update) })
	}

	check("info", groupJSON(t, convert.GroupInfo(ctx, env(), testGroup())))
	pn := testGroup()
	pn.AddressingMode, pn.IsLocked, pn.TopicDeleted = types.AddressingModePN, false, true
	pn.Participants = []types.GroupParticipant{
		{JID: owner, PhoneNumber: owner, LID: ownerLID, IsAdmin: true},
		{JID: alice, PhoneNumber: alice, LID: aliceLID, IsSuperAdmin: true, IsAdmin: true},
		{JID: carol, PhoneNumber: carol, DisplayName: "Carol C."},
	}
	check("info_pn_topic_deleted", groupJSON(t, convert.GroupInfo(ctx, env(), pn)))

	changes := func(name string, evt *events.GroupInfo, known *types.GroupInfo) {
		all := []json.RawMessage{}
		for _, ev := range convert.GroupChange(ctx, env(), evt, known) {
			out, err := wt.EventJSON(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, out)
		}
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		check(name, append(b, '\n'))
	}
	by := func(j types.JID) *types.JID { return &j }
	at := when.Add(time.Minute)
	changes("change_join", &events.GroupInfo{JID: group, Sender: by(aliceLID), SenderPN: by(alice), Timestamp: at,
		Join: []types.JID{bobLID, wt.PN("+15550004444")}}, nil)
	changes("change_leave_and_kick", &events.GroupInfo{JID: group, Sender: by(aliceLID), SenderPN: by(alice), Timestamp: at,
		Leave: []types.JID{aliceLID, carolLID}}, nil)
	changes("change_left_without_sender", &events.GroupInfo{JID: group, Timestamp: at, Leave: []types.JID{bobLID}}, nil)
	changes("change_owner_removed", &events.GroupInfo{JID: group, Sender: by(aliceLID), Timestamp: at, Leave: []types.JID{ownerLID}}, nil)
	changes("change_promote_demote", &events.GroupInfo{JID: group, Sender: by(ownerLID), Timestamp: at,
		Promote: []types.JID{carolLID}, Demote: []types.JID{aliceLID}}, nil)
	changes("change_name", &events.GroupInfo{JID: group, Sender: by(aliceLID), Timestamp: at,
		Name: &types.GroupName{Name: "Book club 2026"}}, testGroup())
	changes("change_topic_unknown_name", &events.GroupInfo{JID: group, Sender: by(ownerLID), Timestamp: at,
		Topic: &types.GroupTopic{Topic: "Next: Dune"}}, nil)
	changes("change_topic_deleted", &events.GroupInfo{JID: group, Sender: by(aliceLID), Timestamp: at,
		Topic: &types.GroupTopic{TopicDeleted: true}}, testGroup())
	changes("change_settings_only", &events.GroupInfo{JID: group, Sender: by(aliceLID), Timestamp: at,
		Locked: &types.GroupLocked{IsLocked: false}, Announce: &types.GroupAnnounce{IsAnnounce: true}}, nil)
	changes("change_deleted", &events.GroupInfo{JID: group, Sender: by(aliceLID), Timestamp: at,
		Delete: &types.GroupDelete{Deleted: true}}, nil)

	picture := func(name string, evt *events.Picture, known *types.GroupInfo) {
		out, err := wt.EventJSON(ctx, convert.GroupPicture(ctx, env(), evt, known))
		if err != nil {
			t.Fatal(err)
		}
		check(name, out)
	}
	picture("picture_set", &events.Picture{JID: group, Author: aliceLID, Timestamp: at, PictureID: "1700000200"}, testGroup())
	picture("picture_removed", &events.Picture{JID: group, Author: ownerLID, Timestamp: at, Remove: true}, testGroup())
	picture("picture_unknown_group", &events.Picture{JID: group, Timestamp: at, PictureID: "1700000300"}, nil)

	joined := &events.JoinedGroup{Type: "new", Sender: by(aliceLID), SenderPN: by(alice), GroupInfo: *testGroup()}
	joined.GroupCreated = when
	out, err := wt.EventJSON(ctx, convert.JoinedGroup(ctx, env(), joined))
	if err != nil {
		t.Fatal(err)
	}
	check("joined", out)

	if !*update {
		wt.UnusedGoldens(t, dir, used)
	}
}

func TestGroupRole(t *testing.T) {
	for _, tc := range []struct {
		p    types.GroupParticipant
		want gateway.GroupRole
	}{
		{types.GroupParticipant{}, gateway.RoleMember},
		{types.GroupParticipant{IsAdmin: true}, gateway.RoleAdmin},
		{types.GroupParticipant{IsAdmin: true, IsSuperAdmin: true}, gateway.RoleOwner},
		{types.GroupParticipant{IsSuperAdmin: true}, gateway.RoleOwner},
	} {
		if got := convert.Role(tc.p); got != tc.want {
			t.Errorf("Role(%+v) = %s, want %s", tc.p, got, tc.want)
		}
	}
}

// TestGroupAnnounceReadOnly: an announcement group (only admins send) is
// read-only for the other members; an ordinary one is not.
func TestGroupAnnounceReadOnly(t *testing.T) {
	for _, announce := range []bool{false, true} {
		gi := testGroup()
		gi.IsAnnounce = announce
		got := convert.GroupInfo(context.Background(), env(), gi)
		if got.ReadOnly != announce {
			t.Errorf("announce %v: ReadOnly = %v", announce, got.ReadOnly)
		}
		if !got.MayWrite() { // the account is the group's creator
			t.Errorf("announce %v: the creator may not write", announce)
		}
	}
}
