package gateway

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// connectLog records the Connect calls of connectAll.
type connectLog struct {
	mu      sync.Mutex
	order   map[ids.Owner][]string
	running atomic.Int64
	peak    atomic.Int64
}

// restoreSession is a Session whose Connect takes a moment and is logged.
type restoreSession struct {
	Session
	log   *connectLog
	owner ids.Owner
	name  string
}

func (s *restoreSession) Connect(context.Context) {
	n := s.log.running.Add(1)
	defer s.log.running.Add(-1)
	for p := s.log.peak.Load(); n > p && !s.log.peak.CompareAndSwap(p, n); p = s.log.peak.Load() {
	}
	time.Sleep(time.Millisecond)
	s.log.mu.Lock()
	s.log.order[s.owner] = append(s.log.order[s.owner], s.name)
	s.log.mu.Unlock()
}

// TestConnectAllKeepsEachOwnersOrder checks that Start's restoring
// connects every session, a bounded number at once, and the sessions of
// one owner one after the other in the order given.
func TestConnectAllKeepsEachOwnersOrder(t *testing.T) {
	log := &connectLog{order: map[ids.Owner][]string{}}
	var sessions []restored
	const owners, perOwner, workers = 40, 3, 4
	for k := range perOwner {
		for o := range owners {
			owner := ids.Owner(fmt.Sprintf("u%02d@example.test", o))
			name := fmt.Sprintf("platform%d", k)
			sessions = append(sessions, restored{owner, &restoreSession{log: log, owner: owner, name: name}})
		}
	}
	connectAll(t.Context(), sessions, workers)
	if len(log.order) != owners {
		t.Fatalf("%d owners connected, want %d", len(log.order), owners)
	}
	for owner, got := range log.order {
		if fmt.Sprint(got) != "[platform0 platform1 platform2]" {
			t.Errorf("%s connected %v, want platform0 platform1 platform2", owner, got)
		}
	}
	if p := log.peak.Load(); p > workers || p < 2 {
		t.Errorf("%d sessions connected at once, want 2 to %d", p, workers)
	}

	// A done context stops the restoring.
	log = &connectLog{order: map[ids.Owner][]string{}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	connectAll(ctx, []restored{{"a@example.test", &restoreSession{log: log, owner: "a@example.test"}}}, workers)
	if len(log.order) != 0 {
		t.Errorf("sessions connected after the context was done: %v", log.order)
	}
}

// TestRestoreReleasesMemoryAfterConnecting: the start-up memory is handed
// back (release) once, after every restored session connected, and not
// when there was nothing to restore.
func TestRestoreReleasesMemoryAfterConnecting(t *testing.T) {
	for _, n := range []int{0, 1, 30} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			log := &connectLog{order: map[ids.Owner][]string{}}
			var sessions []restored
			for o := range n {
				owner := ids.Owner(fmt.Sprintf("u%02d@example.test", o))
				sessions = append(sessions, restored{owner, &restoreSession{log: log, owner: owner}})
			}
			var calls, connectedThen int
			restore(t.Context(), sessions, 4, func() {
				calls++
				log.mu.Lock()
				connectedThen = len(log.order)
				log.mu.Unlock()
			})
			want := 1
			if n == 0 {
				want = 0
			}
			if calls != want {
				t.Errorf("release called %d times, want %d", calls, want)
			}
			if calls > 0 && connectedThen != n {
				t.Errorf("release called when %d of %d sessions had connected", connectedThen, n)
			}
		})
	}
}
