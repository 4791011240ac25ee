package redisstore

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// OwnerFences gives the fence of an owner's writes: the fence of the
// owner's lease (cluster.NewOwnerLease) while this worker holds it, and
// false when it does not (cluster.Assigner.Fence has this shape).
type OwnerFences func(owner ids.Owner) (cluster.Fence, bool)

// SetOwnerFences fences each owner's writes by that owner's lease (nil:
// back to SetFence's fence, if any): Enqueue and EnqueueAll (journal,
// intake, outbox), PutMessageID(s) (id map) and Ack/AckAll (their
// removal) run as scripts that first check that the owner's lease still
// carries the token fences gives, and a write for an owner this worker
// does not hold is refused before it is sent. Either refusal is an error
// wrapping store.ErrFenced. This is the sharded mode's fence.
//
// fences is called with the owner as the Queues role receives it: a
// bare JID for the delivery journal and the id map, but a queue name
// for gateway/delivery's outboxes and intake ("outbox:" or "xmppin:"
// before the bare JID); the caller maps those to the owner whose lease
// fences them. The owner's lease carries the owner's hash tag, so for
// the journal and the id map the check and the write are in one slot;
// the outbox and intake streams, and the queues set that Enqueue also
// updates, are not: as with SetFence, fenced writes need standalone
// Redis or Sentinel.
//
// The account records, the contacts cache and the adapters' KV space
// are not fenced (KV is keyed by platform account, not by owner).
func (s *Store) SetOwnerFences(fences OwnerFences) {
	if fences == nil {
		s.ownerFences.Store(nil)
		return
	}
	s.ownerFences.Store(&fences)
}

// fenced reports whether writes are fenced at all (by owner or by one
// fence).
func (s *Store) fenced() bool { return s.ownerFences.Load() != nil || s.fence.Load() != nil }

// fenceOf is the fence of owner's writes: the owner's fence if owner
// fences are set, else the store's one fence; fenced is false when
// neither is set.
func (s *Store) fenceOf(owner ids.Owner) (f cluster.Fence, fenced bool, err error) {
	if f, fenced, err := s.ownerFenceOf(owner); err != nil || fenced {
		return f, fenced, err
	}
	if f := s.fence.Load(); f != nil {
		return *f, true, nil
	}
	return cluster.Fence{}, false, nil
}

// ownerFenceOf is the fence of owner's writes by owner fences only (the
// store's one fence does not fence acks: see SetFence).
func (s *Store) ownerFenceOf(owner ids.Owner) (cluster.Fence, bool, error) {
	p := s.ownerFences.Load()
	if p == nil {
		return cluster.Fence{}, false, nil
	}
	f, ok := (*p)(owner)
	if !ok {
		return cluster.Fence{}, true, fmt.Errorf("%w: owner %s is not held by this worker", store.ErrFenced, owner)
	}
	return f, true, nil
}

// enqueueAllFenced appends items fenced: in one script under the store's
// one fence, or one script per owner (in the order of each owner's first
// item) under owner fences. Under owner fences a refusal stops at that
// owner: the items of the owners before it are appended, and the error
// says which owner was refused.
func (s *Store) enqueueAllFenced(ctx context.Context, items []store.QueueAppend) ([]string, error) {
	if s.ownerFences.Load() == nil {
		f := s.fence.Load()
		return s.enqueueFenced(ctx, *f, items)
	}
	byOwner := make(map[ids.Owner][]int)
	var owners []ids.Owner
	for i, it := range items {
		if _, ok := byOwner[it.Owner]; !ok {
			owners = append(owners, it.Owner)
		}
		byOwner[it.Owner] = append(byOwner[it.Owner], i)
	}
	seqs := make([]string, len(items))
	for _, o := range owners {
		f, _, err := s.fenceOf(o)
		if err != nil {
			return nil, err
		}
		idx := byOwner[o]
		group := make([]store.QueueAppend, len(idx))
		for j, i := range idx {
			group[j] = items[i]
		}
		got, err := s.enqueueFenced(ctx, f, group)
		if err != nil {
			return nil, fmt.Errorf("owner %s: %w", o, err)
		}
		for j, i := range idx {
			seqs[i] = got[j]
		}
	}
	return seqs, nil
}
