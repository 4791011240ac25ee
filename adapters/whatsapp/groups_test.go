package whatsapp_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var (
	groupJID  = types.NewJID("120363000000000001", types.GroupServer)
	groupChat = ids.ChatID("group-120363000000000001")
	aliceLID  = wt.LID("900000001111")
	bobLID    = wt.LID("900000002222")
)

// bookClub is a LID-addressed group: the owner created it, Alice is an
// admin, Bob (number unknown) a member.
func bookClub() *types.GroupInfo {
	gi := &types.GroupInfo{JID: groupJID, AddressingMode: types.AddressingModeLID,
		Participants: []types.GroupParticipant{
			{JID: wt.LID(ownerLID), PhoneNumber: wt.PN(ownerPhone), LID: wt.LID(ownerLID), IsAdmin: true, IsSuperAdmin: true},
			{JID: aliceLID, PhoneNumber: alice, LID: aliceLID, IsAdmin: true},
			{JID: bobLID, LID: bobLID},
		}}
	gi.Name, gi.Topic, gi.IsLocked = "Book club", "Monthly picks", true
	return gi
}

func TestGroupManager(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	c.SetGroups(bookClub(), &types.GroupInfo{JID: types.NewJID("120363000000000009", types.GroupServer),
		GroupParent: types.GroupParent{IsParent: true}})

	if !s.IsGroup(groupChat) || s.IsGroup(aliceChat) {
		t.Error("IsGroup does not tell groups from one-to-one chats")
	}
	list, err := s.ListGroups(e.ctx)
	if err != nil || len(list) != 1 || list[0].Chat != groupChat || list[0].Name != "Book club" {
		t.Fatalf("ListGroups = %+v, %v; want the book club only (not the community)", list, err)
	}
	gi, err := s.GroupInfo(e.ctx, groupChat)
	if err != nil {
		t.Fatal(err)
	}
	if gi.Self != ids.UserID(s.Account()) || gi.Topic != "Monthly picks" || !gi.TopicByAdminsOnly {
		t.Errorf("GroupInfo = %+v", gi)
	}
	var members []string
	for _, m := range gi.Members {
		members = append(members, string(m.User)+"/"+m.Role.String())
	}
	if want := []string{ownerPhone + "/owner", alicePhone + "/admin", "lid-900000002222/member"}; !slices.Equal(members, want) {
		t.Errorf("members = %v, want %v", members, want)
	}

	// Administration goes through the client.
	if err := s.SetGroupTopic(e.ctx, groupChat, " Next: Dune "); err != nil {
		t.Fatal(err)
	}
	if got := c.TopicChanges(); len(got) != 1 || got[0] != (wt.TopicChange{Group: groupJID, Topic: "Next: Dune"}) {
		t.Errorf("topic changes = %+v", got)
	}
	steps := []struct {
		do   func() error
		want wt.ParticipantUpdate
	}{
		{func() error { return s.AddMember(e.ctx, groupChat, "+15550004444") }, wt.ParticipantUpdate{Group: groupJID, Users: []types.JID{wt.PN("+15550004444")}, Action: whatsmeow.ParticipantChangeAdd}},
		{func() error { return s.SetMemberRole(e.ctx, groupChat, "lid-900000002222", gateway.RoleAdmin) }, wt.ParticipantUpdate{Group: groupJID, Users: []types.JID{bobLID}, Action: whatsmeow.ParticipantChangePromote}},
		{func() error { return s.SetMemberRole(e.ctx, groupChat, alicePhone, gateway.RoleMember) }, wt.ParticipantUpdate{Group: groupJID, Users: []types.JID{alice}, Action: whatsmeow.ParticipantChangeDemote}},
		{func() error { return s.RemoveMember(e.ctx, groupChat, "+15550004444") }, wt.ParticipantUpdate{Group: groupJID, Users: []types.JID{wt.PN("+15550004444")}, Action: whatsmeow.ParticipantChangeRemove}},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := c.ParticipantUpdates()
		if len(got) != i+1 || got[i].Group != st.want.Group || got[i].Action != st.want.Action || !slices.Equal(got[i].Users, st.want.Users) {
			t.Errorf("step %d: updates = %+v, want last %+v", i, got, st.want)
		}
	}
	if err := s.SetMemberRole(e.ctx, groupChat, alicePhone, gateway.RoleOwner); !errors.Is(err, gateway.ErrNotSupported) {
		t.Errorf("making someone owner = %v, want ErrNotSupported", err)
	}
	if err := s.RemoveMember(e.ctx, groupChat, "+15550009999"); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("removing a non-member = %v, want ErrUnknownChat", err)
	}

	// Errors.
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"unknown group", s.SetGroupTopic(e.ctx, "group-120363999999999999", "x"), gateway.ErrUnknownChat},
		{"not a group", s.LeaveGroup(e.ctx, aliceChat), gateway.ErrUnknownChat},
		{"member not whatsapp", s.AddMember(e.ctx, groupChat, "alice"), gateway.ErrUnknownChat},
		{"group info unknown", func() error { _, err := s.GroupInfo(e.ctx, "group-120363999999999999"); return err }(), gateway.ErrUnknownChat},
		{"empty name", func() error { _, err := s.CreateGroup(e.ctx, " ", nil); return err }(), gateway.ErrBadRequest},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	c.Lock()
	c.GroupErr = &whatsmeow.IQError{Code: 403, Text: "forbidden"}
	c.Unlock()
	if err := s.SetGroupTopic(e.ctx, groupChat, "mine now"); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("SetGroupTopic refused by WhatsApp = %v, want ErrForbidden", err)
	}
	if err := s.RemoveMember(e.ctx, groupChat, alicePhone); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("RemoveMember refused by WhatsApp = %v, want ErrForbidden", err)
	}
	c.Lock()
	c.GroupErr = nil
	c.Unlock()

	// Creating and leaving.
	chat, err := s.CreateGroup(e.ctx, "Trip", []ids.UserID{alicePhone, ids.UserID(s.Account())})
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsGroup(chat) {
		t.Errorf("CreateGroup = %q, not a group", chat)
	}
	if got := c.GroupsCreated(); len(got) != 1 || got[0].Name != "Trip" || !slices.Equal(got[0].Participants, []types.JID{alice}) {
		t.Errorf("created = %+v", got)
	}
	if gi, err := s.GroupInfo(e.ctx, chat); err != nil || gi.Name != "Trip" || len(gi.Members) != 2 {
		t.Errorf("the new group: %+v, %v", gi, err)
	}
	if err := s.LeaveGroup(e.ctx, chat); err != nil {
		t.Fatal(err)
	}
	if got := c.GroupsLeft(); len(got) != 1 || convertChat(got[0]) != chat {
		t.Errorf("left = %v", got)
	}
}

