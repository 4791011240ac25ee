package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Router is the front's side of routing: it posts each stanza from XMPP
// to its owner's inbox and rings the owner's worker.
type Router struct {
	client redis.UniversalClient
	prefix string
	bell   *Bell
}

// NewRouter returns the router on client whose keys start with prefix.
func NewRouter(client redis.UniversalClient, prefix string) *Router {
	return &Router{client: client, prefix: prefix, bell: NewBell(client, prefix)}
}

// Route posts data to owner's inbox and rings the worker that holds
// owner's lease (RouteWith with no options).
func (r *Router) Route(ctx context.Context, owner string, data []byte) (string, error) {
	return r.RouteWith(ctx, owner, data, PostOptions{})
}

// RouteWith posts data to owner's inbox with opts (a full inbox refuses
// it with ErrQueueFull, and nobody is rung), then rings the worker that
// held owner's lease when the entry was appended: the lease is read in
// the same step as the post (one script), so a worker that claims the
// owner afterwards finds the entry when it reads the inbox on its claim.
// With no holder (a failover in progress) it rings nobody: the next
// holder reads the inbox when it claims the owner.
func (r *Router) RouteWith(ctx context.Context, owner string, data []byte, opts PostOptions) (string, error) {
	id, holder, _, err := r.postInbox(ctx, owner, data, opts, false)
	if err != nil {
		return "", err
	}
	return id, r.ring(ctx, owner, holder, id)
}

// RouteIfHeld is RouteWith for an owner that a worker holds: when
// owner's lease is free it posts nothing and returns held false (no
// error), so that the caller decides where the stanza goes (an owner
// with no linked account has no inbox reader).
func (r *Router) RouteIfHeld(ctx context.Context, owner string, data []byte, opts PostOptions) (id string, held bool, err error) {
	id, holder, posted, err := r.postInbox(ctx, owner, data, opts, true)
	if err != nil || !posted {
		return "", false, err
	}
	return id, true, r.ring(ctx, owner, holder, id)
}

func (r *Router) ring(ctx context.Context, owner, holder, id string) error {
	if holder == "" {
		return nil
	}
	if err := r.bell.Ring(ctx, holder, owner); err != nil {
		return fmt.Errorf("cluster: routing to %s: posted as %s, but: %w", owner, id, err)
	}
	return nil
}

// WorkerOptions configure a Worker: the Assigner's options (its Start and
// Stop are the owner's: load and connect its sessions, disconnect them)
// and the handler of inbox entries.
type WorkerOptions struct {
	AssignerOptions
	// Handle handles one entry of owner's inbox (a stanza from XMPP).
	// Entries of one owner come one at a time, in the order routed. An
	// error is logged and the entry acknowledged all the same: the
	// handler answers the sender itself when something fails (a stanza
	// error), as the component does for a stanza read from its link.
	Handle func(ctx context.Context, owner string, e Entry) error
	// Batch is how many entries of one owner are read at a time (0: 50).
	Batch int
	// Wait is how long one wait on the bell lasts before the loop looks
	// at ctx again (whole seconds; 0: 1s).
	Wait time.Duration
}

// Worker runs one worker of a sharded cluster: its Assigner, and a loop
// that waits on its bell, reads the rung owners' inboxes (claiming first
// what a previous holder left pending), hands each entry to Handle and
// acknowledges it fenced by the owner's lease. On each claim it rings its
// own bell, so that what waited in the inbox during the move is read.
type Worker struct {
	opts WorkerOptions
	a    *Assigner
	bell *Bell
	log  *slog.Logger

	mu      sync.Mutex
	readers map[string]*Reader
	// draining holds the owners whose inbox a goroutine reads now (in
	// drains), true when rung again meanwhile.
	draining map[string]bool
	drains   sync.WaitGroup
	// own reads the worker's own inbox (worker_inbox.go).
	own *Reader
}

// NewWorker returns the Worker of opts.Instance. It does no I/O.
func NewWorker(opts WorkerOptions) (*Worker, error) {
	if opts.Handle == nil || opts.Start == nil || opts.Stop == nil {
		return nil, errors.New("cluster: a worker needs the Start, Stop and Handle functions")
	}
	if opts.Batch <= 0 {
		opts.Batch = 50
	}
	if opts.Wait < time.Second {
		opts.Wait = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{
		opts:     opts,
		bell:     NewBell(opts.Client, opts.Prefix),
		log:      opts.Logger.With("instance", opts.Instance.ID),
		readers:  map[string]*Reader{},
		draining: map[string]bool{},
	}
	ao := opts.AssignerOptions
	ao.Start, ao.Stop = w.start, w.stop
	a, err := NewAssigner(ao)
	if err != nil {
		return nil, err
	}
	w.a = a
	return w, nil
}

// Assigner is the worker's Assigner (Owned, Fence).
func (w *Worker) Assigner() *Assigner { return w.a }

// Run runs the Assigner and the inbox loop until ctx ends; like
// Assigner.Run it releases nothing (Drain does).
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.a.Run(ctx) })
	w.loop(ctx)
	wg.Wait()
	return nil
}

