package telegram_test

import (
	"testing"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// TestGroups: a basic group is listed with its name, description and
// members with roles; its messages arrive as group events, and a message
// sent to it reaches every member.
func TestGroups(t *testing.T) {
	f := newFixture(t)
	f.srv.AddUser(3003, "+15550003333", "Bob", "")
	f.srv.AddGroup(42, "Book club", "Monthly picks", aliceID, []int64{3003}, 3003, ownerID)
	acct, sess := f.connect(t)
	gm := sess.(gateway.GroupManager)
	groups, err := gm.ListGroups(f.ctx)
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	if len(groups) != 1 {
		t.Fatalf("ListGroups = %+v, want the book club", groups)
	}
	g := groups[0]
	if g.Chat != "g42" || g.Name != "Book club" || g.Topic != "Monthly picks" || g.Self != "1001" || !gm.IsGroup(g.Chat) || gm.IsGroup("2002") {
		t.Errorf("group = %+v", g)
	}
	roles := map[string]gateway.GroupRole{}
	for _, m := range g.Members {
		roles[string(m.User)] = m.Role
	}
	if roles["2002"] != gateway.RoleOwner || roles["3003"] != gateway.RoleAdmin || roles["1001"] != gateway.RoleMember {
		t.Errorf("roles = %v", roles)
	}

	if err := f.srv.SendGroup(aliceID, 42, "hello club"); err != nil {
		t.Fatal(err)
	}
	m := f.host.WaitEvent(t, gatewaytest.Is[*event.Message]).(*event.Message)
	if m.Chat != "g42" || !m.Group || m.Sender != convert.UserID(aliceID) || m.Body != "hello club" {
		t.Errorf("group message = %s", gatewaytest.Describe(m))
	}
	if _, err := sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: "g42"}, Body: "hi club"}); err != nil {
		t.Fatalf("SendMessage(group): %v", err)
	}
	for _, member := range []int64{aliceID, 3003} {
		if got, ok := f.srv.Find(member, "hi club"); !ok || got.FromID.(*tg.PeerUser).UserID != ownerID {
			t.Errorf("member %d did not get the message from the owner", member)
		}
	}
	if caps := sess.Capabilities("g42"); !caps.Edits || !caps.Reactions || caps.ReadMarkers || caps.ChatStates || !caps.Replies {
		t.Errorf("group capabilities = %+v, want edits, reactions and replies, no read markers or typing", caps)
	}
}
