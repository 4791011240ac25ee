package xmppcomponent

import (
	"hash/maphash"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// presenceOrder makes each contact's presence stanzas leave in the order
// their content was read. A contact's presence is announced from several
// goroutines — the chat's lane when the platform reports it, an avatar
// worker once the picture is fetched, the handler of a probe — each
// reading what the component knows (contactState) and writing a stanza
// built from it. Without an order, one built from an older state could be
// written after one built from a newer: at a session's start an avatar
// worker reads "nothing known" (unavailable) just before the lane notes
// the contact available, and its stanza, written last, left the user's
// roster showing the contact offline. That happened after most moves of
// an owner in a sharded cluster, where each write is a post to Redis.
// Holding the contact's lock from the read to the write puts the stanzas
// in the order of their reads, so the last one written shows the last
// state noted. Locks are striped by contact: contacts that share one only
// wait for each other's writes.
type presenceOrder struct {
	seed    maphash.Seed
	stripes [presenceStripes]sync.Mutex
}

// presenceStripes is how many locks the contacts share.
const presenceStripes = 64

func newPresenceOrder() *presenceOrder {
	return &presenceOrder{seed: maphash.MakeSeed()}
}

// lock takes the lock of owner's contact user and returns its unlock.
func (o *presenceOrder) lock(owner ids.Owner, user ids.UserID) func() {
	var h maphash.Hash
	h.SetSeed(o.seed)
	_, _ = h.WriteString(string(owner))
	_ = h.WriteByte(0)
	_, _ = h.WriteString(string(user))
	mu := &o.stripes[h.Sum64()%presenceStripes]
	mu.Lock()
	return mu.Unlock
}
