package stream

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// confirmations records the order in which SendConfirmed callbacks run.
type confirmations struct {
	mu  sync.Mutex
	got []int
}

func (c *confirmations) callback(i int) func() {
	return func() {
		c.mu.Lock()
		c.got = append(c.got, i)
		c.mu.Unlock()
	}
}

func (c *confirmations) snapshot() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// TestConnSendConfirmed checks that SendConfirmed calls back once per
// stanza, in order, only after a ping reply, including for stanzas re-sent
// after a reconnect, and that plain Send stanzas in between are unaffected.
func TestConnSendConfirmed(t *testing.T) {
	tests := []struct {
		name string
		// drop: the first connection dies with everything in flight and
		// unconfirmed; the second one confirms.
		drop bool
	}{
		{"confirmed on the first connection", false},
		{"confirmed after a reconnect", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newConnTestServer(t, testDomain, testSecret)
			srv.set(func(s *connTestServer) { s.holdPings = tc.drop })
			log, _ := newConnLogger(t)
			c := New(testConnConfig(srv, log), nil)
			startConn(t, c)
			waitConn(t, c)
			ss1 := srv.session(1)
			ctx := context.Background()
			const n = 10
			var conf confirmations
			var want []int
			for i := range n {
				msg := testMessage(testDomain, "alice@example.test", fmt.Sprint(i))
				var err error
				if i%3 == 2 {
					err = c.Send(ctx, msg) // unconfirmed stanzas interleave
				} else {
					err = c.SendConfirmed(ctx, msg, conf.callback(i))
					want = append(want, i)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			last := ss1
			if tc.drop {
				testutil.WaitFor(t, "the messages and the ack ping at the server", func() bool {
					return ss1.numReceived() == n && ss1.numPings() >= 1
				})
				if got := conf.snapshot(); len(got) != 0 {
					t.Fatalf("confirmed %v before any ping reply", got)
				}
				srv.set(func(s *connTestServer) { s.holdPings = false })
				ss1.drop()
				last = srv.session(2)
			}
			testutil.WaitFor(t, "every confirmation", func() bool { return len(conf.snapshot()) >= len(want) })
			testutil.WaitFor(t, "an empty in-flight list", func() bool { return c.Stats().InFlight == 0 })
			if got := conf.snapshot(); !slices.Equal(got, want) {
				t.Errorf("confirmed %v, want %v", got, want)
			}
			if got := last.numReceived(); got != n {
				t.Errorf("the last connection received %d stanzas, want %d", got, n)
			}
		})
	}
}

// TestConnSendConfirmedError checks that a stanza SendConfirmed could not
// queue is never confirmed.
func TestConnSendConfirmedError(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, _ := newConnLogger(t)
	c := New(testConnConfig(srv, log), nil)
	stop := startConn(t, c)
	waitConn(t, c)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	called := false
	err := c.SendConfirmed(context.Background(), testMessage(testDomain, "alice@example.test", "late"), func() { called = true })
	if err == nil || called {
		t.Errorf("SendConfirmed after Run returned: err %v, called %v; want ErrClosed and no call", err, called)
	}
}
