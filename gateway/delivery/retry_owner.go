package delivery

import (
	"context"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// ownerRun is one owner started with RetryQueue.StartOwner.
type ownerRun struct {
	ctx context.Context
	wg  sync.WaitGroup // the owner's sender goroutines started under it
}

// StartOwner makes the queue run owner's messages until ctx ends (with
// RetryConfig.PerOwner, the queue takes messages only for such owners).
// Without PerOwner it only lets StopOwner wait for owner's senders.
func (q *RetryQueue) StartOwner(ctx context.Context, owner ids.Owner) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.owners[owner] = &ownerRun{ctx: ctx}
}

// StopOwner stops taking owner's messages and waits for its sender
// goroutines, which end once the context given to StartOwner ends (the
// caller cancels it first). What they held stays in owner's outbox in the
// store, for whoever restores owner next (RestoreOwner).
func (q *RetryQueue) StopOwner(owner ids.Owner) {
	q.mu.Lock()
	orun := q.owners[owner]
	delete(q.owners, owner)
	q.mu.Unlock()
	if orun != nil {
		orun.wg.Wait()
	}
}

// Running reports how many sender goroutines owner has in the queue.
func (q *RetryQueue) Running(owner ids.Owner) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running[owner]
}

// ended accounts for the end of one of owner's sender goroutines.
func (q *RetryQueue) ended(owner ids.Owner, orun *ownerRun) {
	q.mu.Lock()
	if q.running[owner]--; q.running[owner] <= 0 {
		delete(q.running, owner)
	}
	q.mu.Unlock()
	if orun != nil {
		orun.wg.Done()
	}
}
