package stream

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// fakeIntake records the ids of what it is given, batch by batch, and of
// what is marked done. Record waits while gate is set and open.
type fakeIntake struct {
	mu       sync.Mutex
	batches  [][]string
	done     []string
	gate     chan struct{} // nil: Record does not wait
	entered  chan struct{} // told of each Record call (cap 1000)
	gateOnce bool          // only the first call waits
}

func (f *fakeIntake) Record(ctx context.Context, ps []stanza.Packet) []func() {
	var ids []string
	dones := make([]func(), len(ps))
	for i, p := range ps {
		m, ok := p.(stanza.Message)
		if !ok {
			continue
		}
		ids = append(ids, m.Id)
		dones[i] = func() {
			f.mu.Lock()
			f.done = append(f.done, m.Id)
			f.mu.Unlock()
		}
	}
	f.mu.Lock()
	f.batches = append(f.batches, ids)
	gate := f.gate
	if f.gateOnce {
		f.gate = nil
	}
	f.mu.Unlock()
	f.entered <- struct{}{}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	return dones
}

func (f *fakeIntake) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Concat(f.batches...)
}

func (f *fakeIntake) doneIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.done)
}

func messagesXML(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "<message type='chat' from='u@example.test/r' to='c@%s' id='m%d'><body>%d</body></message>", testDomain, i, i)
	}
	return b.String()
}

func ids(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("m%d", i))
	}
	return out
}

// TestConnIntakeRecordsAtReadDoneAfterHandler checks that with an Intake
// every stanza read is recorded before its Handler sees it — even while
// the Handler is stuck on an earlier one of the same conversation — and
// marked done only once its Handler returned: a stop leaves what was not
// handled recorded for the next start.
func TestConnIntakeRecordsAtReadDoneAfterHandler(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	in := &fakeIntake{entered: make(chan struct{}, 1000)}
	release := make(chan struct{})
	var notRecorded []string
	var mu sync.Mutex
	h := func(ctx context.Context, p stanza.Packet) {
		m, ok := p.(stanza.Message)
		if !ok {
			return
		}
		if !slices.Contains(in.recorded(), m.Id) {
			mu.Lock()
			notRecorded = append(notRecorded, m.Id)
			mu.Unlock()
		}
		if m.Id == "m5" {
			select { // stuck, as on a platform that does not answer
			case <-release:
			case <-ctx.Done():
			}
		}
	}
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.Intake = in
	c := New(cfg, h)
	stop := startConn(t, c)
	waitConn(t, c)
	if err := srv.session(1).send(messagesXML(0, 10)); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "all ten recorded while m5 is stuck", func() bool { return len(in.recorded()) == 10 })
	testutil.WaitFor(t, "m0..m4 done", func() bool { return len(in.doneIDs()) == 5 })
	if got := in.doneIDs(); !slices.Equal(got, ids(0, 5)) {
		t.Errorf("done = %v, want %v", got, ids(0, 5))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	close(release)
	if got := in.doneIDs(); !slices.Equal(got, ids(0, 5)) {
		t.Errorf("after the stop, done = %v: what was not handled must stay recorded", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notRecorded) > 0 {
		t.Errorf("handled before being recorded: %v", notRecorded)
	}
}

// TestConnIntakeGroupCommit checks that what is read while a Record call
// runs goes to the next call as one batch, in order, and that the read
// loop stops reading once maxRecordBacklog stanzas wait.
func TestConnIntakeGroupCommit(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	gate := make(chan struct{})
	in := &fakeIntake{entered: make(chan struct{}, 1000), gate: gate, gateOnce: true}
	handled := make(chan string, 1000)
	h := func(_ context.Context, p stanza.Packet) {
		if m, ok := p.(stanza.Message); ok {
			handled <- m.Id
		}
	}
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.Intake = in
	c := New(cfg, h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	if err := ss.send(messagesXML(0, 1)); err != nil {
		t.Fatal(err)
	}
	<-in.entered // the first write is under way, and stays so
	const n = 1 + maxRecordBacklog + 20
	if err := ss.send(messagesXML(1, n)); err != nil {
		t.Fatal(err)
	}
	// The read loop reads maxRecordBacklog more, and one it holds until
	// there is room; the rest stays in the socket.
	testutil.WaitFor(t, "the read loop to fill the backlog", func() bool {
		return c.Stats().StanzasIn == 1+maxRecordBacklog+1
	})
	if got := c.lanesSnapshot().rec.backlogLen(); got != maxRecordBacklog {
		t.Errorf("%d stanzas wait to be recorded, want the bound %d", got, maxRecordBacklog)
	}
	if got := len(handled); got != 0 {
		t.Errorf("%d stanzas handled before their write ended", got)
	}
	close(gate)
	var order []string
	for range n {
		order = append(order, <-handled)
	}
	if !slices.Equal(order, ids(0, n)) {
		t.Errorf("handled in the order %v", order)
	}
	if got := in.recorded(); !slices.Equal(got, ids(0, n)) {
		t.Errorf("recorded in the order %v", got)
	}
	// 1, then the backlog in one batch, then what was read after.
	in.mu.Lock()
	second := len(in.batches[1])
	in.mu.Unlock()
	if second != maxRecordBacklog {
		t.Errorf("the second batch has %d stanzas, want the %d that waited", second, maxRecordBacklog)
	}
}

// TestConnHandleRecordedKeepsDone checks that with HandleRecorded the
// recorded stanzas go to it with their done function, which the lanes do
// not call themselves: it is for the handler to call once the stanza is
// really handled, later if it keeps the stanza waiting.
func TestConnHandleRecordedKeepsDone(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	in := &fakeIntake{entered: make(chan struct{}, 1000)}
	kept := make(chan func(), 10)
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.Intake = in
	cfg.HandleRecorded = func(_ context.Context, p stanza.Packet, done func()) { kept <- done }
	c := New(cfg, func(context.Context, stanza.Packet) { t.Error("the Handler got a recorded stanza") })
	startConn(t, c)
	waitConn(t, c)
	if err := srv.session(1).send(messagesXML(0, 3)); err != nil {
		t.Fatal(err)
	}
	var dones []func()
	for range 3 {
		dones = append(dones, <-kept)
	}
	// The lanes are through with all three (they count a stanza off
	// after their part, which would be calling done).
	testutil.WaitFor(t, "the lanes to finish", func() bool { return c.Stats().Dispatching == 0 })
	if got := in.doneIDs(); len(got) != 0 {
		t.Fatalf("done %v before the handler called it", got)
	}
	for _, d := range dones {
		d()
	}
	if got := in.doneIDs(); !slices.Equal(got, ids(0, 3)) {
		t.Errorf("done = %v, want %v", got, ids(0, 3))
	}
}
