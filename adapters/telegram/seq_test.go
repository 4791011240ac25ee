package telegram_test

import (
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// TestSeqGap: sequenced pushes without pts (status changes) carry seq; a
// lost one shows as a jump in seq on the next push, which makes the
// session fetch updates.getDifference: the lost change arrives, then
// the one that showed the gap, once each.
func TestSeqGap(t *testing.T) {
	f := newFixture(t)
	f.srv.AddContact(ownerID, aliceID)
	_, _ = f.connect(t)
	online := func(d time.Duration) *tg.UserStatusOnline {
		return &tg.UserStatusOnline{Expires: int(time.Now().Add(d).Unix())}
	}
	f.srv.SetStatus(aliceID, online(time.Minute))
	f.host.WaitEvent(t, gatewaytest.Is[*event.Presence])
	diffs := f.srv.Calls("updates.getDifference")

	seen := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	f.srv.LoseNextSequenced()
	f.srv.SetStatus(aliceID, &tg.UserStatusOffline{WasOnline: int(seen.Unix())}) // lost
	f.srv.SetStatus(aliceID, online(2*time.Minute))                              // shows the gap
	evs := f.host.WaitEvents(t, 3, gatewaytest.Is[*event.Presence])
	lost, next := evs[1].(*event.Presence), evs[2].(*event.Presence)
	if lost.Available || !lost.LastSeen.Equal(seen) || !next.Available {
		t.Errorf("presences after the gap = %s, %s; want the lost offline one, then online", gatewaytest.Describe(lost), gatewaytest.Describe(next))
	}
	if f.srv.Calls("updates.getDifference") <= diffs {
		t.Error("the seq gap did not fetch updates.getDifference")
	}
	// Later pushes follow on: applied once, no further difference.
	diffs = f.srv.Calls("updates.getDifference")
	f.srv.SetStatus(aliceID, &tg.UserStatusRecently{})
	f.host.WaitEvents(t, 4, gatewaytest.Is[*event.Presence])
	if n := len(f.host.EventsFor(gatewaytest.Is[*event.Presence])); n != 4 {
		t.Errorf("%d presences, want 4 (each once)", n)
	}
	if f.srv.Calls("updates.getDifference") != diffs {
		t.Error("a push that follows on fetched the difference")
	}
}