// Drain hands every owner over (Assigner.Drain) and deletes the bell.
// Run must have returned.
func (w *Worker) Drain(ctx context.Context) error {
	return errors.Join(w.a.Drain(ctx), w.bell.Forget(ctx, w.opts.Instance.ID))
}

func (w *Worker) start(ctx context.Context, owner string, g Grant) error {
	if err := w.opts.Start(ctx, owner, g); err != nil {
		return err
	}
	w.mu.Lock()
	w.readers[owner] = NewOwnerInbox(w.opts.Client, w.opts.Prefix, owner).Reader(w.opts.Instance.ID)
	w.mu.Unlock()
	return w.bell.Ring(ctx, w.opts.Instance.ID, owner)
}

func (w *Worker) stop(ctx context.Context, owner string) {
	w.mu.Lock()
	delete(w.readers, owner)
	w.mu.Unlock()
	w.opts.Stop(ctx, owner)
}

func (w *Worker) loop(ctx context.Context) {
	// What a previous process of this instance id left in its own inbox.
	w.schedule(ctx, ownBell)
	for ctx.Err() == nil {
		owners, err := w.bell.Wait(ctx, w.opts.Instance.ID, 100, w.opts.Wait)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("cluster: waiting on the bell", "err", err)
				// Redis is down: wait as a BLMPOP would before trying again.
				select {
				case <-ctx.Done():
				case <-time.After(w.opts.Wait):
				}
			}
			continue
		}
		for _, o := range owners {
			w.schedule(ctx, o)
		}
	}
	w.drains.Wait()
}

// schedule drains owner's inbox in a goroutine of its own, so that an
// owner whose stanzas are slow to handle (a platform that answers late)
// does not hold up the others: one goroutine per owner at a time, which
// keeps each owner's order; a ring while it runs makes it read again.
func (w *Worker) schedule(ctx context.Context, owner string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, running := w.draining[owner]; running {
		w.draining[owner] = true // read again once done
		return
	}
	w.draining[owner] = false
	w.drains.Go(func() {
		for {
			if owner == ownBell {
				w.drainOwn(ctx)
			} else {
				w.drain(ctx, owner)
			}
			w.mu.Lock()
			again := w.draining[owner]
			if !again || ctx.Err() != nil {
				delete(w.draining, owner)
				w.mu.Unlock()
				return
			}
			w.draining[owner] = false
			w.mu.Unlock()
		}
	})
}

// drain reads owner's inbox until it is empty, handling and
// acknowledging each entry; it stops when the owner is not this
// worker's (any more).
func (w *Worker) drain(ctx context.Context, owner string) {
	w.mu.Lock()
	r := w.readers[owner]
	w.mu.Unlock()
	f, ok := w.a.Fence(owner)
	if r == nil || !ok {
		return // not ours: rung before a move, read by the holder on its claim
	}
	w.drainQueue(ctx, NewOwnerInbox(w.opts.Client, w.opts.Prefix, owner), r, owner, &f)
}

// drainQueue reads q with r until it is empty, handing each entry to
// Handle with owner ("" for the worker's own inbox) and acknowledging
// them, fenced by fence when it is set. A read of new entries that
// returns fewer than a batch found q empty after them, and ends the
// drain with no read more: whatever is posted after that read rings the
// bell after it is posted, and the ring reads q again (schedule).
func (w *Worker) drainQueue(ctx context.Context, q *StreamQueue, r *Reader, owner string, fence *Fence) {
	for ctx.Err() == nil {
		es, err := r.Read(ctx, w.opts.Batch, 0)
		if err != nil {
			w.log.Warn("cluster: reading an inbox", "owner", owner, "queue", q.Key(), "err", err)
			return
		}
		if len(es) == 0 {
			return
		}
		ids := make([]string, 0, len(es))
		for _, e := range es {
			if err := w.opts.Handle(ctx, owner, e); err != nil {
				w.log.Warn("cluster: handling an inbox entry", "owner", owner, "queue", q.Key(), "id", e.ID, "err", err)
			}
			if ctx.Err() != nil {
				break // stopped mid-batch: what was not acknowledged is read again by the next holder
			}
			ids = append(ids, e.ID)
		}
		// Acknowledged even when ctx ended meanwhile: what was handled
		// need not be handled again by the next holder.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Wait)
		err = q.Ack(actx, fence, ids...)
		cancel()
		if err != nil {
			w.log.Warn("cluster: acknowledging inbox entries", "owner", owner, "queue", q.Key(), "err", err)
			return
		}
		if len(es) < w.opts.Batch && !es[0].Redelivered {
			return // new entries, and fewer than asked: q was empty after them
		}
	}
}
