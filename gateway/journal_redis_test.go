package gateway_test

import (
	"fmt"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestJournalSurvivesRedisRestart kills redis-server (AOF, appendfsync
// always) while a contact keeps writing: the hub cannot journal the
// messages, so it refuses them (ErrNotDurable) and the platform offers
// them again until the restarted server takes them. Every message reaches
// the user exactly once, in order.
func TestJournalSurvivesRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: runs redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	rp := storetest.StartRedisProcess(t, "--appendonly", "yes", "--appendfsync", "always")
	st := redisstore.New(redis.NewClient(&redis.Options{Addr: rp.Addr()}), redisstore.Options{})
	t.Cleanup(func() { st.Close() })
	var refused refusals
	h, _ := newJournalHub(t, st, false, &refused)
	const (
		owner = ids.Owner("alice@example.test")
		phone = "+15557654321"
		n     = 30
	)
	h.link(t, owner, phone)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := h.platform.SendAs(t.Context(), sandbox.Alice, phone, fmt.Sprintf("p%02d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	fromAlice := func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Chat == ids.ChatID(sandbox.Alice)
	}

	send(0, 10)
	h.fe.wait(t, owner, 10, fromAlice)
	rp.Kill()
	send(10, 20) // while the store is down
	testutil.WaitFor(t, "the hub to refuse a message it cannot journal", func() bool { return refused.count.Load() > 0 })
	rp.Restart()
	send(20, n)

	got := h.fe.wait(t, owner, n, fromAlice)
	for i, ev := range got {
		if body, want := ev.(*event.Message).Body, fmt.Sprintf("p%02d", i); body != want {
			t.Fatalf("message %d is %q, want %q", i, body, want)
		}
	}
	// One more after everything: a duplicate of an earlier one would
	// arrive before it.
	send(n, n+1)
	got = h.fe.wait(t, owner, n+1, fromAlice)
	if last := got[n].(*event.Message).Body; last != fmt.Sprintf("p%02d", n) {
		t.Errorf("after the %d messages came %q (a duplicate?)", n, last)
	}
	waitPending(t, st, owner, 0)
	t.Logf("%d messages across a redis-server SIGKILL and restart (10 sent while it was down; refused and redelivered by the platform: %d): %d delivered, in order, once each",
		n+1, refused.count.Load(), len(got))
}

// refusals counts the events the hub refused with ErrNotDurable.
type refusals struct{ count atomic.Int64 }

func (r *refusals) Relayed(ids.PlatformID, gateway.Direction, string, time.Duration) {}
func (r *refusals) StateChanged(ids.PlatformID, ids.AccountID, event.State)          {}
func (r *refusals) Failed(_ ids.PlatformID, dir gateway.Direction, _, errKind string) {
	if dir == gateway.ToXMPP && errKind == "not_durable" {
		r.count.Add(1)
	}
}
