package whatsapp_test

import (
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// TestPollVotesShowTheTally: votes, encrypted with the poll's secret as
// WhatsApp's apps do, are decrypted (DecryptPollVote) and shown as a
// correction of the poll's message with the tally; a changed vote
// replaces the voter's earlier one; votes survive a restart of the
// session.
func TestPollVotesShowTheTally(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	owner := wt.PN(ownerPhone)
	voter, err := wt.NewVoter(e.ctx, t.TempDir(), alice)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")

	// The owner asks Alice from the phone.
	c.Dispatch(wt.Msg{Chat: alice, Sender: owner, FromMe: true, ID: "POLL1", Time: when}.Event(
		wt.Poll("Lunch?", secret, "Pizza", "Sushi")))
	// Alice's app sees the owner's poll in her chat with the owner.
	aliceView := types.MessageInfo{MessageSource: types.MessageSource{Chat: owner, Sender: owner}, ID: "POLL1"}
	vote := func(id types.MessageID, options ...string) *event.Edit {
		t.Helper()
		m, err := voter.Vote(e.ctx, aliceView, secret, options...)
		if err != nil {
			t.Fatal(err)
		}
		before := len(e.h.Events())
		if !c.Dispatch(wt.Msg{Chat: alice, ID: id, Time: when}.Event(m)) {
			t.Fatal("vote not acknowledged")
		}
		got := e.h.Events()[before:]
		if len(got) != 1 {
			t.Fatalf("vote emitted %d events, want one correction", len(got))
		}
		ed, ok := got[0].(*event.Edit)
		if !ok {
			t.Fatalf("vote emitted %T", got[0])
		}
		return ed
	}
	ed := vote("V1", "Sushi")
	if ed.Target != waid.OwnMessage("POLL1") || !ed.FromMe || ed.Chat != aliceChat {
		t.Errorf("correction %+v does not name the owner's poll in Alice's chat", ed.Meta)
	}
	for _, want := range []string{"Poll: Lunch?", "1. Pizza — 0", "2. Sushi — 1 (" + alicePhone + ")", "1 voters"} {
		if !strings.Contains(ed.Body, want) {
			t.Errorf("tally lacks %q:\n%s", want, ed.Body)
		}
	}
	ed = vote("V2", "Pizza") // changes her mind
	if !strings.Contains(ed.Body, "1. Pizza — 1 ("+alicePhone+")") || !strings.Contains(ed.Body, "2. Sushi — 0") {
		t.Errorf("changed vote:\n%s", ed.Body)
	}

	// After a restart the session still knows the poll and the votes.
	s.Disconnect()
	s2, err := e.a.LoadSession(e.ctx, s.Account())
	if err != nil {
		t.Fatal(err)
	}
	s2.Connect(e.ctx)
	e.waitState(s.Account(), event.StateConnected, len(e.h.StateChanges())-1)
	c = e.f.Clients()[len(e.f.Clients())-1]
	ed = vote("V3") // Alice withdraws her vote
	if !strings.Contains(ed.Body, "1. Pizza — 0") || !strings.Contains(ed.Body, "0 voters") {
		t.Errorf("withdrawn vote after a restart:\n%s", ed.Body)
	}

	// A vote on a poll the gateway never saw is dropped, acknowledged.
	unknown := types.MessageInfo{MessageSource: types.MessageSource{Chat: owner, Sender: owner}, ID: "POLL0"}
	m, err := voter.Vote(e.ctx, unknown, secret, "Pizza")
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.h.Events())
	if !c.Dispatch(wt.Msg{Chat: alice, ID: "V4", Time: when}.Event(m)) || len(e.h.Events()) != before {
		t.Error("a vote on an unknown poll was not dropped")
	}
}
