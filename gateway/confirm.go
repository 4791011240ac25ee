package gateway

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// journalFrontend is the frontend as the journal sees it (a
// delivery.Confirmer): its deliveries go through Gateway.deliver.
type journalFrontend struct{ g *Gateway }

func (j journalFrontend) DeliverConfirmed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, ev event.Event, done func()) error {
	return j.g.deliver(ctx, Delivery{Owner: owner, Platform: platform, Event: ev, Done: done})
}

// journalFrontend returns the frontend for the journal, if one is
// attached (deliver picks each event's platform's).
func (g *Gateway) journalFrontend() (delivery.Confirmer, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return journalFrontend{g}, g.frontend != nil || len(g.frontends) > 0
}

// FrontendConnected tells the hub that a frontend's link to the XMPP
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
