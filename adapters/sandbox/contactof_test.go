package sandbox_test

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestPresenceReachesLearnedContacts checks who hears an account come and
// go: the accounts that learned it as a contact (by exchanging a message,
// in either direction), each once, and no other account.
func TestPresenceReachesLearnedContacts(t *testing.T) {
	const phoneC = "+4915100000003"
	e := newEnv(t, nil, sandbox.Options{})
	a, b, c := e.link(t, phoneA), e.link(t, phoneB), e.link(t, phoneC)
	sa, sb, sc := e.connect(t, a), e.connect(t, b), e.connect(t, c)
	presenceOf := func(acct ids.AccountID, peer ids.UserID) []event.Event {
		return e.h.EventsFor(of[*event.Presence](acct, peer))
	}
	// marker waits until acct got one more message from Alice: whatever
	// the platform queued for acct before it has been emitted.
	markers := map[ids.AccountID]int{}
	marker := func(acct ids.AccountID) {
		t.Helper()
		if _, err := e.p.SendAs(ctx(t), sandbox.Alice, acct, "marker"); err != nil {
			t.Fatal(err)
		}
		markers[acct]++
		e.h.WaitEvents(t, markers[acct], of[*event.Message](acct, sandbox.Alice))
	}

	// A writes to B: B learns A (the recipient side), A learns B (the
	// sender side). C knows neither.
	send(t, sa, ids.UserID(b), "hello B")
	e.h.WaitEvent(t, of[*event.Message](b, ids.UserID(a)))
	// B goes offline: A hears it, once (a second exchange does not make
	// A learn B again); C does not.
	send(t, sb, ids.UserID(a), "hello A")
	e.h.WaitEvent(t, of[*event.Message](a, ids.UserID(b)))
	sb.Disconnect()
	pr := e.h.WaitEvent(t, of[*event.Presence](a, ids.UserID(b))).(*event.Presence)
	if pr.Available {
		t.Errorf("A sees B as %s after B disconnected", gatewaytest.Describe(pr))
	}
	marker(a)
	marker(c)
	if got := presenceOf(a, ids.UserID(b)); len(got) != 1 {
		t.Errorf("A got %d presences of B, want 1", len(got))
	}
	if got := presenceOf(c, ids.UserID(b)); len(got) != 0 {
		t.Errorf("C got presence of B without having B as a contact: %s", gatewaytest.Describe(got[0]))
	}

	// C writes to B while B is offline: C learns B, and B learns C when
	// it takes the message. B coming back reaches A and C.
	send(t, sc, ids.UserID(b), "hello B, from C")
	sb = e.connect(t, b)
	e.h.WaitEvent(t, of[*event.Message](b, ids.UserID(c)))
	for _, acct := range []ids.AccountID{a, c} {
		got := e.h.WaitEvents(t, map[ids.AccountID]int{a: 2, c: 1}[acct], of[*event.Presence](acct, ids.UserID(b)))
		if pr := got[len(got)-1].(*event.Presence); !pr.Available {
			t.Errorf("%s sees B as %s after B came back", acct, gatewaytest.Describe(pr))
		}
	}
	// A goes offline: B heard of A from the first message; C never did.
	sa.Disconnect()
	e.h.WaitEvents(t, 2, of[*event.Presence](b, ids.UserID(a)))
	marker(c)
	if got := presenceOf(c, ids.UserID(a)); len(got) != 0 {
		t.Errorf("C got presence of A without having A as a contact: %s", gatewaytest.Describe(got[0]))
	}
	// B's contact list: the seeded users, then A and C in the order B
	// learned them.
	contacts, err := sb.ListContacts(ctx(t))
	if err != nil || len(contacts) != 6 || contacts[4].Sender != ids.UserID(a) || contacts[5].Sender != ids.UserID(c) {
		t.Errorf("B's contacts = %d, %v; want the seeded four, A, C", len(contacts), err)
	}
}
