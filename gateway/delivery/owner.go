package delivery

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Per-owner variants of the delivery machinery, for a process that owns a
// subset of the owners (gateway.Options.Sharded): it replays, restores and
// forgets one owner at a time as a cluster worker gains and loses them.

// ReplayOwner delivers owner's journaled items that this process does not
// have in flight (at most store.DefaultPendingLimit, within
// journalPassTimeout), oldest first. The journal's Owns filter does not
// apply: the caller is taking owner over.
func (j *Journal) ReplayOwner(ctx context.Context, owner ids.Owner) error {
	f, ok := j.frontend()
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, journalPassTimeout)
	defer cancel()
	n, err := j.replayOwner(ctx, f, owner)
	if n > 0 {
		j.log.Info("replayed journaled events", "owner", owner, "events", n)
	}
	return err
}

// ForgetOwner drops what the journal holds in memory for owner: its items
// marked in flight and not yet confirmed. It acknowledges nothing, so the
// next owner of owner replays them. Confirmed items are still removed
// from the store (they reached the XMPP server).
func (j *Journal) ForgetOwner(owner ids.Owner) {
	lock := j.stripe(owner)
	lock.Lock()
	defer lock.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	confirmed := make(map[journalKey]bool)
	for _, k := range j.confirmed {
		if k.owner == owner {
			confirmed[k] = true
		}
	}
	for k := range j.inflight {
		if k.owner == owner && !confirmed[k] {
			delete(j.inflight, k)
		}
	}
}

// InFlight reports how many of owner's journaled items this process holds
// as in flight (delivered, not yet removed).
func (j *Journal) InFlight(owner ids.Owner) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for k := range j.inflight {
		if k.owner == owner {
			n++
		}
	}
	return n
}

// PendingOf returns sender's recorded stanzas not marked done, oldest
// first (at most store.DefaultPendingLimit): Pending for one owner.
func (in *Intake) PendingOf(ctx context.Context, sender ids.Owner) ([]IntakeEntry, error) {
	items, err := in.st.Pending(ctx, intakeOf(sender), store.DefaultPendingLimit)
	if err != nil {
		return nil, fmt.Errorf("intake: read %s: %w", sender, err)
	}
	out := make([]IntakeEntry, 0, len(items))
	for _, it := range items {
		out = append(out, IntakeEntry{Sender: sender, Seq: it.Seq, Data: it.Data})
	}
	return out, nil
}
