package telegram_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

const bobID = 3003

// body matches a message event with the given body.
func body(text string) func(event.Event) bool {
	return func(e event.Event) bool { m, ok := e.(*event.Message); return ok && m.Body == text }
}

func groupOf(t *testing.T, gs []gateway.GroupInfo, chat ids.ChatID) gateway.GroupInfo {
	t.Helper()
	for _, g := range gs {
		if g.Chat == chat {
			return g
		}
	}
	t.Fatalf("no group %s among %+v", chat, gs)
	return gateway.GroupInfo{}
}

func roles(gi gateway.GroupInfo) map[ids.UserID]gateway.GroupRole {
	out := map[ids.UserID]gateway.GroupRole{}
	for _, m := range gi.Members {
		out[m.User] = m.Role
	}
	return out
}

// TestSupergroup: a supergroup is a room (#c77) with all its members and
// their roles; its messages arrive with their authors, a message sent to
// it is posted by the owner and not echoed back; edits and deletions on
// Telegram arrive.
func TestSupergroup(t *testing.T) {
	f := newFixture(t)
	f.srv.AddUser(bobID, "+15550003333", "Bob", "")
	f.srv.AddChannel(telegramtest.Channel{ID: 77, Title: "Gophers", About: "Go talk", Creator: aliceID, Admins: []int64{bobID}, Members: []int64{bobID, ownerID}})
	acct, sess := f.connect(t)
	gm := sess.(gateway.GroupManager)
	groups, err := gm.ListGroups(f.ctx)
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	g := groupOf(t, groups, "c77")
	if g.Name != "Gophers" || g.Topic != "Go talk" || g.Self != "1001" || g.ReadOnly || g.MemberCount != 0 || !gm.IsGroup("c77") {
		t.Errorf("supergroup = %+v", g)
	}
	if r := roles(g); len(r) != 3 || r["2002"] != gateway.RoleOwner || r["3003"] != gateway.RoleAdmin || r["1001"] != gateway.RoleMember {
		t.Errorf("roles = %v", r)
	}

	if _, err := f.srv.Post(aliceID, 77, 0, "hello gophers"); err != nil {
		t.Fatal(err)
	}
	m := f.host.WaitEvent(t, body("hello gophers")).(*event.Message)
	if m.Chat != "c77" || !m.Group || m.Sender != "2002" || m.FromMe {
		t.Errorf("supergroup message = %s", gatewaytest.Describe(m))
	}
	id, err := sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: "c77"}, Body: "hi gophers", ReplyTo: m.ID})
	if err != nil {
		t.Fatalf("SendMessage(supergroup): %v", err)
	}
	msgs := f.srv.ChannelMessages(77)
	last := msgs[len(msgs)-1]
	if last.Message != "hi gophers" || last.FromID.(*tg.PeerUser).UserID != ownerID || fmt.Sprint(last.ID) != string(id) {
		t.Errorf("posted = %+v, id %s", last, id)
	}
	if h, ok := last.ReplyTo.(*tg.MessageReplyHeader); !ok || fmt.Sprint(h.ReplyToMsgID) != string(m.ID) {
		t.Errorf("reply header = %+v, want a reply to %s", last.ReplyTo, m.ID)
	}
	// In order after Bob's next message: the owner's own post was not
	// echoed back as news.
	welcome, err := f.srv.Post(bobID, 77, 0, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	f.host.WaitEvent(t, body("welcome"))
	if evs := f.host.EventsFor(body("hi gophers")); len(evs) != 0 {
		t.Errorf("the owner's post came back: %v", evs)
	}
	// Alice's edit and Bob's deletion on Telegram arrive.
	if err := f.srv.EditPost(77, convertID(t, m.ID), "hello, gophers"); err != nil {
		t.Fatal(err)
	}
	ed := f.host.WaitEvent(t, gatewaytest.Is[*event.Edit]).(*event.Edit)
	if ed.Chat != "c77" || ed.Target != m.ID || ed.Body != "hello, gophers" || ed.Sender != "2002" {
		t.Errorf("edit = %s", gatewaytest.Describe(ed))
	}
	if err := f.srv.DeletePosts(77, welcome); err != nil {
		t.Fatal(err)
	}
	del := f.host.WaitEvent(t, gatewaytest.Is[*event.Retract]).(*event.Retract)
	if del.Chat != "c77" || del.Target != ids.MessageID(fmt.Sprint(welcome)) || del.Sender != "3003" || !del.Group {
		t.Errorf("deletion = %s", gatewaytest.Describe(del))
	}
	if caps := sess.Capabilities("c77"); !caps.Replies || !caps.Edits || caps.MaxFileSize == 0 || caps.ReadMarkers {
		t.Errorf("supergroup capabilities = %+v", caps) // what they allow: TestGroupWrites
	}
}

