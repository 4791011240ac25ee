package delivery

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// fakeConfirmer is a Confirmer that holds the done callbacks until told to
// confirm.
type fakeConfirmer struct {
	mu        sync.Mutex
	delivered []string
	done      []func()
}

func (f *fakeConfirmer) DeliverConfirmed(_ context.Context, _ ids.Owner, _ ids.PlatformID, ev event.Event, done func()) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, ev.(*event.Message).Body)
	f.done = append(f.done, done)
	return nil
}

func (f *fakeConfirmer) confirmAll() {
	f.mu.Lock()
	done := f.done
	f.done = nil
	f.mu.Unlock()
	for _, d := range done {
		d()
	}
}

func (f *fakeConfirmer) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.delivered...)
}

func pendingLen(t *testing.T, q *countingQueues) int {
	t.Helper()
	items, err := q.Pending(t.Context(), testOwner, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// TestJournalAlone checks the journal against a fake frontend: an emitted
// event is delivered and stays journaled until confirmed; one never
// confirmed is replayed by the next journal on the same store; and an
// event the store cannot take is refused with ErrNotDurable.
func TestJournalAlone(t *testing.T) {
	q := &countingQueues{Store: openStore(t)}
	f := &fakeConfirmer{}
	newJ := func() *Journal {
		return NewJournal(JournalConfig{Store: q, Frontend: func() (Confirmer, bool) { return f, true }})
	}
	msg := func(body string) *event.Message {
		return &event.Message{Meta: event.Meta{Chat: testChat, ID: ids.MessageID(body)}, Body: body}
	}
	j := newJ()
	ctx, cancel := context.WithCancel(t.Context())
	j.Start(ctx)
	if err := j.Emit(ctx, f, testOwner, "sandbox", msg("confirmed")); err != nil {
		t.Fatal(err)
	}
	if n := pendingLen(t, q); n != 1 {
		t.Fatalf("%d journaled before confirmation, want 1", n)
	}
	f.confirmAll()
	testutil.WaitFor(t, "the confirmed event to leave the journal", func() bool { return pendingLen(t, q) == 0 })

	if err := j.Emit(ctx, f, testOwner, "sandbox", msg("unconfirmed")); err != nil {
		t.Fatal(err)
	}
	q.fail.Store(true)
	if err := j.Emit(ctx, f, testOwner, "sandbox", msg("refused")); !errors.Is(err, ErrNotDurable) {
		t.Errorf("Emit with the store down: %v, want ErrNotDurable", err)
	}
	q.fail.Store(false)
	cancel()
	j.Stop()

	// The next process replays what was not confirmed, and only that.
	j = newJ()
	ctx, cancel = context.WithCancel(t.Context())
	defer func() { cancel(); j.Stop() }()
	j.Start(ctx)
	j.Replay(ctx)
	got := f.bodies()
	if len(got) != 3 || got[0] != "confirmed" || got[1] != "unconfirmed" || got[2] != "unconfirmed" {
		t.Errorf("delivered %q, want confirmed, unconfirmed, and unconfirmed again", got)
	}
	f.confirmAll()
	testutil.WaitFor(t, "the replayed event to leave the journal", func() bool { return pendingLen(t, q) == 0 })
}

// TestJournalWriteLostOnTheWayBack: a journal write the store took but
// reported failed (its reply was lost) leaves an item behind that nobody
// has in flight. The adapter offers the event again and that copy is
// delivered; the next pass finds the orphan and removes it without a
// second delivery, so the journal empties.
func TestJournalWriteLostOnTheWayBack(t *testing.T) {
	q := &countingQueues{Store: openStore(t)}
	f := &fakeConfirmer{}
	idm := NewIDMap(IDMapConfig{Store: q})
	j := NewJournal(JournalConfig{Store: q, Frontend: func() (Confirmer, bool) { return f, true }, IDs: idm})
	ctx, cancel := context.WithCancel(t.Context())
	defer func() { cancel(); j.Stop() }()
	j.Start(ctx)
	msg := &event.Message{Meta: event.Meta{Chat: testChat, ID: "W1"}, Body: "hello"}

	q.lostReply.Store(true)
	if err := j.Emit(ctx, f, testOwner, "sandbox", msg); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("Emit whose write reply was lost: %v, want ErrNotDurable", err)
	}
	if n := pendingLen(t, q); n != 1 {
		t.Fatalf("%d items in the store after the lost reply, want the orphan", n)
	}
	// The adapter offers it again; this copy goes out (the hub notes it, under the chat's ChatKey).
	if err := j.Emit(ctx, f, testOwner, "sandbox", msg); err != nil {
		t.Fatal(err)
	}
	idm.NoteInbound(testOwner, ChatKey("sandbox", testChat), "W1")
	f.confirmAll()
	testutil.WaitFor(t, "an empty journal", func() bool { return pendingLen(t, q) == 0 })
	if got := f.bodies(); len(got) != 1 {
		t.Errorf("delivered %q, want the message once", got)
	}
}

// TestJournalWaitsForEarlierIDPairs: an event emitted after a send's id
// pair was recorded is journaled (and so can reach the user) only once
// that pair is in the store, so that a message the intake replays after a
// crash is known as sent whenever its echo could have been seen. Without
// the wait, the echo was journaled while the pair still waited (the
// gateway's SIGKILL test then saw every message echoed twice).
func TestJournalWaitsForEarlierIDPairs(t *testing.T) {
	gated := gatedIDs{Store: openStore(t), gate: make(chan struct{})}
	q := &countingQueues{Store: gated}
	m := NewIDMap(IDMapConfig{Store: gated})
	ctx, cancel := context.WithCancel(t.Context())
	m.Start(ctx)
	f := &fakeConfirmer{}
	j := NewJournal(JournalConfig{Store: q, IDs: m, Frontend: func() (Confirmer, bool) { return f, true }})
	j.Start(ctx)
	var open sync.Once
	release := func() { open.Do(func() { close(gated.gate) }) }
	defer func() { release(); cancel(); j.Stop(); m.Stop() }()

	m.Put(ctx, testOwner, testChat, "p1", 1, "x1") // the send
	emitted := make(chan error, 1)
	go func() {
		emitted <- j.Emit(ctx, f, testOwner, "sandbox", &event.Message{Meta: event.Meta{Chat: testChat, ID: "echo"}, Body: "echo"})
	}()
	select {
	case err := <-emitted:
		t.Fatalf("the echo was journaled (%v) before the send's id pair was written", err)
	case <-time.After(50 * time.Millisecond):
		// Not a synchronisation: the assertion is that nothing happens
		// while the pair waits; Emit is then checked to complete.
	}
	if n := q.items.Load(); n != 0 {
		t.Fatalf("%d journal items written while the id pair waits", n)
	}
	release()
	if err := <-emitted; err != nil {
		t.Fatal(err)
	}
	if _, err := gated.PlatformMessageID(ctx, testOwner, testChat, "x1"); err != nil {
		t.Errorf("the pair is not in the store after the echo was journaled: %v", err)
	}
}

// disowningConfirmer refuses every delivery, as the hub does for an owner
// it stopped serving.
type disowningConfirmer struct{}

func (disowningConfirmer) DeliverConfirmed(context.Context, ids.Owner, ids.PlatformID, event.Event, func()) error {
	return errors.New("owner not served here")
}

// TestJournalKeepsEventsOfAnOwnerGoneElsewhere checks that a delivery
// that fails because the owner went to another process (Owns turned
// false) leaves the event journaled for that process, where any other
// failure removes it.
func TestJournalKeepsEventsOfAnOwnerGoneElsewhere(t *testing.T) {
	for _, tc := range []struct {
		name       string
		owns       bool
		pending    int
		deliverErr bool
	}{
		{"owner gone elsewhere", false, 1, false},
		{"owner still here", true, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &countingQueues{Store: openStore(t)}
			j := NewJournal(JournalConfig{Store: q, Owns: func(ids.Owner) bool { return tc.owns }})
			j.Start(t.Context())
			err := j.Emit(t.Context(), disowningConfirmer{}, testOwner, "sandbox", &event.Message{Meta: event.Meta{Chat: testChat, ID: "m1"}, Body: "m1"})
			if (err != nil) != tc.deliverErr {
				t.Errorf("Emit: %v, want an error: %v", err, tc.deliverErr)
			}
			if n := pendingLen(t, q); n != tc.pending {
				t.Errorf("%d journaled after the failed delivery, want %d", n, tc.pending)
			}
		})
	}
}
