package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
)

// maxAckBatch is the most outbox entries one acknowledgement carries (a
// Lua script unpacks them: well under its stack's limit).
const maxAckBatch = 500

// outboxAcker acknowledges the front outbox's entries in batches: add
// queues an id (it never blocks: confirmations run on the connection's
// read goroutine) and a flush goroutine, started when none runs,
// acknowledges every id queued meanwhile in one call (XACK and XDEL
// take several ids), until none is left. The confirmations of one ping
// come together, so a message's stanzas are acknowledged together, and
// under load a flush takes what came during the one before.
type outboxAcker struct {
	outbox *cluster.StreamQueue
	log    *slog.Logger

	mu  sync.Mutex
	ids []string
	// done is closed when the running flush ends; nil when none runs.
	done chan struct{}
}

// add queues id for acknowledgement.
func (a *outboxAcker) add(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids = append(a.ids, id)
	if a.done == nil {
		done := make(chan struct{})
		a.done = done
		go a.flush(done)
	}
}

// flush acknowledges what is queued until nothing is, then closes done.
func (a *outboxAcker) flush(done chan struct{}) {
	defer close(done)
	for {
		a.mu.Lock()
		ids := a.ids
		if len(ids) > maxAckBatch {
			ids = ids[:maxAckBatch:maxAckBatch]
			a.ids = a.ids[maxAckBatch:]
		} else {
			a.ids = nil
		}
		if len(ids) == 0 {
			a.done = nil
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.outbox.Ack(ctx, nil, ids...); err != nil {
			// Left pending: the next front writes them again.
			a.log.Warn("cluster: acknowledging outbox entries", "count", len(ids), "first", ids[0], "err", err)
		}
		cancel()
	}
}

// wait returns once nothing is queued and no flush runs (or ctx ends).
func (a *outboxAcker) wait(ctx context.Context) {
	for {
		a.mu.Lock()
		done := a.done
		a.mu.Unlock()
		if done == nil {
			return
		}
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
}
