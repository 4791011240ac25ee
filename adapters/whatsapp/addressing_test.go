package whatsapp_test

import (
	"testing"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestLIDGroupAddressingAfterRestart: after a gateway restart, before any
// member has written, a reply, a reaction and a read marker in a
// LID-addressed group name the member (and the owner) by LID, from the
// group's addressing mode and whatsmeow's LID store, not by phone number.
func TestLIDGroupAddressingAfterRestart(t *testing.T) {
	e := newEnv(t, nil)
	acct, c0 := e.link()
	c0.SetGroups(bookClub())
	if err := e.a.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	e2 := newEnvOn(t, e.h, e.db, nil)
	e2.f.Configure = func(c *wt.Client) { c.SetGroups(bookClub()) }
	sess, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.h.StateChanges())
	sess.Connect(e2.ctx)
	e2.waitState(acct, event.StateConnected, before)
	s, c := sess.(*whatsapp.Session), e2.client(0)
	meta := event.Meta{Account: acct, Chat: groupChat, Sender: ids.UserID(acct), FromMe: true}

	if _, err := s.SendMessage(e2.ctx, &event.Message{Meta: meta, Body: "yes", ReplyTo: alicePhone + ":G1", ReplyQuote: "hello club"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendReaction(e2.ctx, &event.Reaction{Meta: meta, Target: alicePhone + ":G1", Emojis: []string{"👍"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendMessage(e2.ctx, &event.Message{Meta: meta, Body: "as I said", ReplyTo: "me:3EB0OWN", ReplyQuote: "pick Dune"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendReceipt(e2.ctx, &event.Receipt{Meta: meta, Kind: event.Displayed, Targets: []ids.MessageID{alicePhone + ":G1"}}); err != nil {
		t.Fatal(err)
	}
	sent := c.Sent()
	if len(sent) != 3 {
		t.Fatalf("sent %d messages, want 3", len(sent))
	}
	if got := sent[0].Message.GetExtendedTextMessage().GetContextInfo().GetParticipant(); got != aliceLID.String() {
		t.Errorf("reply quotes the author as %s, want %s", got, aliceLID)
	}
	if got := sent[1].Message.GetReactionMessage().GetKey().GetParticipant(); got != aliceLID.String() {
		t.Errorf("reaction names the author as %s, want %s", got, aliceLID)
	}
	ownLID := types.NewJID(ownerLID, types.HiddenUserServer)
	if got := sent[2].Message.GetExtendedTextMessage().GetContextInfo().GetParticipant(); got != ownLID.String() {
		t.Errorf("a reply to the owner's message quotes them as %s, want %s", got, ownLID)
	}
	if reads := c.Reads(); len(reads) != 1 || reads[0].Sender != aliceLID {
		t.Errorf("MarkRead calls = %+v, want one for %s", reads, aliceLID)
	}
}
