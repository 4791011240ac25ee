package delivery

import "context"

// What travels with a send in its context: the retry queue reads both when
// a send would be queued (RetryQueue.Add, RetryQueue.MayQueue).

type sendTagKey struct{}

// WithSendTag returns ctx carrying tag: if the send with ctx is queued
// (Add), the queue's Failed function gets tag back in Queued.Tag, even
// from a later process (the tag is stored with the queued message,
// outbox.go).
func WithSendTag(ctx context.Context, tag string) context.Context {
	return context.WithValue(ctx, sendTagKey{}, tag)
}

type noQueueKey struct{}

// WithoutQueue returns ctx telling the hub's SendMessage not to queue: a
// platform that is unavailable is an immediate error (a test message from
// an operator wants to know now).
func WithoutQueue(ctx context.Context) context.Context {
	return context.WithValue(ctx, noQueueKey{}, true)
}

// MayQueue reports whether a send with ctx may wait in the queue.
func (q *RetryQueue) MayQueue(ctx context.Context) bool {
	return q.enabled() && ctx.Value(noQueueKey{}) == nil
}
