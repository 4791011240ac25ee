package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// SendRetry configures the outbound retry queue. A zero Deadline turns
// queuing off: a platform that is unavailable is an immediate error.
type SendRetry struct {
	// Deadline is how long a message may wait before the user is told it
	// was not sent.
	Deadline time.Duration
	// MinBackoff and MaxBackoff bound the pause between attempts
	// (doubling, jittered); zero means 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// MaxPerOwner and MaxTotal bound the queued messages; over a bound
	// the send fails at once as without queuing. Zero means 100 and 10000.
	MaxPerOwner, MaxTotal int
}

type retryItem struct {
	Queued
	deadline time.Time
	seq      string // in the owner's outbox (outbox.go); "" if not stored
}

// retryKey is one chat's queue: chat is its ChatKey (each platform's chats
// queue apart).
type retryKey struct {
	owner ids.Owner
	chat  ids.ChatID
}

// RetryQueue holds, per (owner, chat), the messages waiting for the
// platform, in order: a later message of the same chat waits behind them.
// One goroutine per non-empty chat queue sends them. Each message is also
// in the store (outbox.go) until it is sent or given up on, so on Stop, or
// a crash, what is still waiting is restored by the next start.
type RetryQueue struct {
	cfg         SendRetry
	st          store.Queues
	ids         *IDMap
	send        func(context.Context, ids.Owner, *Queued) error
	failed      func(context.Context, ids.Owner, *Queued, error)
	unavailable func(error) bool
	log         *slog.Logger
	now         func() time.Time
	perOwner    bool

	mu      sync.Mutex
	chats   map[retryKey][]*retryItem
	byOwner map[ids.Owner]int
	total   int
	runCtx  context.Context // given to Start; nil before
	wg      sync.WaitGroup
	// owners are the owners started with StartOwner (retry_owner.go).
	owners map[ids.Owner]*ownerRun
	// running counts each owner's sender goroutines.
	running map[ids.Owner]int
}

// NewRetryQueue returns an empty queue; it takes messages once started.
func NewRetryQueue(c RetryConfig) *RetryQueue {
	cfg := c.Policy
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.MaxPerOwner <= 0 {
		cfg.MaxPerOwner = 100
	}
	if cfg.MaxTotal <= 0 {
		cfg.MaxTotal = 10000
	}
	q := &RetryQueue{
		cfg: cfg, st: c.Store, ids: c.IDs, send: c.Send, failed: c.Failed, unavailable: c.Unavailable, log: c.Log, now: c.Now,
		chats: make(map[retryKey][]*retryItem), byOwner: make(map[ids.Owner]int),
		perOwner: c.PerOwner, owners: make(map[ids.Owner]*ownerRun), running: make(map[ids.Owner]int),
	}
	if q.failed == nil {
		q.failed = func(context.Context, ids.Owner, *Queued, error) {}
	}
	if q.log == nil {
		q.log = slog.Default()
	}
	if q.now == nil {
		q.now = time.Now
	}
	return q
}

// Start makes the queue take messages; their senders run until ctx ends,
// and from then on nothing more is taken.
func (q *RetryQueue) Start(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.runCtx = ctx
}

// Enabled reports whether messages may wait in the queue at all (the
// policy has a deadline).
func (q *RetryQueue) Enabled() bool { return q.cfg.Deadline > 0 }

// Waiting reports whether messages of (owner, chat) are queued, so a new
// one must queue behind them. chat is the chat's ChatKey.
func (q *RetryQueue) Waiting(owner ids.Owner, chat ids.ChatID) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.chats[retryKey{owner, chat}]) > 0
}

// Add queues a message (its content hash, stanza ids and the frontend's
// tag in qd); false if over a bound or the queue is not running.
func (q *RetryQueue) Add(ctx context.Context, owner ids.Owner, qd Queued) bool {
	qd.XMPPIDs = append([]string(nil), qd.XMPPIDs...)
	qd.Restored = false
	it := &retryItem{Queued: qd, deadline: q.now().Add(q.cfg.Deadline)}
	if !q.room(owner) {
		return false
	}
	q.persist(ctx, owner, it)
	if !q.enqueue(owner, it) {
		q.forget(owner, it)
		return false
	}
	return true
}

// room reports whether the bounds leave room for one more of owner's.
func (q *RetryQueue) room(owner ids.Owner) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total < q.cfg.MaxTotal && q.byOwner[owner] < q.cfg.MaxPerOwner
}

