package whatsapp_test

import (
	"fmt"
	"testing"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// readsString renders MarkRead calls as "chat sender [ids]" lines.
func readsString(reads []wt.Read) string {
	var out string
	for _, r := range reads {
		out += fmt.Sprintf("%s %s %v\n", r.Chat, r.Sender, r.IDs)
	}
	return out
}

func displayed(s interface{ Account() ids.AccountID }, chat ids.ChatID, targets ...ids.MessageID) *event.Receipt {
	return &event.Receipt{Meta: event.Meta{Account: s.Account(), Chat: chat}, Kind: event.Displayed, Targets: targets}
}

// TestDisplayedMarksEverythingBefore: a displayed marker on a message
// marks it and every earlier unread message of the chat read on WhatsApp
// (XEP-0333), once; a marker on a message the gateway does not know marks
// that one.
func TestDisplayedMarksEverythingBefore(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	for _, id := range []types.MessageID{"A1", "A2", "A3", "A4"} {
		c.Dispatch(wt.Msg{Chat: alice, ID: id, Time: when}.Event(textMsg("hi")))
	}
	steps := []struct {
		target ids.MessageID
		want   string
	}{
		{"A3", "15550001111@s.whatsapp.net  [A1 A2 A3]\n"},
		{"A3", "15550001111@s.whatsapp.net  [A3]\n"},
		{"A4", "15550001111@s.whatsapp.net  [A4]\n"},
		{"OLD", "15550001111@s.whatsapp.net  [OLD]\n"},
	}
	for _, st := range steps {
		n := len(c.Reads())
		if err := s.SendReceipt(e.ctx, displayed(s, aliceChat, st.target)); err != nil {
			t.Fatal(err)
		}
		if got := readsString(c.Reads()[n:]); got != st.want {
			t.Errorf("displayed %s: MarkRead calls\n%s want\n%s", st.target, got, st.want)
		}
	}
}

// TestDisplayedInGroupByAuthor: in a group the unread messages up to the
// target are marked with one MarkRead per author, in the addressing each
// wrote with.
func TestDisplayedInGroupByAuthor(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	c.SetGroups(bookClub())
	in := func(sender types.JID, id types.MessageID) {
		c.Dispatch(wt.Msg{Chat: groupJID, Sender: sender, ID: id, Time: when}.Event(textMsg("hi")))
	}
	in(aliceLID, "G1")
	in(bobLID, "G2")
	in(aliceLID, "G3")
	in(bobLID, "G4")
	if err := s.SendReceipt(e.ctx, displayed(s, groupChat, "lid-900000002222:G4")); err != nil {
		t.Fatal(err)
	}
	want := "120363000000000001@g.us 900000001111@lid [G1 G3]\n120363000000000001@g.us 900000002222@lid [G2 G4]\n"
	if got := readsString(c.Reads()); got != want {
		t.Errorf("MarkRead calls\n%s want\n%s", got, want)
	}
}

// TestUnreadSurvivesRestart: the unread messages are kept in the Host's
// key-value space, so a marker after a gateway restart still covers the
// messages that arrived before it; what the owner read on the phone
// meanwhile is not marked again.
func TestUnreadSurvivesRestart(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	for _, id := range []types.MessageID{"A1", "A2", "A3", "A4"} {
		c.Dispatch(wt.Msg{Chat: alice, ID: id, Time: when}.Event(textMsg("hi")))
	}
	// The owner reads up to A2 on the phone.
	c.Dispatch(&events.Receipt{MessageSource: wt.Msg{Chat: alice, Sender: wt.PN(ownerPhone), FromMe: true}.Source(),
		MessageIDs: []types.MessageID{"A2"}, Timestamp: when, Type: types.ReceiptTypeRead})
	acct := s.Account()
	if err := e.a.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	e2 := newEnvOn(t, e.h, e.db, nil)
	sess, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.h.StateChanges())
	sess.Connect(e2.ctx)
	e2.waitState(acct, event.StateConnected, before)
	c2 := e2.client(0)
	if err := sess.(*whatsapp.Session).SendReceipt(e2.ctx, displayed(s, aliceChat, "A4")); err != nil {
		t.Fatal(err)
	}
	if got, want := readsString(c2.Reads()), "15550001111@s.whatsapp.net  [A3 A4]\n"; got != want {
		t.Errorf("MarkRead calls after a restart\n%s want\n%s", got, want)
	}
}
