package whatsapp_test

import (
	"path/filepath"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestMentionInLIDGroup: a mention of a member sent into a LID-addressed
// group names the member's LID (ContextInfo.MentionedJID) and writes
// "@<LID>" in the text, as WhatsApp does, even before the session has seen
// the member write (a fresh session after a restart): the LID comes from
// the group's member list through the device's LID store. A message from
// that member mentioning the owner by LID comes back as "@<number>".
func TestMentionInLIDGroup(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	c.SetGroups(bookClub())
	meta := event.Meta{Account: s.Account(), Chat: groupChat, Sender: ids.UserID(s.Account()), FromMe: true}
	sb, ub := len(c.Sent()), len(c.Uploads())
	id, err := s.SendMessage(e.ctx, &event.Message{Meta: meta, Body: "@+15550001111 and @lid-900000002222, your picks?",
		Mentions: []ids.UserID{alicePhone, "lid-900000002222"}})
	if err != nil {
		t.Fatal(err)
	}
	wt.Golden(t, filepath.Join("testdata", "mentions", "lid_group.golden"), outboundGolden(t, c, sb, ub, id), *update)
	sent := c.Sent()[sb]
	mentioned := sent.Message.GetExtendedTextMessage().GetContextInfo().GetMentionedJID()
	if len(mentioned) != 2 || mentioned[0] != aliceLID.String() || mentioned[1] != bobLID.String() {
		t.Errorf("MentionedJID = %v, want Alice's and Bob's LIDs", mentioned)
	}

	c.Dispatch(wt.Msg{Chat: groupJID, Sender: aliceLID, ID: "G9", Time: when}.Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
		Text: proto.String("@" + ownerLID + " sure"), ContextInfo: &waE2E.ContextInfo{MentionedJID: []string{types.NewJID(ownerLID, types.HiddenUserServer).String()}}}}))
	got := e.h.WaitEvent(t, func(ev event.Event) bool { return ev.EventMeta().ID == alicePhone+":G9" }).(*event.Message)
	if got.Body != "@15550000100 sure" || len(got.Mentions) != 1 || got.Mentions[0] != ids.UserID(ownerPhone) {
		t.Errorf("incoming mention = %q %v, want \"@15550000100 sure\" mentioning the owner", got.Body, got.Mentions)
	}
}
