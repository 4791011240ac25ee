package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// batchingBackends are the writerBackends that write a batch in one call.
func batchingBackends() []writerBackend {
	return slices.DeleteFunc(slices.Clone(writerBackends), func(b writerBackend) bool { return b.apart })
}

// TestWriterCombinesQueuedParts: parts that come in while a write is
// under way are written together by the next WriteBatch call, in the
// order they came (the pairs of every part, then the appends, then the
// acks), and each caller gets the sequences of its own appends.
func TestWriterCombinesQueuedParts(t *testing.T) {
	const callers = 6
	for _, be := range batchingBackends() {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			w := NewWriter(st)
			ctx := t.Context()

			held := st.hold(nil)
			lead := testPart(owner(100), "lead", 1)
			leadCh := startWrite(ctx, w, lead)
			waitEntered(t, held)
			parts := make([]store.Batch, callers)
			chs := make([]<-chan writeResult, callers)
			for g := range callers {
				parts[g] = testPart(owner(g), fmt.Sprintf("g%d", g), 3, enqueued(t, st, owner(g), "to-ack"))
				chs[g] = enqueueBehind(t, ctx, w, g+1, parts[g])
			}
			close(held.release)

			checkWritten(t, st, "the leader", lead, await(t, "the leader", leadCh))
			for g := range callers {
				what := fmt.Sprintf("caller %d", g)
				checkWritten(t, st, what, parts[g], await(t, what, chs[g]))
			}
			calls := st.calls()
			if len(calls) != 2 {
				t.Fatalf("%d WriteBatch calls for %d parts, want 2 (the leader's, then the queued parts together)", len(calls), callers+1)
			}
			var want store.Batch
			for _, p := range parts {
				want.Pairs = append(want.Pairs, p.Pairs...)
				want.Appends = append(want.Appends, p.Appends...)
				want.Acks = append(want.Acks, p.Acks...)
			}
			if got := calls[1]; !slices.Equal(got.Pairs, want.Pairs) || !slices.EqualFunc(got.Appends, want.Appends, sameAppend) || !slices.Equal(got.Acks, want.Acks) {
				t.Errorf("the combined batch is\n%+v\nwant the parts' pairs, appends and acks, each in the parts' order:\n%+v", got, want)
			}
			if st.apartCalls() != 0 {
				t.Errorf("%d separate role calls, want none", st.apartCalls())
			}
			if !idle(w) {
				t.Error("the writer is not idle after every Write returned")
			}
		})
	}
}

func sameAppend(a, b store.QueueAppend) bool {
	return a.Owner == b.Owner && string(a.Data) == string(b.Data)
}

// TestWriterKeepsEachCallersOrder: callers that each write several parts
// one after the other, concurrently with each other, find their items
// queued in the order they wrote them, under the sequences they got, and
// nothing else; the writes take no more WriteBatch calls than parts.
func TestWriterKeepsEachCallersOrder(t *testing.T) {
	const callers, rounds, perPart = 6, 8, 2
	for _, be := range writerBackends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			w := NewWriter(st)
			ctx := t.Context()
			seqs := make([][]string, callers)
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for g := range callers {
				wg.Go(func() {
					for k := range rounds {
						s, err := w.Write(ctx, testPart(owner(g), fmt.Sprintf("g%d-r%d", g, k), perPart))
						if err != nil {
							errs[g] = err
							return
						}
						seqs[g] = append(seqs[g], s...)
					}
				})
			}
			wg.Wait()
			for g := range callers {
				if errs[g] != nil {
					t.Fatalf("caller %d: %v", g, errs[g])
				}
				if len(seqs[g]) != rounds*perPart {
					t.Errorf("caller %d got %d sequences for %d appends", g, len(seqs[g]), rounds*perPart)
					continue
				}
				var want, got []string
				for k := range rounds {
					for i := range perPart {
						want = append(want, fmt.Sprintf("%s=g%d-r%d-%d", seqs[g][k*perPart+i], g, k, i))
					}
				}
				for _, it := range pending(t, st, owner(g)) {
					got = append(got, it.Seq+"="+string(it.Data))
				}
				if !slices.Equal(got, want) {
					t.Errorf("caller %d's queue %s", g, diffItems(got, want))
				}
			}
			if n, parts := len(st.calls()), callers*rounds; n > parts {
				t.Errorf("%d WriteBatch calls for %d parts", n, parts)
			} else {
				t.Logf("%d parts in %d WriteBatch calls", parts, n)
			}
		})
	}
}

