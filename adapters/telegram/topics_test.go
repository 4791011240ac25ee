package telegram_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// roomInfo matches a ChatInfo of chat.
func roomInfo(chat ids.ChatID) func(event.Event) bool {
	return func(e event.Event) bool { ci, ok := e.(*event.ChatInfo); return ok && ci.Chat == chat }
}

// TestTopicAnnounced: a topic opened in a forum while the account is
// connected is announced as a new room (a ChatInfo with its name, which
// makes the XMPP side invite the owner); closing it makes the room
// read-only (ChatInfo.ReadOnly, GroupInfo.ReadOnly, a send refused),
// reopening it writable again. In process and out of process (the
// adapter protocol carries ChatInfo.ReadOnly).
func TestTopicAnnounced(t *testing.T) {
	t.Run("in process", func(t *testing.T) { testTopicAnnounced(t, newFixture(t)) })
	t.Run("remote", func(t *testing.T) { testTopicAnnounced(t, newRemoteFixture(t)) })
}

func testTopicAnnounced(t *testing.T, f *fixture) {
	f.srv.AddChannel(telegramtest.Channel{ID: 80, Title: "Project", Forum: true, Creator: aliceID, Members: []int64{ownerID}})
	acct, sess := f.connect(t)
	gm := sess.(gateway.GroupManager)

	topic, err := f.srv.AddTopic(aliceID, 80, "Roadmap")
	if err != nil {
		t.Fatal(err)
	}
	chat := ids.ChatID(fmt.Sprintf("c80t%d", topic))
	ci := f.host.WaitEvent(t, roomInfo(chat)).(*event.ChatInfo)
	if ci.Name != "Project / Roadmap" || !ci.IsGroup || !ci.Group || ci.ReadOnly == nil || *ci.ReadOnly || ci.Sender != "2002" {
		t.Errorf("new topic = %+v", ci)
	}
	if !gm.IsGroup(chat) {
		t.Errorf("IsGroup(%s) = false", chat)
	}

	if err := f.srv.CloseTopic(aliceID, 80, topic, true); err != nil {
		t.Fatal(err)
	}
	closed := f.host.WaitEvents(t, 2, roomInfo(chat))[1].(*event.ChatInfo)
	if closed.ReadOnly == nil || !*closed.ReadOnly || closed.Name != "Project / Roadmap" {
		t.Errorf("topic closed = %+v", closed)
	}
	if gi, err := gm.GroupInfo(f.ctx, chat); err != nil || !gi.ReadOnly || gi.MayWrite() {
		t.Errorf("GroupInfo(closed topic) = %+v, %v; want read-only", gi, err)
	}
	if _, err := sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: chat}, Body: "anyone?"}); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("SendMessage(closed topic) = %v, want ErrForbidden", err)
	}
	if gi, err := gm.GroupInfo(f.ctx, "c80"); err != nil || gi.ReadOnly {
		t.Errorf("the forum's own room = %+v, %v; want writable", gi, err)
	}

	if err := f.srv.CloseTopic(aliceID, 80, topic, false); err != nil {
		t.Fatal(err)
	}
	reopened := f.host.WaitEvents(t, 3, roomInfo(chat))[2].(*event.ChatInfo)
	if reopened.ReadOnly == nil || *reopened.ReadOnly {
		t.Errorf("topic reopened = %+v", reopened)
	}
	if _, err := sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: chat}, Body: "back"}); err != nil {
		t.Errorf("SendMessage(reopened topic): %v", err)
	}
}