func convertChat(jid types.JID) ids.ChatID { return ids.ChatID("group-" + jid.User) }

// TestGroupInbound: group messages, membership and name changes and the
// account joining a group reach the hub as group events.
func TestGroupInbound(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	c.SetGroups(bookClub())
	if _, err := s.GroupInfo(e.ctx, groupChat); err != nil {
		t.Fatal(err)
	}
	before := len(e.h.Events())
	by := func(j types.JID) *types.JID { return &j }
	for i, evt := range []any{
		wt.Msg{Chat: groupJID, Sender: aliceLID, SenderAlt: alice, ID: "G1", Time: when}.Event(textMsg("hello club")),
		wt.Msg{Chat: groupJID, Sender: bobLID, ID: "G2", Time: when}.Event(wt.Builder(bobLID).BuildReaction(groupJID, aliceLID, "G1", "👍")),
		&events.GroupInfo{JID: groupJID, Sender: by(aliceLID), SenderPN: by(alice), Timestamp: when, Name: &types.GroupName{Name: "Book club 2026"}},
		&events.GroupInfo{JID: groupJID, Sender: by(aliceLID), Timestamp: when, Join: []types.JID{wt.PN("+15550004444")}, Promote: []types.JID{bobLID}},
		&events.GroupInfo{JID: groupJID, Sender: by(aliceLID), Timestamp: when, Leave: []types.JID{bobLID}},
		&events.JoinedGroup{Type: "new", Sender: by(aliceLID), GroupInfo: types.GroupInfo{JID: types.NewJID("120363000000000002", types.GroupServer),
			GroupName: types.GroupName{Name: "Trip"}, Participants: []types.GroupParticipant{{JID: aliceLID, IsSuperAdmin: true}, {JID: wt.LID(ownerLID)}}}},
	} {
		if !c.Dispatch(evt) {
			t.Errorf("event %d (%T) not acknowledged", i, evt)
		}
	}
	got := e.h.Events()[before:]
	if len(got) != 7 {
		t.Fatalf("%d events, want 7:\n%s", len(got), e.h.Dump())
	}
	for _, ev := range got {
		if ev.EventMeta().Account != acct || !s.IsGroup(ev.EventMeta().Chat) {
			t.Errorf("not an event of a group of the account: %+v", ev)
		}
	}
	if m, ok := got[0].(*event.Message); !ok || m.Chat != groupChat || m.Sender != alicePhone || m.ID != alicePhone+":G1" || m.Body != "hello club" {
		t.Errorf("group message = %+v", got[0])
	}
	if r, ok := got[1].(*event.Reaction); !ok || r.Sender != "lid-900000002222" || r.Target != alicePhone+":G1" {
		t.Errorf("group reaction = %+v", got[1])
	}
	// The name changed; the topic, known from GroupInfo, is kept.
	if ci, ok := got[2].(*event.ChatInfo); !ok || !ci.IsGroup || ci.Name != "Book club 2026" || ci.Topic != "Monthly picks" || ci.Sender != alicePhone {
		t.Errorf("name change = %+v", got[2])
	}
	wantMembers := []string{"+15550004444 joined", "lid-900000002222 promoted", "lid-900000002222 kicked"}
	for i, w := range wantMembers {
		mc, ok := got[3+i].(*event.MembershipChange)
		if !ok || string(mc.User)+" "+string(mc.Action) != w || mc.Chat != groupChat {
			t.Errorf("membership change %d = %+v, want %s", i, got[3+i], w)
		}
	}
	if ci, ok := got[6].(*event.ChatInfo); !ok || !ci.IsGroup || ci.Chat != "group-120363000000000002" || ci.Name != "Trip" ||
		!slices.Equal(ci.Members, []ids.UserID{alicePhone, ids.UserID(acct)}) {
		t.Errorf("joined group = %+v", got[6])
	}
}

