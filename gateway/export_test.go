package gateway

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// OwnerWork reports what the hub runs or holds in memory for owner: its
// retry queue's sender goroutines and its journaled events in flight.
func (g *Gateway) OwnerWork(owner ids.Owner) (senders, inflight int) {
	return g.retry.Running(owner), g.journal.InFlight(owner)
}

// ReplayJournal runs one replay pass of the journal, as Kick does.
func (g *Gateway) ReplayJournal(ctx context.Context) { g.journal.Replay(ctx) }

// Loaded reports how many sessions of owner the hub has loaded.
func (g *Gateway) Loaded(owner ids.Owner) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for k := range g.sessions {
		if k.owner == owner {
			n++
		}
	}
	return n
}
