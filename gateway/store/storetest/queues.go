package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// wantPending fails the test unless owner's pending items are want, in order.
func wantPending(t *testing.T, s store.Store, owner ids.Owner, want ...string) []store.QueueItem {
	t.Helper()
	got, err := s.Pending(ctx(t), owner, 0)
	must(t, err, "Pending(%s)", owner)
	var data []string
	for _, it := range got {
		data = append(data, string(it.Data))
		if !recently(it.Enqueued) {
			t.Errorf("Pending(%s): item %q enqueued at %v, want about now", owner, it.Data, it.Enqueued)
		}
	}
	if !slices.Equal(data, want) {
		t.Errorf("Pending(%s) = %q, want %q", owner, data, want)
	}
	return got
}

func testQueueOrder(t *testing.T, s store.Store) {
	const owner = ids.Owner("alice@example.test")
	wantPending(t, s, owner)
	var want []string
	seqs := map[string]bool{}
	for i := range 50 {
		item := fmt.Sprintf("item %02d", i)
		seq, err := s.Enqueue(ctx(t), owner, []byte(item))
		must(t, err, "Enqueue %d", i)
		if seq == "" || seqs[seq] {
			t.Fatalf("Enqueue %d: sequence %q empty or repeated", i, seq)
		}
		seqs[seq] = true
		want = append(want, item)
	}
	got := wantPending(t, s, owner, want...)

	limited, err := s.Pending(ctx(t), owner, 3)
	must(t, err, "Pending with a limit")
	if len(limited) != 3 || !bytes.Equal(limited[0].Data, got[0].Data) || !bytes.Equal(limited[2].Data, got[2].Data) {
		t.Errorf("Pending(limit 3) = %v, want the first three items", limited)
	}

	// Acknowledging from the middle keeps the order of the rest.
	must(t, s.Ack(ctx(t), owner, got[1].Seq), "Ack")
	want = slices.Delete(want, 1, 2)
	wantPending(t, s, owner, want...)

	// Items queued after an Ack come after the older ones.
	_, err = s.Enqueue(ctx(t), owner, []byte("late"))
	must(t, err, "Enqueue late")
	wantPending(t, s, owner, append(want, "late")...)
}

func testQueueAckIdempotent(t *testing.T, s store.Store) {
	const owner = ids.Owner("alice@example.test")
	seq, err := s.Enqueue(ctx(t), owner, []byte{0, 1, 0xff})
	must(t, err, "Enqueue")
	got, err := s.Pending(ctx(t), owner, 0)
	must(t, err, "Pending")
	if len(got) != 1 || !bytes.Equal(got[0].Data, []byte{0, 1, 0xff}) || got[0].Seq != seq {
		t.Fatalf("Pending = %v, want the binary item with seq %q", got, seq)
	}
	acks := []struct {
		name string
		seq  string
	}{
		{"first", seq},
		{"again", seq},
		{"garbage", "not a sequence"},
		{"empty", ""},
	}
	for _, a := range acks {
		must(t, s.Ack(ctx(t), owner, a.seq), "Ack %s", a.name)
	}
	wantPending(t, s, owner)
	owners, err := s.PendingOwners(ctx(t))
	must(t, err, "PendingOwners")
	if slices.Contains(owners, owner) {
		t.Errorf("PendingOwners = %q after every item was acknowledged", owners)
	}
}

func testQueueIsolation(t *testing.T, s store.Store) {
	owners := []ids.Owner{"alice@example.test", "bob@example.test", "odd:{x}%@example.test"}
	seqs := map[ids.Owner]string{}
	for _, o := range owners {
		seq, err := s.Enqueue(ctx(t), o, []byte("for "+string(o)))
		must(t, err, "Enqueue for %s", o)
		seqs[o] = seq
	}
	for _, o := range owners {
		wantPending(t, s, o, "for "+string(o))
	}
	got, err := s.PendingOwners(ctx(t))
	must(t, err, "PendingOwners")
	slices.Sort(got)
	want := slices.Clone(owners)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("PendingOwners = %q, want %q", got, want)
	}

	// Sequences are per owner (two owners' items may share one), so only
	// the owner's own queue loses the item.
	must(t, s.Ack(ctx(t), owners[0], seqs[owners[0]]), "Ack")
	wantPending(t, s, owners[0])
	wantPending(t, s, owners[1], "for "+string(owners[1]))
	got, err = s.PendingOwners(ctx(t))
	must(t, err, "PendingOwners")
	if slices.Contains(got, owners[0]) || len(got) != 2 {
		t.Errorf("PendingOwners = %q, want the two owners with items", got)
	}
}

// enqueueItems queues items for owner and returns their sequences.
func enqueueItems(t *testing.T, s store.Store, owner ids.Owner, items ...string) []string {
	t.Helper()
	seqs := make([]string, len(items))
	for i, item := range items {
		seq, err := s.Enqueue(ctx(t), owner, []byte(item))
		must(t, err, "Enqueue %q for %s", item, owner)
		seqs[i] = seq
	}
	return seqs
}

// wantPendingOwners fails the test unless PendingOwners is want, in any
// order.
func wantPendingOwners(t *testing.T, s store.Store, want ...ids.Owner) {
	t.Helper()
	got, err := s.PendingOwners(ctx(t))
	must(t, err, "PendingOwners")
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("PendingOwners = %q, want %q", got, want)
	}
}