// TestGroupOutboundGolden: what the adapter hands to WhatsApp for a
// group: the group JID as recipient, replies and reactions naming the
// participant in the addressing WhatsApp used for them (here their LID).
func TestGroupOutboundGolden(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	c.SetGroups(bookClub())
	// Alice writes first (LID-addressed, her number given along).
	c.Dispatch(wt.Msg{Chat: groupJID, Sender: aliceLID, SenderAlt: alice, ID: "G1", Time: when}.Event(textMsg("hello club")))
	meta := event.Meta{Account: acct, Chat: groupChat, Sender: ids.UserID(acct), FromMe: true}
	type call func() (ids.MessageID, error)
	noID := func(f func() error) call { return func() (ids.MessageID, error) { return "", f() } }
	cases := []struct {
		name string
		call call
	}{
		{"text", func() (ids.MessageID, error) { return s.SendMessage(e.ctx, &event.Message{Meta: meta, Body: "hi all"}) }},
		{"reply_to_member", func() (ids.MessageID, error) {
			return s.SendMessage(e.ctx, &event.Message{Meta: meta, Body: "agreed", ReplyTo: alicePhone + ":G1", ReplyToSender: alicePhone, ReplyQuote: "hello club",
				Mentions: []ids.UserID{"lid-900000002222"}})
		}},
		{"reaction_to_member", noID(func() error {
			return s.SendReaction(e.ctx, &event.Reaction{Meta: meta, Target: alicePhone + ":G1", Emojis: []string{"❤️"}})
		})},
		{"edit", noID(func() error {
			id, err := s.SendMessage(e.ctx, &event.Message{Meta: meta, Body: "helo"})
			if err != nil {
				return err
			}
			return s.EditMessage(e.ctx, &event.Edit{Meta: meta, Target: id, Body: "hello"})
		})},
		{"retract", noID(func() error { return s.RetractMessage(e.ctx, &event.Retract{Meta: meta, Target: "me:3EB0OLD"}) })},
	}
	used := map[string]bool{}
	dir := filepath.Join("testdata", "groups")
	for _, tc := range cases {
		used[tc.name+".golden"] = true
		t.Run(tc.name, func(t *testing.T) {
			sb, ub := len(c.Sent()), len(c.Uploads())
			id, err := tc.call()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			wt.Golden(t, filepath.Join(dir, tc.name+".golden"), outboundGolden(t, c, sb, ub, id), *update)
		})
	}
	if !*update {
		wt.UnusedGoldens(t, dir, used)
	}
	for _, sent := range c.Sent() {
		if sent.To != groupJID {
			t.Errorf("sent to %s, want the group", sent.To)
		}
	}
	if err := s.SendReaction(e.ctx, &event.Reaction{Meta: meta, Target: "G1", Emojis: []string{"👍"}}); !errors.Is(err, gateway.ErrTargetNotFound) {
		t.Errorf("reaction to a group message without author = %v, want ErrTargetNotFound", err)
	}

	// Read markers go per author.
	err := s.SendReceipt(e.ctx, &event.Receipt{Meta: meta, Kind: event.Displayed,
		Targets: []ids.MessageID{alicePhone + ":G1", "lid-900000002222:G2", alicePhone + ":G3", "me:3EB0OLD"}})
	if err != nil {
		t.Fatal(err)
	}
	reads := c.Reads()
	if len(reads) != 2 || reads[0].Sender != aliceLID || !slices.Equal(reads[0].IDs, []types.MessageID{"G1", "G3"}) ||
		reads[1].Sender != bobLID || reads[0].Chat != groupJID {
		t.Errorf("reads = %+v", reads)
	}
}