// TestBroadcastChannel: a channel where only admins post is a read-only
// group; its posts come from the channel itself (a member named after
// it), and a post of the owner, who is no admin, is refused as forbidden.
// Its subscribers are not listed: the group says how many there are.
func TestBroadcastChannel(t *testing.T) {
	f := newFixture(t)
	f.srv.AddChannel(telegramtest.Channel{ID: 78, Title: "News", Broadcast: true, Creator: aliceID, Members: []int64{ownerID}, Hidden: 5000})
	acct, sess := f.connect(t)
	gi, err := sess.(gateway.GroupManager).GroupInfo(f.ctx, "c78")
	if err != nil {
		t.Fatalf("GroupInfo: %v", err)
	}
	if !gi.ReadOnly || gi.MayWrite() || gi.Size() != 5003 || gi.MemberCount != 5003 {
		t.Errorf("channel = %+v (size %d), want read-only, not writable, 5000 hidden + 2 + the channel", gi, gi.Size())
	}
	if r := roles(gi); r["c78"] != gateway.RoleOwner || r["2002"] != gateway.RoleOwner || r["1001"] != gateway.RoleMember {
		t.Errorf("roles = %v, want the channel and its creator as owners, the account a member", r)
	}
	if m, _ := gi.Member("c78"); m.Name != "News" {
		t.Errorf("the channel's member = %+v, want it named News", m)
	}
	if _, err := f.srv.Post(aliceID, 78, 0, "issue 1"); err != nil {
		t.Fatal(err)
	}
	m := f.host.WaitEvent(t, body("issue 1")).(*event.Message)
	if m.Chat != "c78" || m.Sender != "c78" || !m.Group {
		t.Errorf("post = %s, want from the channel c78", gatewaytest.Describe(m))
	}
	_, err = sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: "c78"}, Body: "may I?"})
	if !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("post to a broadcast channel = %v, want ErrForbidden", err)
	}
}

// TestLargeSupergroup: a group too large to list shows its admins and the
// account, and its size.
func TestLargeSupergroup(t *testing.T) {
	f := newFixture(t)
	f.srv.AddUser(bobID, "+15550003333", "Bob", "")
	f.srv.AddChannel(telegramtest.Channel{ID: 79, Title: "Everyone", Creator: aliceID, Admins: []int64{bobID}, Members: []int64{bobID, ownerID}, Hidden: 100000})
	_, sess := f.connect(t)
	gi, err := sess.(gateway.GroupManager).GroupInfo(f.ctx, "c79")
	if err != nil {
		t.Fatalf("GroupInfo: %v", err)
	}
	if r := roles(gi); len(r) != 3 || r["2002"] != gateway.RoleOwner || r["3003"] != gateway.RoleAdmin || r["1001"] != gateway.RoleMember {
		t.Errorf("listed = %v, want the admins and the account", r)
	}
	if gi.MemberCount != 100003 || gi.ReadOnly {
		t.Errorf("group = %+v, want 100003 members, writable", gi)
	}
	if f.srv.Calls("channels.getParticipants") == 0 {
		t.Error("channels.getParticipants not called")
	}
}

