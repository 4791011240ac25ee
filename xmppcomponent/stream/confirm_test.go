package stream

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

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

// TestConnAckPingsCoalesced: stanzas written one burst at a time (each
// read by the server before the next is sent, so the queue drains every
// time) share acknowledgement pings: none goes out before AckDelay has
// passed since the previous ping (here, the session's start), however
// many bursts drained the queue. With a short AckDelay they are then
// confirmed.
func TestConnAckPingsCoalesced(t *testing.T) {
	tests := []struct {
		name     string
		ackDelay time.Duration
		// confirmed: the stanzas get confirmed during the test.
		confirmed bool
	}{
		{"long delay: no ping yet", time.Hour, false},
		{"short delay: confirmed", time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newConnTestServer(t, testDomain, testSecret)
			log, _ := newConnLogger(t)
			cfg := testConnConfig(srv, log)
			cfg.PingInterval = time.Hour // no keepalive pings
			cfg.AckDelay = tc.ackDelay
			c := New(cfg, nil)
			startConn(t, c)
			waitConn(t, c)
			ss := srv.session(1)
			const n = 30
			var conf confirmations
			for i := range n {
				if err := c.SendConfirmed(t.Context(), testMessage(testDomain, "alice@example.test", fmt.Sprint(i)), conf.callback(i)); err != nil {
					t.Fatal(err)
				}
				testutil.WaitFor(t, "the server read the stanza", func() bool { return ss.numReceived() == i+1 })
			}
			if tc.confirmed {
				testutil.WaitFor(t, "every confirmation", func() bool { return len(conf.snapshot()) == n })
				st := c.Stats()
				if st.Pings < 1 || st.BytesIn == 0 || st.BytesOut < uint64(n*len("<message")) {
					t.Errorf("confirmed with %d pings counted, %d bytes in, %d out", st.Pings, st.BytesIn, st.BytesOut)
				}
				return
			}
			if got, pings := conf.snapshot(), ss.numPings(); len(got) != 0 || pings != 0 || c.Stats().Pings != 0 {
				t.Errorf("%d bursts drained the queue: %d pings at the server, %d counted, %d stanzas confirmed; want none before AckDelay", n, pings, c.Stats().Pings, len(got))
			}
		})
	}
}