// enqueue puts it at the end of its chat's queue and starts the chat's
// sender if it was idle; false if over a bound or the queue is not
// running. Restored items may exceed the per-owner bound (they were within
// it when queued), not the total.
func (q *RetryQueue) enqueue(owner ids.Owner, it *retryItem) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	runCtx := q.runCtx
	orun := q.owners[owner]
	if q.perOwner {
		if orun == nil {
			return false // not this process's (RetryConfig.PerOwner)
		}
		runCtx = orun.ctx
	}
	if runCtx == nil || runCtx.Err() != nil {
		return false
	}
	if q.total >= q.cfg.MaxTotal || (!it.Restored && q.byOwner[owner] >= q.cfg.MaxPerOwner) {
		return false
	}
	k := retryKey{owner, ChatKey(it.Platform, it.Message.Chat)}
	q.chats[k] = append(q.chats[k], it)
	q.byOwner[owner]++
	q.total++
	if len(q.chats[k]) == 1 {
		q.wg.Add(1)
		q.running[owner]++
		if orun != nil {
			orun.wg.Add(1)
		}
		go q.run(runCtx, k, orun)
	}
	return true
}

// Holds reports whether a message with the same content and one of the
// same stanza ids already waits in (owner, chat)'s queue: a copy of it.
// chat is the chat's ChatKey.
func (q *RetryQueue) Holds(owner ids.Owner, chat ids.ChatID, sum uint64, xmppIDs []string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.chats[retryKey{owner, chat}] {
		if it.Sum != sum {
			continue
		}
		for _, x := range xmppIDs {
			if x != "" && slices.Contains(it.XMPPIDs, x) {
				return true
			}
		}
	}
	return false
}

// head returns the first item of k's queue.
func (q *RetryQueue) head(k retryKey) *retryItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	if l := q.chats[k]; len(l) > 0 {
		return l[0]
	}
	return nil
}

// pop removes the head of k's queue and reports whether more wait.
func (q *RetryQueue) pop(k retryKey) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.chats[k]
	l[0] = nil
	l = l[1:]
	q.total--
	if q.byOwner[k.owner]--; q.byOwner[k.owner] <= 0 {
		delete(q.byOwner, k.owner)
	}
	if len(l) == 0 {
		delete(q.chats, k)
		return false
	}
	q.chats[k] = l
	return true
}

// run sends k's queue in order until it is empty or the queue stops.
func (q *RetryQueue) run(ctx context.Context, k retryKey, orun *ownerRun) {
	defer q.wg.Done()
	defer q.ended(k.owner, orun)
	backoff := q.cfg.MinBackoff
	for {
		it := q.head(k)
		if it == nil {
			return
		}
		wait := min(backoff, it.deadline.Sub(q.now()))
		if wait > 0 {
			wait = wait/2 + rand.N(wait/2+1) // jitter
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				q.drop(k)
				return
			case <-t.C:
			}
		}
		err := q.send(ctx, k.owner, &it.Queued)
		switch {
		case err == nil:
			q.forget(k.owner, it)
			backoff = q.cfg.MinBackoff
		case q.unavailable(err) && q.now().Before(it.deadline):
			backoff = min(2*backoff, q.cfg.MaxBackoff)
			continue
		default:
			if ctx.Err() != nil {
				q.drop(k)
				return
			}
			if q.unavailable(err) {
				err = fmt.Errorf("not sent within %s: %w", q.cfg.Deadline, err)
			}
			// Out of the queue before the user hears of it, so that what
			// they send next goes straight out; out of the store after,
			// so that a crash in between tells them at the next start.
			more := q.pop(k)
			q.log.Warn("queued message not sent", "owner", k.owner, "platform", it.Platform, "chat", it.Message.Chat, "id", it.XMPPIDs, "err", err)
			q.failed(ctx, k.owner, &it.Queued, err)
			q.forget(k.owner, it)
			if !more {
				return
			}
			backoff = q.cfg.MinBackoff
			continue
		}
		if !q.pop(k) {
			return
		}
	}
}

// drop forgets what waits in k's queue when the queue stops: what the
// store holds is restored by the next start.
func (q *RetryQueue) drop(k retryKey) {
	q.mu.Lock()
	l := q.chats[k]
	delete(q.chats, k)
	q.total -= len(l)
	if q.byOwner[k.owner] -= len(l); q.byOwner[k.owner] <= 0 {
		delete(q.byOwner, k.owner)
	}
	q.mu.Unlock()
	for _, it := range l {
		if it.seq != "" {
			q.log.Info("queued message kept for the next start", "owner", k.owner, "platform", it.Platform, "chat", it.Message.Chat, "id", it.XMPPIDs)
			continue
		}
		q.log.Warn("queued message dropped on stop", "owner", k.owner, "platform", it.Platform, "chat", it.Message.Chat, "id", it.XMPPIDs)
	}
}

// Wait returns once every queue goroutine has ended (after the context
// given to Start ended).
func (q *RetryQueue) Wait() { q.wg.Wait() }
