package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// writerMax is the most writes (pairs, appends, acks) the Writer puts in
// one combined batch; a part larger than that is written alone.
const writerMax = 2048

// WriterStore is what a Writer writes to: the roles its parts belong to.
type WriterStore interface {
	store.MessageIDs
	store.Queues
}

// Writer combines the store writes of the delivery machinery — the id
// map's pairs, the journal's and the intake's appends, their acks — that
// come in while another write is under way into one store.Batch, so that
// under load one round trip (store.Batcher: one sqlite transaction, one
// Redis script call) carries what each of them would have sent on its
// own. Alone, a write waits for nothing but itself.
//
// Each Write returns once its own part is written (or failed). The parts
// of one combined batch succeed or fail together; within it the pairs of
// every part come first, then the appends, then the acks, each in the
// order of their parts, which keeps each caller's order (pairs before the
// appends and acks that depend on them: see IDMap.takeAll).
//
// There is no goroutine: the caller whose part finds the writer idle
// writes a batch (its own part first, and what queued behind it), then
// hands the writer to the first part still queued, whose caller writes
// the next one.
type Writer struct {
	st    WriterStore
	batch store.Batcher // nil: each part is written by the roles' calls

	mu    sync.Mutex
	queue []*writePart
	busy  bool // a caller is writing a batch
}

// writePart is one Write call's batch and its outcome.
type writePart struct {
	b    store.Batch
	seqs []string
	err  error
	// wake gets one signal: the part is written (lead false), or its
	// caller is to write the next batch (lead true).
	wake chan struct{}
	lead bool
}

// NewWriter returns a writer on st; it combines writes if st is a
// store.Batcher.
func NewWriter(st WriterStore) *Writer {
	w := &Writer{st: st}
	w.batch, _ = st.(store.Batcher)
	return w
}

// Write writes b (its pairs, then its appends, then its acks) and returns
// the appends' sequences.
func (w *Writer) Write(ctx context.Context, b store.Batch) ([]string, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	if w.batch == nil {
		return writeApart(ctx, w.st, b)
	}
	p := &writePart{b: b, wake: make(chan struct{}, 1)}
	w.mu.Lock()
	w.queue = append(w.queue, p)
	if w.busy {
		w.mu.Unlock()
		// Not cut short by ctx: the write under way may still succeed
		// and the caller must know (it is bounded by journalAckTimeout).
		<-p.wake
		if !p.lead {
			return p.seqs, p.err
		}
		w.mu.Lock()
	}
	w.busy = true
	// p is first in the queue: queued parts are taken from the front,
	// and a caller leads only with its part in front.
	n, items := 0, 0
	for n < len(w.queue) && (n == 0 || items+w.queue[n].b.Len() <= writerMax) {
		items += w.queue[n].b.Len()
		n++
	}
	parts := w.queue[:n:n]
	w.queue = w.queue[n:]
	w.mu.Unlock()

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalAckTimeout)
	w.commit(wctx, parts)
	cancel()

	w.mu.Lock()
	if len(w.queue) > 0 {
		next := w.queue[0]
		next.lead = true
		next.wake <- struct{}{}
	} else {
		w.busy = false
		w.queue = nil
	}
	w.mu.Unlock()
	for _, q := range parts[1:] {
		q.wake <- struct{}{}
	}
	return p.seqs, p.err
}

// commit writes parts as one batch, or each apart if the store cannot.
func (w *Writer) commit(ctx context.Context, parts []*writePart) {
	var all store.Batch
	if len(parts) == 1 {
		all = parts[0].b
	} else {
		for _, q := range parts {
			all.Pairs = append(all.Pairs, q.b.Pairs...)
		}
		for _, q := range parts {
			all.Appends = append(all.Appends, q.b.Appends...)
		}
		for _, q := range parts {
			all.Acks = append(all.Acks, q.b.Acks...)
		}
	}
	seqs, err := w.batch.WriteBatch(ctx, all)
	if errors.Is(err, store.ErrNoBatch) {
		for _, q := range parts {
			q.seqs, q.err = writeApart(ctx, w.st, q.b)
		}
		return
	}
	if err == nil && len(seqs) != len(all.Appends) {
		err = fmt.Errorf("delivery: a batch of %d appends got %d sequences", len(all.Appends), len(seqs))
	}
	off := 0
	for _, q := range parts {
		if err != nil {
			q.err = err
			continue
		}
		q.seqs = seqs[off : off+len(q.b.Appends) : off+len(q.b.Appends)]
		off += len(q.b.Appends)
	}
}

// writeApart writes b with the roles' own calls, one round trip each:
// the pairs, then the appends, then the acks, stopping at an error.
func writeApart(ctx context.Context, st WriterStore, b store.Batch) ([]string, error) {
	if len(b.Pairs) > 0 {
		if err := st.PutMessageIDs(ctx, b.Pairs); err != nil {
			return nil, err
		}
	}
	var seqs []string
	switch len(b.Appends) {
	case 0:
	case 1:
		// Alone: a single append (no transaction around it).
		seq, err := st.Enqueue(ctx, b.Appends[0].Owner, b.Appends[0].Data)
		if err != nil {
			return nil, err
		}
		seqs = []string{seq}
	default:
		var err error
		if seqs, err = st.EnqueueAll(ctx, b.Appends); err != nil {
			return nil, err
		}
	}
	if len(b.Acks) > 0 {
		if err := st.AckAll(ctx, b.Acks); err != nil {
			return nil, err
		}
	}
	return seqs, nil
}
