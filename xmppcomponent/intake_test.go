package xmppcomponent

import (
	"context"
	"encoding/xml"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// intakeComponent is a component over hub that records into in.
func intakeComponent(t *testing.T, hub Hub, in StanzaJournal) (*Component, *scriptRecorder) {
	t.Helper()
	c, err := New(Config{
		Conn:     stream.Config{Domain: "gw.example.test"},
		Platform: fakePlatform,
		Journal:  in,
		Logger:   slog.New(slog.DiscardHandler),
	}, hub)
	if err != nil {
		t.Fatal(err)
	}
	rec := &scriptRecorder{}
	c.SetSender(rec)
	return c, rec
}

// TestIntakeRecordsAndReplays records what the connection read (as its
// stream.Intake) into a real intake on sqlite, marks only the first
// message handled, and has a new component — the next process — handle
// the rest at start: new messages as replays (gateway.SendOptions.Replayed),
// corrections again; then nothing is left. Chat states alone, errors and
// chat commands to the gateway are not recorded.
func TestIntakeRecordsAndReplays(t *testing.T) {
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "intake.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := delivery.NewIntake(delivery.IntakeConfig{Store: st})
	ctx, cancel := context.WithCancel(t.Context())
	in.Start(ctx)
	t.Cleanup(func() { cancel(); in.Stop() })

	first, _ := intakeComponent(t, newFakeHub(), in)
	read := []string{
		`<message type='chat' id='m1' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>handled before the crash</body></message>`,
		`<message type='chat' id='m2' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>left over</body><origin-id xmlns='urn:xmpp:sid:0' id='o2'/><request xmlns='urn:xmpp:receipts'/></message>`,
		`<message type='chat' id='m3' from='alice@example.test/phone' to='+15550000001@gw.example.test'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
		`<message type='chat' id='m4' from='alice@example.test/phone' to='gw.example.test'><body>help</body></message>`,
		`<message type='error' id='m5' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>bounced</body></message>`,
		`<message type='chat' id='m6' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>left over, fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='m2'/></message>`,
	}
	var ps []stanza.Packet
	for _, raw := range read {
		var m stanza.Message
		if err := xml.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, m)
	}
	var recorder stream.Intake = &intake{j: in, c: first} // what New gives the connection
	dones := recorder.Record(t.Context(), ps)
	var recorded []int
	for i, d := range dones {
		if d != nil {
			recorded = append(recorded, i+1)
		}
	}
	if want := []int{1, 2, 6}; !slices.Equal(recorded, want) {
		t.Fatalf("recorded m%v, want m%v", recorded, want)
	}
	dones[0]() // m1 was handled; then the process died
	testutil.WaitFor(t, "m1 to leave the intake", func() bool {
		left, err := in.Pending(t.Context())
		return err == nil && len(left) == 2
	})

	hub := newFakeHub()
	linkFake(hub, "alice@example.test")
	second, _ := intakeComponent(t, hub, in)
	second.replayIntake(t.Context())

	var calls []string
	hub.mu.Lock()
	for _, c := range hub.calls {
		if strings.HasPrefix(c, "SendMessage ") || strings.HasPrefix(c, "EditMessage ") {
			calls = append(calls, c)
		}
	}
	hub.mu.Unlock()
	if len(calls) != 2 || !strings.Contains(calls[0], `"left over"`) || !strings.Contains(calls[0], `["m2","o2"]`) ||
		!strings.Contains(calls[1], `"m2" "left over, fixed" "m6"`) {
		t.Fatalf("replayed calls = %q, want m2 sent (ids m2 and o2), then m6 correcting it", calls)
	}
	hub.mu.Lock()
	opts := hub.sendOpts
	hub.mu.Unlock()
	if len(opts) != 1 || !opts[0].Replayed {
		t.Errorf("send options of the replay = %+v, want Replayed", opts)
	}
	testutil.WaitFor(t, "the intake to empty", func() bool {
		left, err := in.Pending(t.Context())
		return err == nil && len(left) == 0
	})
}

// TestRecordedMessageDoneWhenItLeavesItsChatQueue checks that a recorded
// message waiting for its files in its chat's queue (chatqueue.go), and
// the chat's next message behind it, are marked done only once they have
// gone to the hub, in order — not when the lane's Handler returned — and
// not at all if the component stops first (they stay recorded).
func TestRecordedMessageDoneWhenItLeavesItsChatQueue(t *testing.T) {
	hub := newFakeHub()
	linkFake(hub, "alice@example.test")
	hub.sendGate = make(chan struct{})
	c, _ := intakeComponent(t, hub, nil)
	msg := func(id, extra string) stanza.Message {
		var m stanza.Message
		raw := `<message type='chat' id='` + id + `' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>` + id + `</body>` + extra + `</message>`
		if err := xml.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	var mu sync.Mutex
	var done []string
	doneFn := func(id string) func() {
		return func() {
			mu.Lock()
			done = append(done, id)
			mu.Unlock()
		}
	}
	doneIDs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(done)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c.handleRecorded(ctx, msg("f1", `<x xmlns='jabber:x:oob'><url>https://files.example.test/a.jpg</url></x>`), doneFn("f1"))
	c.handleRecorded(ctx, msg("t2", ""), doneFn("t2"))
	if got := doneIDs(); len(got) != 0 {
		t.Fatalf("done %v while both wait in the chat queue", got)
	}
	close(hub.sendGate)
	testutil.WaitFor(t, "both to be done", func() bool { return len(doneIDs()) == 2 })
	if got := doneIDs(); !slices.Equal(got, []string{"f1", "t2"}) {
		t.Errorf("done in the order %v, want [f1 t2]", got)
	}

	// The component stops while one waits: it stays recorded.
	hub.mu.Lock()
	hub.sendGate = make(chan struct{})
	gate := hub.sendGate
	hub.mu.Unlock()
	stopCtx, stop := context.WithCancel(t.Context())
	c.handleRecorded(stopCtx, msg("f3", `<x xmlns='jabber:x:oob'><url>https://files.example.test/b.jpg</url></x>`), doneFn("f3"))
	stop()
	close(gate)
	c.chatq.wait()
	if got := doneIDs(); slices.Contains(got, "f3") {
		t.Errorf("f3 was marked done though the component stopped before handling it: %v", got)
	}
}

// TestIntakeReplaysOwnDomainOnly checks that with several components
// sharing the hub's intake (one per platform), each handles at start only
// the recorded messages addressed to its own domain and leaves the
// others' recorded for them, instead of refusing them as misaddressed.
func TestIntakeReplaysOwnDomainOnly(t *testing.T) {
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "intake.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := delivery.NewIntake(delivery.IntakeConfig{Store: st})
	ctx, cancel := context.WithCancel(t.Context())
	in.Start(ctx)
	t.Cleanup(func() { cancel(); in.Stop() })
	var items []delivery.IntakeItem
	for _, raw := range []string{
		`<message type='chat' id='a1' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>for gw</body></message>`,
		`<message type='chat' id='b1' from='alice@example.test/phone' to='+15550000001@other.example.test'><body>for other</body></message>`,
	} {
		items = append(items, delivery.IntakeItem{Sender: "alice@example.test", Data: []byte(raw)})
	}
	if _, err := in.Append(t.Context(), items); err != nil {
		t.Fatal(err)
	}

	sent := func(hub *fakeHub) []string {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		var out []string
		for _, c := range hub.calls {
			if strings.HasPrefix(c, "SendMessage ") {
				out = append(out, c)
			}
		}
		return out
	}
	hub := newFakeHub()
	linkFake(hub, "alice@example.test")
	gw, rec := intakeComponent(t, hub, in)
	gw.replayIntake(t.Context())
	if calls := sent(hub); len(calls) != 1 || !strings.Contains(calls[0], `"for gw"`) {
		t.Fatalf("gw.example.test replayed %q, want its own message only", calls)
	}
	rec.mu.Lock()
	out := strings.Join(rec.out, "\n")
	rec.mu.Unlock()
	if strings.Contains(out, `id="b1"`) {
		t.Errorf("gw.example.test answered the other component's message: %s", out)
	}
	testutil.WaitFor(t, "gw's message to leave the intake", func() bool {
		left, err := in.Pending(t.Context())
		return err == nil && len(left) == 1 && strings.Contains(string(left[0].Data), "b1")
	})

	other := newFakeHub()
	linkFake(other, "alice@example.test")
	c, err := New(Config{
		Conn: stream.Config{Domain: "other.example.test"}, Platform: fakePlatform, Journal: in,
		Logger: slog.New(slog.DiscardHandler),
	}, other)
	if err != nil {
		t.Fatal(err)
	}
	c.SetSender(&scriptRecorder{})
	c.replayIntake(t.Context())
	if calls := sent(other); len(calls) != 1 || !strings.Contains(calls[0], `"for other"`) {
		t.Fatalf("other.example.test replayed %q, want its own message", calls)
	}
	testutil.WaitFor(t, "the intake to empty", func() bool {
		left, err := in.Pending(t.Context())
		return err == nil && len(left) == 0
	})
}
