package telegram_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

const carolID = 4004

// change matches a membership change of user in chat.
func change(chat ids.ChatID, user ids.UserID, a event.MembershipAction) func(event.Event) bool {
	return func(e event.Event) bool {
		mc, ok := e.(*event.MembershipChange)
		return ok && mc.Chat == chat && mc.User == user && mc.Action == a
	}
}

// TestGroupManagement: from XMPP the owner changes the description of a
// basic group and of a supergroup they created, adds, promotes, demotes
// and removes a member, leaves groups created by others (and may not
// change those), and creates a group; Telegram has each change, and each
// comes back to the hub once.
func TestGroupManagement(t *testing.T) {
	f := newFixture(t)
	f.srv.AddUser(carolID, "+15550004444", "Carol", "carol")
	f.srv.AddContact(ownerID, aliceID)
	f.srv.AddContact(ownerID, carolID)
	f.srv.AddGroup(42, "Own club", "", ownerID, nil, aliceID)
	f.srv.AddGroup(43, "Alice's club", "", aliceID, nil, ownerID)
	f.srv.AddChannel(telegramtest.Channel{ID: 77, Title: "Own gophers", Creator: ownerID, Members: []int64{aliceID}})
	f.srv.AddChannel(telegramtest.Channel{ID: 78, Title: "Alice's gophers", Creator: aliceID, Members: []int64{ownerID}})
	_, sess := f.connect(t)
	gm := sess.(gateway.GroupManager)
	about := func(chat ids.ChatID) (string, []int64, []int64) {
		if chat == "g42" || chat == "g43" {
			a, admins := f.srv.GroupAbout(map[ids.ChatID]int64{"g42": 42, "g43": 43}[chat])
			return a, f.srv.GroupMembers(map[ids.ChatID]int64{"g42": 42, "g43": 43}[chat]), admins
		}
		return f.srv.ChannelState(map[ids.ChatID]int64{"c77": 77, "c78": 78}[chat])
	}

	for _, tc := range []struct{ own, others ids.ChatID }{{"g42", "g43"}, {"c77", "c78"}} {
		t.Run(string(tc.own), func(t *testing.T) {
			chat := tc.own
			if err := gm.SetGroupTopic(f.ctx, chat, "Monthly picks"); err != nil {
				t.Fatalf("SetGroupTopic: %v", err)
			}
			if a, _, _ := about(chat); a != "Monthly picks" {
				t.Errorf("description on Telegram = %q", a)
			}
			ci := f.host.WaitEvent(t, func(e event.Event) bool {
				ci, ok := e.(*event.ChatInfo)
				return ok && ci.Chat == chat && ci.Topic == "Monthly picks"
			}).(*event.ChatInfo)
			if !ci.FromMe || ci.Sender != "1001" || !ci.Group {
				t.Errorf("description change = %+v", ci)
			}

			if err := gm.AddMember(f.ctx, chat, "4004"); err != nil {
				t.Fatalf("AddMember: %v", err)
			}
			if _, members, _ := about(chat); !slices.Contains(members, carolID) {
				t.Errorf("members on Telegram = %v, want Carol", members)
			}
			f.host.WaitEvent(t, change(chat, "4004", event.Joined))
			if err := gm.SetMemberRole(f.ctx, chat, "4004", gateway.RoleAdmin); err != nil {
				t.Fatalf("SetMemberRole(admin): %v", err)
			}
			if _, _, admins := about(chat); !slices.Contains(admins, carolID) {
				t.Errorf("admins on Telegram = %v, want Carol", admins)
			}
			f.host.WaitEvent(t, change(chat, "4004", event.Promoted))
			if err := gm.SetMemberRole(f.ctx, chat, "4004", gateway.RoleMember); err != nil {
				t.Fatalf("SetMemberRole(member): %v", err)
			}
			if _, _, admins := about(chat); slices.Contains(admins, carolID) {
				t.Errorf("admins on Telegram = %v, want Carol no more", admins)
			}
			f.host.WaitEvent(t, change(chat, "4004", event.Demoted))
			if err := gm.SetMemberRole(f.ctx, chat, "4004", gateway.RoleOwner); !errors.Is(err, gateway.ErrNotSupported) {
				t.Errorf("SetMemberRole(owner) = %v, want ErrNotSupported", err)
			}
			if err := gm.RemoveMember(f.ctx, chat, "4004"); err != nil {
				t.Fatalf("RemoveMember: %v", err)
			}
			if _, members, _ := about(chat); slices.Contains(members, carolID) {
				t.Errorf("members on Telegram = %v, want Carol gone", members)
			}
			f.host.WaitEvent(t, change(chat, "4004", event.Kicked))

			// In a group of Alice's the owner may not change the description.
			if err := gm.SetGroupTopic(f.ctx, tc.others, "mine"); !errors.Is(err, gateway.ErrForbidden) {
				t.Errorf("SetGroupTopic(not admin) = %v, want ErrForbidden", err)
			}
			if err := gm.LeaveGroup(f.ctx, tc.others); err != nil {
				t.Fatalf("LeaveGroup: %v", err)
			}
			if _, members, _ := about(tc.others); slices.Contains(members, ownerID) {
				t.Errorf("members of %s on Telegram = %v, want the owner gone", tc.others, members)
			}
			f.host.WaitEvent(t, change(tc.others, "1001", event.Left))

			// Each change came once.
			for _, a := range []event.MembershipAction{event.Joined, event.Kicked, event.Promoted, event.Demoted} {
				if n := len(f.host.EventsFor(change(chat, "4004", a))); n != 1 {
					t.Errorf("%s: %d events, want 1", a, n)
				}
			}
			if n := len(f.host.EventsFor(change(tc.others, "1001", event.Left))); n != 1 {
				t.Errorf("left: %d events, want 1", n)
			}
		})
	}

	chat, err := gm.CreateGroup(f.ctx, "New club", []ids.UserID{"2002", "4004"})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	gi, err := gm.GroupInfo(f.ctx, chat)
	if err != nil {
		t.Fatalf("GroupInfo(new group): %v", err)
	}
	if r := roles(gi); gi.Name != "New club" || len(r) != 3 || r["1001"] != gateway.RoleOwner || r["2002"] != gateway.RoleMember {
		t.Errorf("new group = %+v", gi)
	}
	if _, err := gm.CreateGroup(f.ctx, "", nil); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("CreateGroup(no name) = %v, want ErrBadRequest", err)
	}
	if err := gm.AddMember(f.ctx, "2002", "4004"); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("AddMember(not a group) = %v, want ErrUnknownChat", err)
	}
}
