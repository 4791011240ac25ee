package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// RetryConfig is what a RetryQueue depends on.
type RetryConfig struct {
	// Policy is the deadline, pauses and bounds of the queue.
	Policy SendRetry
	// Store keeps the outboxes (outbox.go); required.
	Store store.Queues
	// IDs gives restored messages their content hash (IDMap.Sum);
	// required.
	IDs *IDMap
	// Send makes one attempt at a queued message (required). nil means
	// sent; an error for which Unavailable is true means try again until
	// the deadline; any other error gives the message up.
	Send func(ctx context.Context, owner ids.Owner, m *Queued) error
	// Failed tells the owner that a queued message was given up on: err
	// wraps the last Unavailable error when the deadline passed, or is
	// the refusal of an attempt. nil means nobody is told.
	Failed func(ctx context.Context, owner ids.Owner, m *Queued, err error)
	// Unavailable reports whether a send failed because the platform
	// cannot be reached right now: such a message waits and is tried
	// again (required).
	Unavailable func(error) bool
	// Log gets what happens to queued messages; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PerOwner makes the queue take messages only for owners started
	// with StartOwner, and run them until that owner's context ends (a
	// process that owns a subset of the owners: gateway.Options.Sharded).
	PerOwner bool
}

// Queued is a message waiting in the retry queue, as Send and Failed see
// it.
type Queued struct {
	// Platform is where the message goes.
	Platform ids.PlatformID
	// Message is the message as queued; Send may set its Account.
	Message *event.Message
	// Sum is the message's content hash (IDMap.Sum).
	Sum uint64
	// XMPPIDs are the stanza ids the message was sent with.
	XMPPIDs []string
	// Tag is the frontend's tag of the send (gateway.SendOptions.Tag).
	Tag string
	// Restored: queued by an earlier process, which may have sent it
	// already.
	Restored bool
}
