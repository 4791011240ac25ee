package whatsapp_test

import (
	"testing"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// TestLIDContactMovesToNumber: a contact met as "lid-<LID>" whose number
// becomes known (after a restart too) moves to the number: a notice in
// the old chat, the contact under the number, then the message from the
// number; once, and not for contacts whose number was always known.
func TestLIDContactMovesToNumber(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	c.Dispatch(wt.Msg{Chat: bobLID, ID: "B1", Time: when}.Event(textMsg("who am I")))
	c.Dispatch(wt.Msg{Chat: aliceLID, SenderAlt: alice, ID: "A1", Time: when}.Event(textMsg("known")))
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
	bob := wt.PN("+15550002222")
	if err := c2.Device.LIDs.PutLIDMapping(e2.ctx, bobLID, bob); err != nil {
		t.Fatal(err)
	}
	n := len(e.h.Events())
	c2.Dispatch(wt.Msg{Chat: bobLID, ID: "B2", Time: when}.Event(textMsg("it is Bob")))
	c2.Dispatch(wt.Msg{Chat: bobLID, ID: "B3", Time: when}.Event(textMsg("again")))
	c2.Dispatch(wt.Msg{Chat: aliceLID, SenderAlt: alice, ID: "A2", Time: when}.Event(textMsg("still known")))
	var got []string
	for _, ev := range e.h.Events()[n:] {
		switch x := ev.(type) {
		case *event.Message:
			got = append(got, "message "+string(x.Chat)+" "+x.Body)
		case *event.ContactInfo:
			got = append(got, "contact "+string(x.Sender))
		}
	}
	want := []string{
		"message lid-900000002222 [WhatsApp now shows this contact's phone number: +15550002222. The conversation continues with +15550002222; this address gets no more messages.]",
		"contact +15550002222",
		"message +15550002222 it is Bob",
		"message +15550002222 again",
		"message +15550001111 still known",
	}
	if len(got) != len(want) {
		t.Fatalf("events:\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %q, want %q", i, got[i], want[i])
		}
	}
}
