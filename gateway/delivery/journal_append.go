package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// appendBatch is the most items one store.EnqueueAll writes.
const appendBatch = 256

// appendReq is one event waiting to be written to the journal.
type appendReq struct {
	item store.QueueAppend
	seq  string
	err  error
	done chan struct{}
}

// appender writes journal items with group commit: events emitted while a
// write is under way are written together by the next one, in the order
// they came, so that under load one transaction (or pipeline) carries many
// events instead of one each, and alone an event waits for nothing but its
// own write. Each caller returns only once its item is durable.
type appender struct {
	st store.Queues
	// before, if set, runs before each batch is written (the journal's: the
	// id map's pending pairs are made durable first, see newJournal)
	// unless pairs gives the pairs to write in front of the batch, in the
	// same store write (IDMap.takeAll).
	before func(ctx context.Context)
	pairs  func() ([]store.MessageIDPair, func(error), bool)
	// write writes a batch (a Writer's, or the store's own calls).
	write func(ctx context.Context, b store.Batch) ([]string, error)

	mu      sync.Mutex
	queue   []*appendReq
	running bool
	wake    chan struct{}
	wg      sync.WaitGroup
}

func newAppender(st store.Queues, w *Writer) *appender {
	a := &appender{st: st, wake: make(chan struct{}, 1)}
	a.write = func(ctx context.Context, b store.Batch) ([]string, error) {
		return writeApart(ctx, queuesOnly{st}, b)
	}
	if w != nil {
		a.write = w.Write
	}
	return a
}

// append writes data to owner's queue and returns its sequence.
func (a *appender) append(ctx context.Context, owner ids.Owner, data []byte) (string, error) {
	r := &appendReq{item: store.QueueAppend{Owner: owner, Data: data}, done: make(chan struct{})}
	a.mu.Lock()
	if !a.running {
		a.mu.Unlock()
		return a.st.Enqueue(ctx, owner, data)
	}
	a.queue = append(a.queue, r)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	// Not cut short by ctx: the write may still succeed, and the caller
	// must know (it is bounded by journalAckTimeout).
	<-r.done
	return r.seq, r.err
}

// start runs the writer until ctx ends; then it writes what is queued and
// later callers write directly.
func (a *appender) start(ctx context.Context) {
	a.mu.Lock()
	a.running = true
	a.mu.Unlock()
	a.wg.Go(func() {
		for {
			select {
			case <-a.wake:
				a.drain(ctx)
			case <-ctx.Done():
				a.mu.Lock()
				a.running = false
				a.mu.Unlock()
				a.drain(ctx)
				return
			}
		}
	})
}

// wait returns once the writer has ended (after its context ended).
func (a *appender) wait() { a.wg.Wait() }

// drain writes the queued items, appendBatch at a time.
func (a *appender) drain(ctx context.Context) {
	for {
		a.mu.Lock()
		n := min(len(a.queue), appendBatch)
		batch := a.queue[:n:n]
		a.queue = a.queue[n:]
		if len(a.queue) == 0 {
			a.queue = nil
		}
		a.mu.Unlock()
		if n == 0 {
			return
		}
		items := make([]store.QueueAppend, n)
		for i, r := range batch {
			items[i] = r.item
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalAckTimeout)
		b := store.Batch{Appends: items}
		var settle func(error)
		if pairs, s, ok := a.takePairs(); ok {
			b.Pairs, settle = pairs, s
		} else if a.before != nil {
			a.before(wctx)
		}
		seqs, err := a.write(wctx, b)
		if settle != nil {
			settle(err)
		}
		cancel()
		for i, r := range batch {
			if err != nil {
				r.err = err
			} else {
				r.seq = seqs[i]
			}
			close(r.done)
		}
	}
}

// takePairs returns the pairs to write in front of the next batch, if
// a.pairs can give them.
func (a *appender) takePairs() ([]store.MessageIDPair, func(error), bool) {
	if a.pairs == nil {
		return nil, nil, false
	}
	return a.pairs()
}

// queuesOnly is a store.Queues as a WriterStore, for writes without id
// pairs (writeApart calls no MessageIDs method for them).
type queuesOnly struct{ store.Queues }

func (queuesOnly) PutMessageIDs(context.Context, []store.MessageIDPair) error {
	return errors.New("delivery: no message id store here")
}

func (queuesOnly) PutMessageID(context.Context, ids.Owner, ids.ChatID, string, ids.MessageID, time.Duration) error {
	return errors.New("delivery: no message id store here")
}

func (queuesOnly) PlatformMessageID(context.Context, ids.Owner, ids.ChatID, string) (ids.MessageID, error) {
	return "", store.ErrNotFound
}

func (queuesOnly) XMPPMessageID(context.Context, ids.Owner, ids.ChatID, ids.MessageID) (string, error) {
	return "", store.ErrNotFound
}
