package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// orderPair is the id pair caller g records before its i-th event.
func orderPair(g, i int) store.MessageIDPair {
	return store.MessageIDPair{
		Owner: owner(g), Chat: testChat,
		XMPPID: fmt.Sprintf("x-e%d-%d", g, i), PlatformID: ids.MessageID(fmt.Sprintf("p-e%d-%d", g, i)),
	}
}

// orderEvent is caller g's i-th event.
func orderEvent(g, i int) *event.Message {
	body := fmt.Sprintf("e%d-%d", g, i)
	return &event.Message{Meta: event.Meta{Chat: testChat, ID: ids.MessageID(body)}, Body: body}
}

// missingPairs returns the pairs that caller g recorded before the
// journal item data (its event i) and that the store itself lacks.
func missingPairs(t *testing.T, st *batchStore, data []byte) []string {
	t.Helper()
	_, ev, err := decodeJournal(data)
	if err != nil {
		t.Errorf("journal item %q: %v", data, err)
		return nil
	}
	var g, i int
	if _, err := fmt.Sscanf(ev.(*event.Message).Body, "e%d-%d", &g, &i); err != nil {
		t.Errorf("journal item %q: %v", data, err)
		return nil
	}
	var missing []string
	for k := 0; k <= i; k++ {
		if p := orderPair(g, k); !hasPair(t, st, p) {
			missing = append(missing, fmt.Sprintf("%s (before %s)", p.XMPPID, ev.(*event.Message).Body))
		}
	}
	return missing
}

// TestWriterPairsBeforeTheirAppends: callers record an id pair (IDMap,
// written behind through the Writer) and then journal an event (through
// the same Writer), concurrently. Right after every write that appended
// an event — what a crash at that moment leaves — the store itself has
// every pair recorded before that event, whether the pairs went in the
// same write (IDMap.takeAll), in an earlier one (Synced), or through the
// roles' separate calls (store.ErrNoBatch); and so does the store read
// directly once all events are journaled, before anything stops.
func TestWriterPairsBeforeTheirAppends(t *testing.T) {
	const callers, events = 4, 25
	for _, be := range writerBackends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			w := NewWriter(st)
			var (
				mu      sync.Mutex
				checked int
				missing []string
			)
			st.afterAppend = func(items []store.QueueAppend) {
				for _, it := range items {
					m := missingPairs(t, st, it.Data)
					mu.Lock()
					checked++
					missing = append(missing, m...)
					mu.Unlock()
				}
			}
			idm := NewIDMap(IDMapConfig{Store: st, Writer: w})
			f := &fakeConfirmer{}
			j := NewJournal(JournalConfig{Store: st, IDs: idm, Writer: w, Frontend: func() (Confirmer, bool) { return f, true }})
			ctx, cancel := context.WithCancel(t.Context())
			idm.Start(ctx)
			j.Start(ctx)
			defer func() { cancel(); j.Stop(); idm.Stop() }()

			errs := make([]error, callers)
			var wg sync.WaitGroup
			for g := range callers {
				wg.Go(func() {
					for i := range events {
						p := orderPair(g, i)
						idm.Put(ctx, p.Owner, p.Chat, p.PlatformID, 0, p.XMPPID)
						if err := j.Emit(ctx, f, owner(g), "sandbox", orderEvent(g, i)); err != nil {
							errs[g] = err
							return
						}
					}
				})
			}
			wg.Wait()
			for g, err := range errs {
				if err != nil {
					t.Fatalf("caller %d: Emit: %v", g, err)
				}
			}
			mu.Lock()
			if checked != callers*events {
				t.Errorf("%d appends seen, want %d", checked, callers*events)
			}
			if len(missing) > 0 {
				t.Errorf("right after the write of an event, %d pairs recorded before it were not in the store: %q", len(missing), missing[:min(len(missing), 10)])
			}
			mu.Unlock()

			// A crash now: read the store as it is.
			for g := range callers {
				items := pending(t, st, owner(g))
				if len(items) != events {
					t.Errorf("%s has %d journal items, want %d", owner(g), len(items), events)
				}
				for _, it := range items {
					if m := missingPairs(t, st, it.Data); len(m) > 0 {
						t.Errorf("journaled, but not in the store: %q", m)
					}
				}
			}
			together := 0
			for _, b := range st.calls() {
				if len(b.Pairs) > 0 && len(b.Appends) > 0 {
					together++
				}
			}
			t.Logf("%d WriteBatch calls, %d of them with pairs and appends together", len(st.calls()), together)
		})
	}
}