// TestWriterNoBatchFallsBack: when the store refuses a batch
// (store.ErrNoBatch: owner fences, Cluster), each part of it is written
// with the roles' own calls, and each caller gets the same outcome as
// from a batch: its appends' sequences, or its own error (an owner the
// worker does not hold is refused for that part only).
func TestWriterNoBatchFallsBack(t *testing.T) {
	backends := []writerBackend{
		{name: "sqlite-refusing-batches", apart: true, open: func(t *testing.T) *batchStore {
			st := newBatchStore(t, openStore(t))
			st.noBatch = true
			return st
		}},
	}
	for _, be := range writerBackends {
		if be.apart {
			backends = append(backends, be)
		}
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			w := NewWriter(st)
			ctx := t.Context()

			held := st.hold(nil)
			lead := testPart(owner(100), "lead", 1)
			leadCh := startWrite(ctx, w, lead)
			waitEntered(t, held)
			// One append (Enqueue), several (EnqueueAll), only acks, only a
			// pair: the separate calls each part needs, and no others.
			parts := []store.Batch{
				testPart(owner(0), "one", 1),
				testPart(owner(1), "many", 3, enqueued(t, st, owner(1), "to-ack")),
				{Acks: []store.QueueRef{enqueued(t, st, owner(2), "to-ack")}},
				{Pairs: testPart(owner(3), "pair-only", 0).Pairs},
			}
			calls := []int{2, 3, 1, 1}
			chs := make([]<-chan writeResult, len(parts))
			for g, p := range parts {
				chs[g] = enqueueBehind(t, ctx, w, g+1, p)
			}
			before := st.apartCalls()
			close(held.release)

			checkWritten(t, st, "the leader", lead, await(t, "the leader", leadCh))
			for g := range parts {
				what := fmt.Sprintf("part %d", g)
				checkWritten(t, st, what, parts[g], await(t, what, chs[g]))
			}
			if n := len(st.calls()); n != 2 {
				t.Errorf("%d WriteBatch calls, want 2 (each refused, then written apart)", n)
			}
			want := 2 // the leader's pair and append
			for _, c := range calls {
				want += c
			}
			if got := st.apartCalls() - before; got != want {
				t.Errorf("%d separate role calls, want %d", got, want)
			}
			if !idle(w) {
				t.Error("the writer is not idle after every Write returned")
			}
		})
	}
}

// TestWriterNoBatchFailsOnlyTheRefusedPart: under owner fences a batch
// with a part of an owner this worker does not hold is refused as a whole
// (store.ErrNoBatch); written apart, that part fails with
// store.ErrFenced, and the other parts of the same batch are written.
func TestWriterNoBatchFailsOnlyTheRefusedPart(t *testing.T) {
	st := newBatchStore(t, openRedis(t, true))
	w := NewWriter(st)
	ctx := t.Context()
	held := st.hold(nil)
	lead := testPart(owner(100), "lead", 1)
	leadCh := startWrite(ctx, w, lead)
	waitEntered(t, held)
	good1 := testPart(owner(1), "good1", 2)
	bad := testPart(notHeld, "bad", 2)
	good2 := testPart(owner(2), "good2", 1)
	ch1 := enqueueBehind(t, ctx, w, 1, good1)
	chBad := enqueueBehind(t, ctx, w, 2, bad)
	ch2 := enqueueBehind(t, ctx, w, 3, good2)
	close(held.release)

	checkWritten(t, st, "the leader", lead, await(t, "the leader", leadCh))
	checkWritten(t, st, "the part before", good1, await(t, "the part before", ch1))
	checkWritten(t, st, "the part after", good2, await(t, "the part after", ch2))
	if r := await(t, "the refused part", chBad); !errors.Is(r.err, store.ErrFenced) || r.seqs != nil {
		t.Errorf("the refused part: %q, %v; want no sequences and store.ErrFenced", r.seqs, r.err)
	}
	checkNotWritten(t, st, "the refused part", bad)
}