// TestForumTopics: each topic of a forum is a room of its own
// (#c80t<topic>), the General topic the forum's room; messages go to and
// come from the topic they belong to.
func TestForumTopics(t *testing.T) {
	f := newFixture(t)
	f.srv.AddChannel(telegramtest.Channel{ID: 80, Title: "Project", Forum: true, Creator: aliceID, Members: []int64{ownerID}})
	topic, err := f.srv.AddTopic(aliceID, 80, "Releases")
	if err != nil {
		t.Fatal(err)
	}
	acct, sess := f.connect(t)
	chat := ids.ChatID(fmt.Sprintf("c80t%d", topic))
	groups, err := sess.(gateway.GroupManager).ListGroups(f.ctx)
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	if g := groupOf(t, groups, chat); g.Name != "Project / Releases" {
		t.Errorf("topic room = %+v", g)
	}
	if g := groupOf(t, groups, "c80"); g.Name != "Project" {
		t.Errorf("forum room = %+v", g)
	}
	if gi, err := sess.(gateway.GroupManager).GroupInfo(f.ctx, chat); err != nil || gi.Name != "Project / Releases" {
		t.Errorf("GroupInfo(topic) = %+v, %v", gi, err)
	}
	if _, err := f.srv.Post(aliceID, 80, topic, "v1.0 is out"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Post(aliceID, 80, 0, "general chat"); err != nil {
		t.Fatal(err)
	}
	inTopic := f.host.WaitEvent(t, body("v1.0 is out")).(*event.Message)
	general := f.host.WaitEvent(t, body("general chat")).(*event.Message)
	if inTopic.Chat != chat || inTopic.ReplyTo != "" || general.Chat != "c80" {
		t.Errorf("topic message %s, general %s", gatewaytest.Describe(inTopic), gatewaytest.Describe(general))
	}
	if _, err := sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: chat}, Body: "congrats"}); err != nil {
		t.Fatalf("SendMessage(topic): %v", err)
	}
	msgs := f.srv.ChannelMessages(80)
	last := msgs[len(msgs)-1]
	if h, ok := last.ReplyTo.(*tg.MessageReplyHeader); last.Message != "congrats" || !ok || !h.ForumTopic || h.ReplyToMsgID != topic {
		t.Errorf("posted = %+v, want it in topic %d", last, topic)
	}
	if _, err := sess.(gateway.GroupManager).GroupInfo(f.ctx, "c80t999"); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("GroupInfo(no such topic) = %v, want ErrUnknownChat", err)
	}
}

// TestChannelGap: a channel update whose pts leaves a gap (a lost push)
// makes the session fetch the channel's difference, so the lost message
// arrives, before the one that showed the gap, once each; a catch-up
// after a dropped connection fetches each channel's difference too.
func TestChannelGap(t *testing.T) {
	f := newFixture(t)
	f.srv.AddChannel(telegramtest.Channel{ID: 81, Title: "Gaps", Creator: aliceID, Members: []int64{ownerID}})
	_, _ = f.connect(t)
	if _, err := f.srv.Post(aliceID, 81, 0, "one"); err != nil {
		t.Fatal(err)
	}
	f.host.WaitEvent(t, body("one"))
	if err := f.srv.PostUnseen(aliceID, 81, "lost"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Post(aliceID, 81, 0, "three"); err != nil {
		t.Fatal(err)
	}
	got := f.host.WaitEvents(t, 3, gatewaytest.Is[*event.Message])
	var bodies []string
	for _, m := range got {
		bodies = append(bodies, m.(*event.Message).Body)
	}
	if want := []string{"one", "lost", "three"}; !equal(bodies, want) {
		t.Errorf("messages = %q, want %q", bodies, want)
	}
	if f.srv.Calls("updates.getChannelDifference") == 0 {
		t.Error("the gap did not fetch updates.getChannelDifference")
	}

	f.srv.Disconnect(ownerID)
	if _, err := f.srv.Post(aliceID, 81, 0, "while away"); err != nil {
		t.Fatal(err)
	}
	f.srv.Reconnectable(ownerID)
	f.host.WaitEvent(t, body("while away"))
	if n := len(f.host.EventsFor(gatewaytest.Is[*event.Message])); n != 4 {
		t.Errorf("%d messages emitted, want 4 (each once)", n)
	}
}

func convertID(t *testing.T, id ids.MessageID) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(string(id), &n); err != nil {
		t.Fatalf("message id %q: %v", id, err)
	}
	return n
}
