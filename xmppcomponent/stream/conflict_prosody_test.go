package stream

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestConflictKickOldAgainstProsody runs two Conns on one component domain
// against a real Prosody that kicks the old connection when a new one
// arrives (component_conflict_resolve = "kick_old"). Each kick is a
// conflict stream error ("Replaced by a new connection"); the two must not
// replace each other in a tight loop: every Conn's handshakes stay within
// what its backoff schedule allows in the time that passed, both log the
// conflict at Error level naming the domain, and both report it in
// Problem.
func TestConflictKickOldAgainstProsody(t *testing.T) {
	if testing.Short() {
		t.Skip("needs prosody")
	}
	// The operator snippet (deploy/prosody/drawbridge.cfg.lua) sets
	// component_conflict_resolve = "kick_old".
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Components: []xmpptest.ComponentSpec{{Domain: testDomain, Secret: testSecret}},
	})
	const minB, maxB = 20 * time.Millisecond, 640 * time.Millisecond
	newInstance := func() (*Conn, *connLogSink) {
		log, sink := newConnLogger(t)
		return New(Config{
			Addr: p.ComponentAddr, Domain: testDomain, Secret: testSecret, Logger: log,
			MinBackoff: minB, MaxBackoff: maxB,
		}, nil), sink
	}
	a, aLog := newInstance()
	b, bLog := newInstance()
	start := time.Now()
	startConn(t, a)
	waitConn(t, a)
	startConn(t, b)

	// Let them fight for a while: enough replacements that a Conn
	// resetting its backoff after each handshake would exceed the bound.
	const total = 14
	testutil.WaitFor(t, "the two instances to replace each other", func() bool {
		sa, sb := a.Stats(), b.Stats()
		return sa.Connects+sb.Connects >= total && sa.Connects >= 3 && sb.Connects >= 3
	})
	elapsed := time.Since(start)
	bound := maxAttempts(minB, maxB, elapsed)
	for name, c := range map[string]*Conn{"first": a, "second": b} {
		if n := c.Stats().Connects; n > uint64(bound) {
			t.Errorf("%s instance: %d handshakes in %v; its backoff schedule allows at most %d", name, n, elapsed, bound)
		}
	}

	for name, sink := range map[string]*connLogSink{"first": aLog, "second": bLog} {
		if !sink.has(slog.LevelError, "another gateway is connected as "+testDomain, map[string]string{"condition": "conflict"}) {
			t.Errorf("%s instance: no Error line saying another gateway is connected as %s", name, testDomain)
		}
	}
	for name, c := range map[string]*Conn{"first": a, "second": b} {
		if err := c.Problem(); !errors.Is(err, ErrConflict) {
			t.Errorf("%s instance: Problem() = %v, want ErrConflict", name, err)
		}
	}
}

// maxAttempts is the most connection attempts a Conn can start within d:
// the first one at once, each later one after at least the lower end of
// its jittered delay (half of min·2^k, capped at max).
func maxAttempts(minB, maxB, d time.Duration) int {
	n, waited := 1, time.Duration(0)
	for k := 0; ; k++ {
		step := minB
		for i := 0; i < k && step < maxB; i++ {
			step *= 2
		}
		waited += min(step, maxB) / 2
		if waited > d {
			return n
		}
		n++
	}
}
