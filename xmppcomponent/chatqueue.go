package xmppcomponent

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Bounds of the chat queues: the messages of one owner, and of everybody,
// waiting in them.
const (
	maxChatQueuedPerOwner = 32
	maxChatQueued         = 4096
)

// chatQueues take the handling of a chat's messages off the dispatch
// lanes while it may take long: a message with files (their download may
// take up to the download timeout) goes to its chat's queue, and so does
// everything the same owner sends to that chat after it until the queue
// is empty again, so the chat's order is kept. Each busy chat has its own
// goroutine; the lanes, which conversations share, only ever wait for
// quick work. Downloads are bounded per owner and overall by the hub
// (gateway's fetch pool and in-flight budget); the queues are bounded
// here, per owner and overall, so one owner's backlog neither grows
// without end nor takes another owner's place.
type chatQueues struct {
	mu       sync.Mutex
	chats    map[chatKey]*chatQueue
	perOwner map[ids.Owner]int
	total    int
	workers  sync.WaitGroup
	idle     *sync.Cond // on mu; signalled when total drops to 0
}

type chatKey struct {
	owner ids.Owner
	chat  ids.ChatID
}

type chatQueue struct {
	items []func(context.Context)
}

// run runs fn in the chat's order: queued behind the chat's earlier work
// if it has any or if slow (then run returns at once), else right away on
// the caller's goroutine. The caller must not call run for the same chat
// from two goroutines at once (a chat's stanzas come from one lane, one at
// a time). It fails, without running fn, when owner or everybody has too
// many messages waiting (gateway.ErrTooFast / ErrRateLimited).
func (q *chatQueues) run(ctx context.Context, owner ids.Owner, chat ids.ChatID, slow bool, fn func(context.Context)) error {
	k := chatKey{owner, chat}
	q.mu.Lock()
	q.init()
	cq := q.chats[k]
	if cq == nil && !slow {
		q.mu.Unlock()
		fn(ctx)
		return nil
	}
	switch {
	case q.perOwner[owner] >= maxChatQueuedPerOwner:
		q.mu.Unlock()
		return fmt.Errorf("too many of your messages are waiting for their files (at most %d); try again shortly: %w", maxChatQueuedPerOwner, gateway.ErrTooFast)
	case q.total >= maxChatQueued:
		q.mu.Unlock()
		return fmt.Errorf("the gateway has too many messages waiting for their files (%d); try again shortly: %w", maxChatQueued, gateway.ErrRateLimited)
	}
	q.perOwner[owner]++
	q.total++
	if cq != nil {
		cq.items = append(cq.items, fn)
		q.mu.Unlock()
		return nil
	}
	cq = &chatQueue{items: []func(context.Context){fn}}
	q.chats[k] = cq
	q.mu.Unlock()
	q.workers.Go(func() { q.work(ctx, k, cq) })
	return nil
}

// work runs a chat's queue until it is empty, then forgets the chat.
func (q *chatQueues) work(ctx context.Context, k chatKey, cq *chatQueue) {
	for {
		q.mu.Lock()
		fn := cq.items[0]
		q.mu.Unlock()
		q.call(ctx, fn)
		q.mu.Lock()
		cq.items[0] = nil
		cq.items = cq.items[1:]
		q.total--
		if q.perOwner[k.owner]--; q.perOwner[k.owner] == 0 {
			delete(q.perOwner, k.owner)
		}
		if q.total == 0 {
			q.idle.Broadcast()
		}
		if len(cq.items) == 0 {
			delete(q.chats, k)
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
	}
}

// call runs fn, turning a panic into an error log (as the lanes do).
func (q *chatQueues) call(ctx context.Context, fn func(context.Context)) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("handler panicked in a chat queue", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	fn(ctx)
}

// wait blocks until every chat's goroutine has returned; with the ctx
// they were given done, that is once their current message gave up.
func (q *chatQueues) wait() { q.workers.Wait() }

// init makes the maps and the condition; q.mu must be held.
func (q *chatQueues) init() {
	if q.chats == nil {
		q.chats, q.perOwner = make(map[chatKey]*chatQueue), make(map[ids.Owner]int)
		q.idle = sync.NewCond(&q.mu)
	}
}

// waitIdle blocks until no message waits in any chat queue.
func (q *chatQueues) waitIdle() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.init()
	for q.total > 0 {
		q.idle.Wait()
	}
}

// queued is the number of messages waiting in the chat queues.
func (q *chatQueues) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
}