// TestWriterJournalTakesPendingPairs: with the id map's pairs pending
// and no background write of them under way, the journal's append
// carries them in front of it in the same write (IDMap.takeAll); a write
// that fails puts them back, and the next append takes them again. Right
// after the append (in the same batch, or after the separate calls of a
// refused one) the pairs are in the store.
func TestWriterJournalTakesPendingPairs(t *testing.T) {
	for _, be := range writerBackends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			appended := 0
			st.afterAppend = func(items []store.QueueAppend) {
				for _, it := range items {
					appended++
					if m := missingPairs(t, st, it.Data); len(m) > 0 {
						t.Errorf("right after the append, not in the store: %q", m)
					}
				}
			}
			w := NewWriter(st)
			idm := NewIDMap(IDMapConfig{Store: st, Writer: w})
			// Running, but with no background writer: Put leaves the pairs
			// pending for takeAll.
			idm.mu.Lock()
			idm.running = true
			idm.mu.Unlock()
			f := &fakeConfirmer{}
			j := NewJournal(JournalConfig{Store: st, IDs: idm, Writer: w, Frontend: func() (Confirmer, bool) { return f, true }})
			ctx, cancel := context.WithCancel(t.Context())
			j.Start(ctx)
			defer func() { cancel(); j.Stop() }()

			p0, p1 := orderPair(0, 0), orderPair(0, 1)
			idm.Put(ctx, p0.Owner, p0.Chat, p0.PlatformID, 0, p0.XMPPID)
			idm.Put(ctx, p1.Owner, p1.Chat, p1.PlatformID, 0, p1.XMPPID)
			failing := st.hold(errInjected)
			close(failing.release)
			if err := j.Emit(ctx, f, owner(0), "sandbox", orderEvent(0, 1)); !errors.Is(err, ErrNotDurable) || !errors.Is(err, errInjected) {
				t.Fatalf("Emit with the write failing: %v, want ErrNotDurable and the store's error", err)
			}
			for _, p := range []store.MessageIDPair{p0, p1} {
				if hasPair(t, st, p) {
					t.Errorf("pair %s in the store after the failed write", p.XMPPID)
				}
			}
			if err := j.Emit(ctx, f, owner(0), "sandbox", orderEvent(0, 1)); err != nil {
				t.Fatal(err)
			}
			if appended != 1 {
				t.Errorf("%d appends written, want 1", appended)
			}
			calls := st.calls()
			if len(calls) != 2 {
				t.Fatalf("%d WriteBatch calls, want 2 (one failed, one written)", len(calls))
			}
			for n, b := range calls {
				if len(b.Pairs) != 2 || b.Pairs[0] != p0 || b.Pairs[1] != p1 || len(b.Appends) != 1 {
					t.Errorf("WriteBatch call %d: %d pairs, %d appends; want pairs %s, %s in front of the append", n, len(b.Pairs), len(b.Appends), p0.XMPPID, p1.XMPPID)
				}
			}
			for _, p := range []store.MessageIDPair{p0, p1} {
				if !hasPair(t, st, p) {
					t.Errorf("pair %s not in the store after the append", p.XMPPID)
				}
			}
			idm.mu.Lock()
			if len(idm.pending) != 0 || idm.finished != idm.queued {
				t.Errorf("the id map still holds %d pairs and counts %d of %d written", len(idm.pending), idm.finished, idm.queued)
			}
			idm.mu.Unlock()
		})
	}
}

// TestWriterIntakeRemovalTakesPendingPairs: the intake's removal of a
// handled stanza carries the id map's pending pairs in front of it in the
// same write (IDMap.takeAll), so right after the removal — a crash then —
// the pairs are in the store and the stanza, if handled again, is known
// as sent. A removal that fails leaves the stanza and puts the pairs
// back; the next one writes both.
func TestWriterIntakeRemovalTakesPendingPairs(t *testing.T) {
	for _, be := range writerBackends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			ctx := t.Context()
			w := NewWriter(st)
			idm := NewIDMap(IDMapConfig{Store: st, Writer: w})
			idm.mu.Lock()
			idm.running = true // no background writer: the pairs stay pending
			idm.mu.Unlock()
			in := NewIntake(IntakeConfig{Store: st, IDs: idm, Writer: w, Log: slog.New(slog.DiscardHandler)})
			seqs, err := in.Append(ctx, []IntakeItem{{Sender: owner(0), Data: []byte("stanza")}})
			if err != nil {
				t.Fatal(err)
			}
			queue := intakeOf(owner(0))
			p := orderPair(0, 0)
			removed := 0
			st.afterAck = func(refs []store.QueueRef) {
				for _, r := range refs {
					if r.Owner != queue {
						continue
					}
					removed++
					if !hasPair(t, st, p) {
						t.Errorf("right after the removal of stanza %s, pair %s is not in the store", r.Seq, p.XMPPID)
					}
				}
			}
			idm.Put(ctx, p.Owner, p.Chat, p.PlatformID, 0, p.XMPPID)
			in.Done(owner(0), seqs[0])

			failing := st.hold(errInjected)
			close(failing.release)
			if in.removeDone(ctx) {
				t.Fatal("removeDone reported success with the write failing")
			}
			if hasPair(t, st, p) {
				t.Error("the pair is in the store after the failed removal")
			}
			if n := len(pending(t, st, queue)); n != 1 {
				t.Errorf("%d stanzas recorded after the failed removal, want 1", n)
			}
			if !in.removeDone(ctx) {
				t.Fatal("removeDone failed")
			}
			if n := len(pending(t, st, queue)); n != 0 {
				t.Errorf("%d stanzas recorded after the removal, want 0", n)
			}
			if removed != 1 {
				t.Errorf("%d removals written, want 1", removed)
			}
			calls := st.calls()
			if len(calls) != 3 {
				t.Fatalf("%d WriteBatch calls, want 3 (the record, the failed removal, the removal)", len(calls))
			}
			for n, b := range calls[1:] {
				if len(b.Pairs) != 1 || b.Pairs[0] != p || len(b.Acks) != 1 || b.Acks[0].Seq != seqs[0] {
					t.Errorf("removal %d: pairs %v, acks %v; want pair %s in front of the removal of %s", n, b.Pairs, b.Acks, p.XMPPID, seqs[0])
				}
			}
		})
	}
}
