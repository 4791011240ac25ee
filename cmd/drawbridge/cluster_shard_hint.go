package main

import (
	"sync"
	"time"
)

// heldHintTTL is how long the router remembers that an owner was held
// by a worker (between one and two of these after it was last seen so).
const heldHintTTL = 5 * time.Second

// heldHint remembers the owners the router found held by a worker
// lately, so that their next stanzas skip the read of the lease and of
// the account: the router admits such a stanza and posts it only if the
// owner is held still (cluster.Router.RouteIfHeld, which reads the lease
// in the same step as the post and rings its holder). The hint only
// chooses that fast path, never where a stanza goes: an owner found free
// takes the full path. It holds the owners seen in the current period
// and in the one before (two maps swapped every ttl), so what it holds
// is bounded by the owners with traffic in the last two periods. The
// zero value is ready, with heldHintTTL.
type heldHint struct {
	ttl time.Duration
	now func() time.Time // time.Now when nil

	mu        sync.Mutex
	cur, prev map[string]struct{}
	since     time.Time // when cur began
}

// has reports whether owner was marked in this period or the one before.
func (h *heldHint) has(owner string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rotateLocked()
	if _, ok := h.cur[owner]; ok {
		return true
	}
	_, ok := h.prev[owner]
	return ok
}

// mark records that owner is held now.
func (h *heldHint) mark(owner string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rotateLocked()
	if h.cur == nil {
		h.cur = map[string]struct{}{}
	}
	h.cur[owner] = struct{}{}
}

// forget drops owner (found free).
func (h *heldHint) forget(owner string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.cur, owner)
	delete(h.prev, owner)
}

// rotateLocked starts a new period when the current one is over; after
// two periods with no call both maps are dropped. h.mu must be held.
func (h *heldHint) rotateLocked() {
	ttl := h.ttl
	if ttl <= 0 {
		ttl = heldHintTTL
	}
	now := time.Now
	if h.now != nil {
		now = h.now
	}
	t := now()
	switch age := t.Sub(h.since); {
	case age < ttl:
		return
	case age < 2*ttl:
		h.prev, h.cur = h.cur, nil
	default:
		h.prev, h.cur = nil, nil
	}
	h.since = t
}
