package stream

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestConnShutdownRecordsWhatCrossedTheClose stops a Conn while the
// server, like Prosody, still routes stanzas to it: those it wrote before
// it read our </stream:stream> arrive after it. Each must be recorded,
// for the next process to handle: the recorder runs until the reader has
// read the server's </stream:stream>.
func TestConnShutdownRecordsWhatCrossedTheClose(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	srv.set(func(s *connTestServer) { s.beforeEnd = messagesXML(100, 110) })
	in := &fakeIntake{entered: make(chan struct{}, 1000)}
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.Intake = in
	c := New(cfg, nil)
	stop := startConn(t, c)
	waitConn(t, c)
	if err := srv.session(1).send(messagesXML(0, 3)); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the first three recorded", func() bool { return len(in.recorded()) == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !srv.session(1).gotStreamClose() {
		t.Error("the server did not get our </stream:stream>")
	}
	want := slices.Concat(ids(0, 3), ids(100, 110))
	if got := in.recorded(); !slices.Equal(got, want) {
		t.Errorf("recorded %v, want %v: what the server sent before its </stream:stream> is lost", got, want)
	}
}

// TestConnDrain checks Conn.Drain: it waits for the stanza a lane is
// handling, then nothing more is handled or admitted; a stanza read
// afterwards stays recorded (not done) if the Intake recorded it, and is
// answered wait/service-unavailable if not; and what was queued to send
// still goes out.
func TestConnDrain(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	in := &fakeIntake{entered: make(chan struct{}, 1000)}
	release := make(chan struct{})
	var handled []string
	var mu sync.Mutex
	h := func(ctx context.Context, p stanza.Packet) {
		id := ""
		switch v := p.(type) {
		case stanza.Message:
			id = v.Id
		case *stanza.IQ:
			id = v.Id
		}
		mu.Lock()
		handled = append(handled, id)
		mu.Unlock()
		if id == "m0" {
			<-release // a Handler busy when the stop begins
		}
	}
	var admitted atomic.Int64
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.Intake = in
	cfg.Admit = func(stanza.Packet) stanza.Packet { admitted.Add(1); return nil }
	c := New(cfg, h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	if err := ss.send(messagesXML(0, 1)); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "m0 handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 1 })

	drained := make(chan error, 1)
	go func() { drained <- c.Drain(t.Context()) }()
	testutil.WaitFor(t, "the lanes to be draining", func() bool { return c.lanesSnapshot().draining.Load() })
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while m0's Handler runs", err)
	default:
	}
	close(release)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if got := in.doneIDs(); !slices.Equal(got, []string{"m0"}) {
		t.Errorf("done %v, want [m0]: the Handler that was running finishes", got)
	}
	admittedBefore := admitted.Load()

	// Read after Drain: a message (recorded) and an IQ get (not).
	if err := ss.send(messagesXML(1, 3) + "<iq type='get' id='q1' from='u@example.test/r' to='" + testDomain + "'><query xmlns='jabber:iq:version'/></iq>"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the IQ to be refused", func() bool {
		for _, p := range ss.received() {
			if iq, ok := p.(*stanza.IQ); ok && iq.Id == "q1" && iq.Type == stanza.IQTypeError {
				return iq.Error != nil && iq.Error.Type == stanza.ErrorTypeWait && strings.Contains(iq.Error.Reason, "service-unavailable")
			}
		}
		return false
	})
	if got := in.recorded(); !slices.Equal(got, ids(0, 3)) {
		t.Errorf("recorded %v, want %v", got, ids(0, 3))
	}
	// Sending still works while drained.
	if err := c.Send(t.Context(), testMessage(testDomain, "u@example.test", "last words")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the last words at the server", func() bool { return slices.Contains(ss.bodies(), "last words") })
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(handled, []string{"m0"}) {
		t.Errorf("handled %v after Drain, want only m0", handled)
	}
	if got := in.doneIDs(); !slices.Equal(got, []string{"m0"}) {
		t.Errorf("done %v: m1 and m2 must stay recorded for the next process", got)
	}
	if n := admitted.Load(); n != admittedBefore {
		t.Errorf("%d stanzas admitted after Drain", n-admittedBefore)
	}
}
