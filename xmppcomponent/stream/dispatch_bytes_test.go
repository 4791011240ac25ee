package stream

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestDispatchLaneBytes: a lane holds at most laneBytes of stanzas, all
// lanes together at most totalBytes; what does not fit goes to reject.
func TestDispatchLaneBytes(t *testing.T) {
	log, _ := newConnLogger(t)
	var rejected []string
	msg := func(from, id string) stanza.Message {
		return stanza.Message{Attrs: stanza.Attrs{From: from, To: "x@gw.example.test", Id: id}}
	}

	// One lane: the lane bound.
	d := newDispatcher(func(context.Context, stanza.Packet) {}, log, maphash.MakeSeed(), 1)
	d.laneBytes = 1000
	d.reject = func(p stanza.Packet) { rejected = append(rejected, p.(stanza.Message).Id) }
	// The workers are not started: nothing drains the lanes.
	for i := range 5 {
		d.dispatch(msg("a@example.test/r", fmt.Sprint(i)), 300)
	}
	if got, want := strings.Join(rejected, " "), "3 4"; got != want {
		t.Errorf("lane bound: rejected %q, want %q", got, want)
	}
	if got := d.bytes.Load(); got != 900 {
		t.Errorf("queued bytes = %d, want 900", got)
	}

	// Many lanes: the overall bound, whatever lanes the senders hash to.
	rejected = nil
	d = newDispatcher(func(context.Context, stanza.Packet) {}, log, maphash.MakeSeed(), 8)
	d.totalBytes = 1000
	d.reject = func(p stanza.Packet) { rejected = append(rejected, p.(stanza.Message).Id) }
	for i := range 5 {
		d.dispatch(msg(fmt.Sprintf("u%d@example.test/r", i), fmt.Sprint(i)), 300)
	}
	if got, want := strings.Join(rejected, " "), "3 4"; got != want {
		t.Errorf("total bound: rejected %q, want %q", got, want)
	}

	// A stanza larger than the budget still passes an idle dispatcher.
	rejected = nil
	d = newDispatcher(func(context.Context, stanza.Packet) {}, log, maphash.MakeSeed(), 1)
	d.laneBytes, d.totalBytes = 100, 100
	d.reject = func(p stanza.Packet) { rejected = append(rejected, p.(stanza.Message).Id) }
	d.dispatch(msg("a@example.test/r", "big"), 5000)
	if len(rejected) != 0 || d.backlogLen() != 1 {
		t.Errorf("a lone large stanza was refused: rejected %v, backlog %d", rejected, d.backlogLen())
	}
}

// TestConnLaneBytesResourceConstraint: while the Handler is stuck, large
// stanzas from one sender fill their lane's byte budget; the ones past it
// are answered wait/resource-constraint instead of vanishing, and once the
// Handler is free, every stanza was either handled or answered. The bytes
// are released as the stanzas are handled.
func TestConnLaneBytesResourceConstraint(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	release := make(chan struct{})
	var mu sync.Mutex
	var handled []string
	h := func(ctx context.Context, p stanza.Packet) {
		if m, ok := p.(stanza.Message); ok {
			<-release
			mu.Lock()
			handled = append(handled, m.Id)
			mu.Unlock()
		}
	}
	log, sink := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.MaxLaneBytes = 16 << 10
	c := New(cfg, h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	const n = 20
	body := strings.Repeat("x", 4<<10)
	var raw strings.Builder
	for i := range n {
		fmt.Fprintf(&raw, "<message from='flood@example.test/r' to='b@gw.example.test' id='m%d'><body>%s</body></message>", i, body)
	}
	if err := ss.send(raw.String()); err != nil {
		t.Fatal(err)
	}
	errorIDs := func() []string {
		var ids []string
		for _, p := range ss.received() {
			m, ok := p.(stanza.Message)
			if ok && m.Type == stanza.MessageTypeError && m.Error.Type == stanza.ErrorTypeWait && m.Error.Reason == "resource-constraint" &&
				m.To == "flood@example.test/r" && m.From == "b@gw.example.test" {
				ids = append(ids, m.Id)
			}
		}
		return ids
	}
	// About 16 KiB fit (the one in the Handler counts too); the rest are
	// answered.
	testutil.WaitFor(t, "resource-constraint errors for the overflow", func() bool { return len(errorIDs()) >= n-4 })
	close(release)
	testutil.WaitFor(t, "every stanza handled or answered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)+len(errorIDs()) == n
	})
	if len(handled) == 0 {
		t.Error("nothing was handled")
	}
	if !sink.has(slog.LevelWarn, "resource-constraint", nil) {
		t.Error("the refusals were not logged")
	}
	testutil.WaitFor(t, "the byte budget released", func() bool { return c.lanesSnapshot().bytes.Load() == 0 })
}