// errInjected is the batchStore's failure of a batch.
var errInjected = errors.New("injected batch failure")

// TestWriterBatchErrorFailsEveryPart: a WriteBatch error fails every part
// of that batch (each caller gets it, none gets sequences, nothing of it
// is written), and the parts queued behind it are written by the next
// batch.
func TestWriterBatchErrorFailsEveryPart(t *testing.T) {
	for _, be := range batchingBackends() {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			w := NewWriter(st)
			ctx := t.Context()

			first := st.hold(nil)
			failing := st.hold(errInjected)
			lead := testPart(owner(100), "lead", 1)
			leadCh := startWrite(ctx, w, lead)
			waitEntered(t, first)
			var failed []store.Batch
			var failedChs []<-chan writeResult
			for g := range 4 {
				p := testPart(owner(g), fmt.Sprintf("failed%d", g), 2, enqueued(t, st, owner(g), "to-ack"))
				failed = append(failed, p)
				failedChs = append(failedChs, enqueueBehind(t, ctx, w, g+1, p))
			}
			close(first.release)
			waitEntered(t, failing)
			var next []store.Batch
			var nextChs []<-chan writeResult
			for g := range 3 {
				p := testPart(owner(10+g), fmt.Sprintf("next%d", g), 2, enqueued(t, st, owner(10+g), "to-ack"))
				next = append(next, p)
				nextChs = append(nextChs, enqueueBehind(t, ctx, w, g+1, p))
			}
			close(failing.release)

			checkWritten(t, st, "the leader", lead, await(t, "the leader", leadCh))
			for g, p := range failed {
				what := fmt.Sprintf("failed part %d", g)
				if r := await(t, what, failedChs[g]); !errors.Is(r.err, errInjected) || r.seqs != nil {
					t.Errorf("%s: %q, %v; want no sequences and the batch's error", what, r.seqs, r.err)
				}
				checkNotWritten(t, st, what, p)
			}
			for g, p := range next {
				what := fmt.Sprintf("next part %d", g)
				checkWritten(t, st, what, p, await(t, what, nextChs[g]))
			}
			if n := len(st.calls()); n != 3 {
				t.Errorf("%d WriteBatch calls, want 3 (the leader's, the failed one, the next one)", n)
			}
			if !idle(w) {
				t.Error("the writer is not idle after every Write returned")
			}
		})
	}
}

// TestWriterCanceledCallerLosesNothing: a caller's context ended while
// its part waits (or while it writes a batch, or before it called
// Write) neither drops nor repeats any part, its own included: every
// caller gets its outcome, and every item is queued once.
func TestWriterCanceledCallerLosesNothing(t *testing.T) {
	const queuedParts = 4
	cases := []struct {
		name string
		// cancel lists the callers whose context ends while the first
		// batch is held: 0 is the caller writing it, 1.. those queued.
		cancel []int
		// early is the caller whose context ends before it calls Write.
		early int
	}{
		{name: "the next leader", cancel: []int{1}, early: -1},
		{name: "a follower", cancel: []int{2}, early: -1},
		{name: "the last queued", cancel: []int{queuedParts}, early: -1},
		{name: "the writing leader", cancel: []int{0}, early: -1},
		{name: "everyone", cancel: []int{0, 1, 2, 3, 4}, early: -1},
		{name: "before the call", early: 3},
	}
	for _, be := range writerBackends {
		for _, tc := range cases {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				st := be.open(t)
				w := NewWriter(st)
				parts := make([]store.Batch, queuedParts+1)
				chs := make([]<-chan writeResult, queuedParts+1)
				cancels := make([]context.CancelFunc, queuedParts+1)
				ctxs := make([]context.Context, queuedParts+1)
				for g := range parts {
					parts[g] = testPart(owner(g), fmt.Sprintf("g%d", g), 2, enqueued(t, st, owner(g), "to-ack"))
					ctxs[g], cancels[g] = context.WithCancel(t.Context())
					defer cancels[g]()
				}
				held := st.hold(nil)
				chs[0] = startWrite(ctxs[0], w, parts[0])
				waitEntered(t, held)
				for g := 1; g <= queuedParts; g++ {
					if g == tc.early {
						cancels[g]()
					}
					chs[g] = enqueueBehind(t, ctxs[g], w, g, parts[g])
				}
				for _, g := range tc.cancel {
					cancels[g]()
				}
				close(held.release)

				for g := range parts {
					what := fmt.Sprintf("caller %d", g)
					checkWritten(t, st, what, parts[g], await(t, what, chs[g]))
				}
				if n := len(st.calls()); n != 2 {
					t.Errorf("%d WriteBatch calls, want 2", n)
				}
				if !idle(w) {
					t.Error("the writer is not idle after every Write returned")
				}
			})
		}
	}
}