func testQueueAckAll(t *testing.T, s store.Store) {
	must(t, s.AckAll(ctx(t), nil), "AckAll(nil)")
	a := enqueueItems(t, s, alice, "a0", "a1", "a2", "a3")
	b := enqueueItems(t, s, bob, "b0", "b1")
	o := enqueueItems(t, s, oddOwner, "o0")
	wantPendingOwners(t, s, alice, bob, oddOwner)

	must(t, s.AckAll(ctx(t), []store.QueueRef{
		{Owner: alice, Seq: a[0]},
		{Owner: bob, Seq: b[0]},
		{Owner: alice, Seq: a[2]},
		{Owner: oddOwner, Seq: o[0]},
		{Owner: alice, Seq: a[0]}, // twice in one batch
		// Not queued, or not a sequence at all: ignored.
		{Owner: bob, Seq: "garbage"},
		{Owner: alice, Seq: ""},
		{Owner: "nobody@example.test", Seq: a[1]},
		// Another owner's sequences name nothing in this owner's queue.
		{Owner: carol, Seq: b[1]},
		{Owner: carol, Seq: a[3]},
	}), "AckAll")
	wantPending(t, s, alice, "a1", "a3")
	wantPending(t, s, bob, "b1")
	wantPending(t, s, oddOwner)
	wantPendingOwners(t, s, alice, bob)

	// Already acknowledged items again, with the rest.
	must(t, s.AckAll(ctx(t), []store.QueueRef{{Owner: alice, Seq: a[0]}, {Owner: alice, Seq: a[3]}, {Owner: bob, Seq: b[1]}, {Owner: alice, Seq: a[1]}, {Owner: oddOwner, Seq: o[0]}}), "AckAll of the rest")
	wantPending(t, s, alice)
	wantPending(t, s, bob)
	wantPendingOwners(t, s)

	// One item: as Ack.
	c := enqueueItems(t, s, carol, "c0", "c1")
	must(t, s.AckAll(ctx(t), []store.QueueRef{{Owner: carol, Seq: c[1]}}), "AckAll of one item")
	wantPending(t, s, carol, "c0")
	wantPendingOwners(t, s, carol)
}

// testQueueAckAllLarge acknowledges a batch larger than backends are likely
// to split it into, of two owners, leaving every third item.
func testQueueAckAllLarge(t *testing.T, s store.Store) {
	const n = 600
	var items []string
	for i := range n {
		items = append(items, fmt.Sprint("item ", i))
	}
	seqs := map[ids.Owner][]string{
		alice: enqueueItems(t, s, alice, items...),
		bob:   enqueueItems(t, s, bob, items[:n/2]...),
	}
	var refs []store.QueueRef
	want := map[ids.Owner][]string{}
	for _, o := range []ids.Owner{alice, bob} {
		for i, seq := range seqs[o] {
			if i%3 == 2 {
				want[o] = append(want[o], items[i])
				continue
			}
			refs = append(refs, store.QueueRef{Owner: o, Seq: seq})
		}
	}
	must(t, s.AckAll(ctx(t), refs), "AckAll(%d items)", len(refs))
	wantPending(t, s, alice, want[alice]...)
	wantPending(t, s, bob, want[bob]...)
}

// testQueueEnqueueAll appends one batch across owners, interleaved with
// single appends: each owner's items keep the order they were given in,
// the sequences come back in the batch's order and work with Ack.
func testQueueEnqueueAll(t *testing.T, s store.Store) {
	seqs, err := s.EnqueueAll(ctx(t), nil)
	must(t, err, "EnqueueAll(nil)")
	if len(seqs) != 0 {
		t.Fatalf("EnqueueAll(nil) = %q, want none", seqs)
	}
	enqueueItems(t, s, alice, "a0")
	batch := []store.QueueAppend{
		{Owner: alice, Data: []byte("a1")},
		{Owner: bob, Data: []byte("b0")},
		{Owner: oddOwner, Data: []byte("o0")},
		{Owner: alice, Data: []byte("a2")},
		{Owner: bob, Data: nil},
		{Owner: alice, Data: []byte("a3")},
	}
	seqs, err = s.EnqueueAll(ctx(t), batch)
	must(t, err, "EnqueueAll")
	if len(seqs) != len(batch) {
		t.Fatalf("EnqueueAll returned %d sequences for %d items", len(seqs), len(batch))
	}
	enqueueItems(t, s, alice, "a4")
	wantPending(t, s, alice, "a0", "a1", "a2", "a3", "a4")
	wantPending(t, s, bob, "b0", "")
	wantPending(t, s, oddOwner, "o0")
	wantPendingOwners(t, s, alice, bob, oddOwner)

	// The sequences name the items they were returned for.
	for _, i := range []int{0, 3, 4, 2} {
		must(t, s.Ack(ctx(t), batch[i].Owner, seqs[i]), fmt.Sprint("Ack of batch item ", i))
	}
	wantPending(t, s, alice, "a0", "a3", "a4")
	wantPending(t, s, bob, "b0")
	wantPending(t, s, oddOwner)
	wantPendingOwners(t, s, alice, bob)
}
