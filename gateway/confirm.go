package gateway

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// ConfirmingFrontend is an optional extension of Frontend: a frontend that
// can tell when the XMPP server has taken an event over. With one attached,
// the hub journals the events that matter (messages, edits, retractions,
// reactions) in store.Queues before delivering them, and removes them once
// confirmed (delivery.Journal); without one, events are delivered as
// before and lost if the process dies with them queued.
type ConfirmingFrontend interface {
	Frontend
	// DeliverConfirmed is Deliver, and later calls done once the XMPP
	// server has confirmed every stanza sent for ev (immediately if none
	// was sent). done must not block; it is never called if
	// DeliverConfirmed returns an error, and not at all if the stanzas are
	// not confirmed before the frontend stops.
	DeliverConfirmed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, ev event.Event, done func()) error
}

// confirmingFrontend returns the frontend if it can confirm deliveries.
func (g *Gateway) confirmingFrontend() (ConfirmingFrontend, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.frontend.(ConfirmingFrontend)
	return f, ok
}

// FrontendConnected tells the hub that the frontend's link to the XMPP
// server (re)connected: journaled events that this process does not have in
// flight (left by a previous process, or whose delivery failed) are
// replayed in the background. It does nothing before Start or after Stop.
func (g *Gateway) FrontendConnected() {
	g.mu.Lock()
	ctx := g.runCtx
	g.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	g.journal.Kick(ctx)
}
