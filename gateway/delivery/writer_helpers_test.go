package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// writeResult is one Write call's outcome.
type writeResult struct {
	seqs []string
	err  error
}

// startWrite runs w.Write(ctx, b) on its own goroutine; its outcome
// arrives on the channel.
func startWrite(ctx context.Context, w *Writer, b store.Batch) <-chan writeResult {
	ch := make(chan writeResult, 1)
	go func() {
		seqs, err := w.Write(ctx, b)
		ch <- writeResult{seqs, err}
	}()
	return ch
}

// await returns the outcome of a write started by startWrite.
func await(t *testing.T, what string, ch <-chan writeResult) writeResult {
	t.Helper()
	var r writeResult
	ok := testutil.Poll(testutil.DefaultTimeout, func() bool {
		select {
		case r = <-ch:
			return true
		default:
			return false
		}
	})
	if !ok {
		t.Fatalf("%s: Write did not return within %v", what, testutil.DefaultTimeout)
	}
	return r
}

// waitEntered waits until a held WriteBatch call has started.
func waitEntered(t *testing.T, s *batchStep) {
	t.Helper()
	testutil.WaitFor(t, "the held WriteBatch call to start", func() bool {
		select {
		case <-s.entered:
			return true
		default:
			return false
		}
	})
}

// queued is the number of parts waiting in w's queue.
func queued(w *Writer) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// idle reports whether w has no write under way and nothing queued.
func idle(w *Writer) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.busy && len(w.queue) == 0
}

// enqueueBehind starts a Write of b and waits until it is queued as the
// n-th part behind the write under way, so that the queue's order is
// the order of the calls.
func enqueueBehind(t *testing.T, ctx context.Context, w *Writer, n int, b store.Batch) <-chan writeResult {
	t.Helper()
	ch := startWrite(ctx, w, b)
	testutil.WaitFor(t, fmt.Sprintf("part %d to queue", n), func() bool { return queued(w) == n })
	return ch
}

// owner is the owner of test caller g.
func owner(g int) ids.Owner { return ids.Owner(fmt.Sprintf("u%d@example.test", g)) }

// testPart is a part of owner's: one id pair named after tag, n appends
// (data tag-0, tag-1, ...) and the given acks.
func testPart(owner ids.Owner, tag string, n int, acks ...store.QueueRef) store.Batch {
	b := store.Batch{
		Pairs: []store.MessageIDPair{{Owner: owner, Chat: testChat, XMPPID: "x-" + tag, PlatformID: ids.MessageID("p-" + tag)}},
		Acks:  acks,
	}
	for i := range n {
		b.Appends = append(b.Appends, store.QueueAppend{Owner: owner, Data: fmt.Appendf(nil, "%s-%d", tag, i)})
	}
	return b
}

// enqueued appends data to owner's queue directly (not through the
// wrapper's counters) and returns a reference to it, to be acked.
func enqueued(t *testing.T, st *batchStore, owner ids.Owner, data string) store.QueueRef {
	t.Helper()
	seq, err := st.Store.Enqueue(t.Context(), owner, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return store.QueueRef{Owner: owner, Seq: seq}
}

// pending returns owner's queued items, oldest first, read from the
// store itself.
func pending(t *testing.T, st *batchStore, owner ids.Owner) []store.QueueItem {
	t.Helper()
	items, err := st.Store.Pending(t.Context(), owner, 0)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// hasPair reports whether the store itself has p.
func hasPair(t *testing.T, st *batchStore, p store.MessageIDPair) bool {
	t.Helper()
	x, err := st.Store.XMPPMessageID(context.WithoutCancel(t.Context()), p.Owner, p.Chat, p.PlatformID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false
	case err != nil:
		t.Errorf("look up %s: %v", p.PlatformID, err)
		return false
	}
	return x == p.XMPPID
}

// checkWritten checks that b, whose Write returned r, is in the store:
// the call succeeded, its pairs are there, its appends are queued under
// the sequences returned, in order and once each, and its acked items
// are gone. The owners' queues must hold nothing but b's appends (the
// tests give each part owners of its own).
func checkWritten(t *testing.T, st *batchStore, what string, b store.Batch, r writeResult) {
	t.Helper()
	if r.err != nil {
		t.Errorf("%s: Write: %v", what, r.err)
		return
	}
	if len(r.seqs) != len(b.Appends) {
		t.Errorf("%s: %d sequences for %d appends", what, len(r.seqs), len(b.Appends))
		return
	}
	for _, p := range b.Pairs {
		if !hasPair(t, st, p) {
			t.Errorf("%s: pair %s ↔ %s not in the store", what, p.XMPPID, p.PlatformID)
		}
	}
	owners := map[ids.Owner]bool{}
	for _, a := range b.Appends {
		owners[a.Owner] = true
	}
	for o := range owners {
		var want []string
		for i, a := range b.Appends {
			if a.Owner == o {
				want = append(want, r.seqs[i]+"="+string(a.Data))
			}
		}
		var got []string
		for _, it := range pending(t, st, o) {
			seq := it.Seq
			if !slices.Contains(r.seqs, seq) {
				seq = "?"
			}
			got = append(got, seq+"="+string(it.Data))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %s's queue %s", what, o, diffItems(got, want))
		}
	}
	for _, a := range b.Acks {
		for _, it := range pending(t, st, a.Owner) {
			if it.Seq == a.Seq {
				t.Errorf("%s: acked item %s of %s still queued", what, a.Seq, a.Owner)
			}
		}
	}
}

// checkNotWritten checks that nothing of b is in the store: no pair, no
// append (its owners' queues hold only what was acked by b, still
// there).
func checkNotWritten(t *testing.T, st *batchStore, what string, b store.Batch) {
	t.Helper()
	for _, p := range b.Pairs {
		if hasPair(t, st, p) {
			t.Errorf("%s: pair %s ↔ %s in the store after a failed write", what, p.XMPPID, p.PlatformID)
		}
	}
	for _, a := range b.Appends {
		for _, it := range pending(t, st, a.Owner) {
			if string(it.Data) == string(a.Data) {
				t.Errorf("%s: item %q queued after a failed write", what, a.Data)
			}
		}
	}
	for _, a := range b.Acks {
		found := false
		for _, it := range pending(t, st, a.Owner) {
			found = found || it.Seq == a.Seq
		}
		if !found {
			t.Errorf("%s: item %s of %s acked by a failed write", what, a.Seq, a.Owner)
		}
	}
}

// diffItems describes how the queue got differs from want, briefly.
func diffItems(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("holds %d items, want %d; item %d is %q, want %q", len(got), len(want), i, got[i], want[i])
		}
	}
	return fmt.Sprintf("holds %d items, want %d (the first ones agree)", len(got), len(want))
}
