package delivery

import "errors"

// Errors of the durable path; the hub re-exports both (gateway.ErrQueued,
// gateway.ErrNotDurable) for its frontend and adapters.
var (
	// ErrQueued: a send could not reach the platform right now and the
	// message waits in the retry queue. It is not a failure: the frontend
	// treats it as accepted. If the message still cannot be sent by the
	// deadline, the queue's Failed function tells the owner.
	ErrQueued = errors.New("queued: the platform is unavailable; the message will be retried")
	// ErrNotDurable: an event could not be journaled (the store is
	// unreachable); the adapter must not acknowledge it to the platform,
	// and should offer it again later (journal.go).
	ErrNotDurable = errors.New("event not journaled; try again later")
)