// TestWriterBatchLimit: queued parts are combined up to writerMax writes
// per batch, in order; a part larger than that is written alone (with
// Redis, whose limit is the same, through the roles' calls).
func TestWriterBatchLimit(t *testing.T) {
	sizes := []int{1000, 1000, 1000, writerMax + 100}
	// Each part has a pair too: 1001 + 1001 fits, a third does not.
	wantLens := []int{2, 2002, 1001, writerMax + 101}
	for _, be := range batchingBackends() {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			w := NewWriter(st)
			ctx := t.Context()
			held := st.hold(nil)
			lead := testPart(owner(100), "lead", 1)
			leadCh := startWrite(ctx, w, lead)
			waitEntered(t, held)
			parts := make([]store.Batch, len(sizes))
			chs := make([]<-chan writeResult, len(sizes))
			for g, n := range sizes {
				parts[g] = spreadPart(g, n)
				chs[g] = enqueueBehind(t, ctx, w, g+1, parts[g])
			}
			close(held.release)
			checkWritten(t, st, "the leader", lead, await(t, "the leader", leadCh))
			for g := range parts {
				what := fmt.Sprintf("part %d", g)
				checkWritten(t, st, what, parts[g], await(t, what, chs[g]))
			}
			var lens []int
			for _, b := range st.calls() {
				lens = append(lens, b.Len())
			}
			if !slices.Equal(lens, wantLens) {
				t.Errorf("WriteBatch calls of %v writes, want %v", lens, wantLens)
			}
		})
	}
}

// spreadPart is caller g's part of one pair and n appends, spread over
// owners of at most store.DefaultPendingLimit items each (so that one
// Pending call reads each owner's queue whole).
func spreadPart(g, n int) store.Batch {
	b := testPart(owner(g), fmt.Sprintf("g%d", g), n)
	for i := range b.Appends {
		b.Appends[i].Owner = ids.Owner(fmt.Sprintf("u%d-%d@example.test", g, i/(store.DefaultPendingLimit/2)))
	}
	return b
}

// TestWriterWithoutBatcher: on a store that is no store.Batcher, Write
// writes a part with the roles' calls; an empty part writes nothing.
func TestWriterWithoutBatcher(t *testing.T) {
	cases := []struct {
		name    string
		part    func(st *batchStore) store.Batch
		batches int64 // countingQueues' Enqueue/EnqueueAll calls
	}{
		{"empty", func(*batchStore) store.Batch { return store.Batch{} }, 0},
		{"one append", func(*batchStore) store.Batch { return testPart(owner(0), "one", 1) }, 1},
		{"appends and an ack", func(st *batchStore) store.Batch {
			return testPart(owner(0), "many", 3, enqueued(t, st, owner(0), "to-ack"))
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newBatchStore(t, openStore(t))
			q := &countingQueues{Store: st.Store}
			w := NewWriter(q)
			if w.batch != nil {
				t.Fatal("countingQueues is taken for a store.Batcher")
			}
			b := tc.part(st)
			seqs, err := w.Write(t.Context(), b)
			checkWritten(t, st, tc.name, b, writeResult{seqs, err})
			if n := q.batches.Load(); n != tc.batches {
				t.Errorf("%d append calls, want %d", n, tc.batches)
			}
		})
	}
}

// notHeld is an owner whose lease the fenced Redis store does not hold.
const notHeld = ids.Owner("stranger@example.test")
