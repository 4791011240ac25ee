package whatsapp_test

import (
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// expirationOf is the timer a sent message carries (0: none).
func expirationOf(m *waE2E.Message) uint32 {
	switch {
	case m.GetExtendedTextMessage() != nil:
		return m.GetExtendedTextMessage().GetContextInfo().GetExpiration()
	case m.GetImageMessage() != nil:
		return m.GetImageMessage().GetContextInfo().GetExpiration()
	case m.GetDocumentWithCaptionMessage() != nil:
		return m.GetDocumentWithCaptionMessage().GetMessage().GetDocumentMessage().GetContextInfo().GetExpiration()
	}
	return 0
}

// lastSent is the last message the fake client sent.
func lastSent(t *testing.T, c *wt.Client) *waE2E.Message {
	t.Helper()
	sent := c.Sent()
	if len(sent) == 0 {
		t.Fatal("nothing sent")
	}
	return sent[len(sent)-1].Message
}

// TestDisappearingTimer: a chat's timer is learnt from the messages
// received (ContextInfo.Expiration), from a contact changing it
// (EPHEMERAL_SETTING, told to the owner) and from groups; every message
// sent into the chat carries it, and it survives a restart.
func TestDisappearingTimer(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	send := func(t *testing.T, m *event.Message) *waE2E.Message {
		t.Helper()
		m.Account = acct
		if _, err := s.SendMessage(e.ctx, m); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		return lastSent(t, c)
	}

	// No timer: a plain text.
	if m := send(t, text(s, "hi")); m.GetConversation() != "hi" || expirationOf(m) != 0 {
		t.Fatalf("without a timer sent %v", m)
	}

	// A message in a chat with a 7-day timer teaches it.
	week := uint32(7 * 24 * 3600)
	c.Dispatch(wt.Msg{Chat: alice, ID: "D1", Time: when}.Event(&waE2E.Message{EphemeralMessage: &waE2E.FutureProofMessage{
		Message: &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("vanishing"),
			ContextInfo: &waE2E.ContextInfo{Expiration: proto.Uint32(week)}}}}}))
	if m := send(t, text(s, "ok")); m.GetExtendedTextMessage().GetText() != "ok" || expirationOf(m) != week {
		t.Errorf("after a 7-day message sent %v, want the text with Expiration %d", m, week)
	}

	// Alice sets it to 24 hours: the owner is told, photos carry it too.
	before := len(e.h.Events())
	day := uint32(24 * 3600)
	c.Dispatch(wt.Msg{Chat: alice, ID: "D2", Time: when}.Event(&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_EPHEMERAL_SETTING.Enum(), EphemeralExpiration: proto.Uint32(day)}}))
	notices := e.h.Events()[before:]
	if len(notices) != 1 {
		t.Fatalf("timer change emitted %d events, want one notice", len(notices))
	}
	n, ok := notices[0].(*event.Message)
	if !ok || n.Chat != aliceChat || n.ID != "D2" || !strings.Contains(n.Body, "turned on disappearing messages") || !strings.Contains(n.Body, "1 day") {
		t.Errorf("notice = %+v", notices[0])
	}
	m := send(t, &event.Message{Meta: event.Meta{Chat: aliceChat}, Body: "look",
		Attachments: []event.Attachment{file("a.jpg", "image/jpeg", event.KindImage, jpegImage(t, 8, 8))}})
	if expirationOf(m) != day {
		t.Errorf("photo sent with Expiration %d, want %d", expirationOf(m), day)
	}

	// A restart keeps the timer (account KV).
	s.Disconnect()
	s2, err := e.a.LoadSession(e.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	s2.Connect(e.ctx)
	e.waitState(acct, event.StateConnected, len(e.h.StateChanges())-1)
	if _, err := s2.SendMessage(e.ctx, text(s2.(*whatsapp.Session), "still")); err != nil {
		t.Fatal(err)
	}
	c2 := e.f.Clients()[len(e.f.Clients())-1]
	if m := lastSent(t, c2); expirationOf(m) != day {
		t.Errorf("after a restart sent %v, want Expiration %d", m, day)
	}
	s = s2.(*whatsapp.Session)
	c = c2

	// Turned off: told, and texts are plain again.
	c.Dispatch(wt.Msg{Chat: alice, ID: "D3", Time: when}.Event(&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_EPHEMERAL_SETTING.Enum(), EphemeralExpiration: proto.Uint32(0)}}))
	last := e.h.Events()[len(e.h.Events())-1].(*event.Message)
	if !strings.Contains(last.Body, "turned off disappearing messages") {
		t.Errorf("off notice = %q", last.Body)
	}
	if m := send(t, text(s, "plain")); m.GetConversation() != "plain" {
		t.Errorf("after the timer was turned off sent %v", m)
	}
}

// TestDisappearingTimerInGroups: the timer of a group comes from its info
// and from the group's setting change, which the room is told.
func TestDisappearingTimerInGroups(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	g := bookClub()
	g.IsEphemeral, g.DisappearingTimer = true, 90*24*3600
	c.SetGroups(g)
	if _, err := s.ListGroups(e.ctx); err != nil {
		t.Fatal(err)
	}
	msg := &event.Message{Meta: event.Meta{Account: s.Account(), Chat: groupChat}, Body: "hello club"}
	if _, err := s.SendMessage(e.ctx, msg); err != nil {
		t.Fatal(err)
	}
	if m := lastSent(t, c); expirationOf(m) != 90*24*3600 {
		t.Errorf("group message sent %v, want the group's 90-day timer", m)
	}
	before := len(e.h.Events())
	c.Dispatch(&events.GroupInfo{JID: groupJID, Sender: &aliceLID, SenderPN: &alice, Timestamp: when,
		Ephemeral: &types.GroupEphemeral{IsEphemeral: true, DisappearingTimer: 3600}})
	got := e.h.Events()[before:]
	if len(got) != 1 {
		t.Fatalf("group timer change emitted %d events: %v", len(got), got)
	}
	n := got[0].(*event.Message)
	if n.Chat != groupChat || n.Sender != ids.UserID(alicePhone) || !strings.Contains(n.Body, "1 hour") {
		t.Errorf("group notice = %+v", n)
	}
	// The same change as a setting message in the group: no second notice.
	before = len(e.h.Events())
	c.Dispatch(wt.Msg{Chat: groupJID, Sender: aliceLID, ID: "D9", Time: when}.Event(&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_EPHEMERAL_SETTING.Enum(), EphemeralExpiration: proto.Uint32(3600)}}))
	if got := e.h.Events()[before:]; len(got) != 0 {
		t.Errorf("the same timer told twice: %v", got)
	}
	if _, err := s.SendMessage(e.ctx, &event.Message{Meta: msg.Meta, Body: "again"}); err != nil {
		t.Fatal(err)
	}
	if m := lastSent(t, c); expirationOf(m) != 3600 {
		t.Errorf("after the change sent %v, want Expiration 3600", m)
	}
}
