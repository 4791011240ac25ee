package cluster

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// A user with no linked account (registering, or linking) has no owner
// lease, so no worker reads an owner inbox of theirs. Their stanzas go to
// the worker that rendezvous hashing prefers for them among the live
// workers (Preferred): the same worker that claims them once they are
// linked, so that a login flow, which lives in the memory of the process
// that runs it, sees every step and ends where the account's session
// will live. Each worker has an inbox of its own for such stanzas; a
// ring of ownBell on its bell makes it read that inbox. A change of the
// live workers in the middle of a flow sends the next step elsewhere
// (the user starts the login again); a worker that dies leaves what is
// in its inbox to the next process with its instance id.

// ownBell is what a worker's bell is rung with when its own inbox has
// entries: no bare JID is empty.
const ownBell = ""

// NewWorkerInbox is the queue of stanzas from XMPP of users with no
// owner lease, for worker.
func NewWorkerInbox(client redis.UniversalClient, prefix, worker string) *StreamQueue {
	return &StreamQueue{client: client, key: prefixEscaper.Replace(prefix) + "cluster:win:{" + worker + "}"}
}

// LiveWorkers lists the ids of the registered workers that are not
// draining: those the Assigners spread the owners over.
func LiveWorkers(ctx context.Context, client redis.UniversalClient, prefix string) ([]string, error) {
	insts, err := NewWorkerRegistry(client, prefix).List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, in := range insts {
		if in.Role == RoleWorker {
			ids = append(ids, in.ID)
		}
	}
	return ids, nil
}

// RouteToWorker posts data to worker's own inbox with opts (a full inbox
// refuses it with ErrQueueFull) and rings it.
func (r *Router) RouteToWorker(ctx context.Context, worker string, data []byte, opts PostOptions) (string, error) {
	id, err := NewWorkerInbox(r.client, r.prefix, worker).PostWith(ctx, data, opts)
	if err != nil {
		return "", err
	}
	if err := r.bell.Ring(ctx, worker, ownBell); err != nil {
		return id, fmt.Errorf("cluster: routing to worker %s: posted as %s, but: %w", worker, id, err)
	}
	return id, nil
}

// drainOwn reads the worker's own inbox until it is empty (Handle's
// owner is ""), acknowledging unfenced: nothing but this worker reads it.
func (w *Worker) drainOwn(ctx context.Context) {
	q := NewWorkerInbox(w.opts.Client, w.opts.Prefix, w.opts.Instance.ID)
	w.mu.Lock()
	if w.own == nil {
		w.own = q.Reader(w.opts.Instance.ID)
	}
	r := w.own
	w.mu.Unlock()
	w.drainQueue(ctx, q, r, "", nil)
}
