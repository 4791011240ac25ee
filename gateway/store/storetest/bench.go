package storetest

import (
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Bench runs benchmarks of the hot paths — recording message id mappings
// (one by one and in batches), looking one up, and queueing and
// acknowledging journal items — against the backend that open creates (called once
// per sub-benchmark; the benchmark closes the store).
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	b.Helper()
	run := func(name string, fn func(b *testing.B, s store.Store)) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			b.Cleanup(func() {
				if err := s.Close(); err != nil {
					b.Errorf("Close: %v", err)
				}
			})
			fn(b, s)
		})
	}
	run("PutMessageID", benchPutMessageID)
	run("PutMessageIDs", benchPutMessageIDs)
	run("XMPPMessageID", benchXMPPMessageID)
	run("XMPPMessageIDParallel", benchXMPPMessageIDParallel)
	run("Enqueue", benchEnqueue)
	run("Ack", benchAck)
	run("AckAll", benchAckAll)
}

func benchPutMessageID(b *testing.B, s store.Store) {
	ctx := b.Context()
	i := 0
	for b.Loop() {
		id := fmt.Sprint(i)
		if err := s.PutMessageID(ctx, alice, "chat", "x"+id, ids.MessageID("p"+id), 0); err != nil {
			b.Fatalf("PutMessageID: %v", err)
		}
		i++
	}
}

// benchBatch is the size of the batches of PutMessageIDs and AckAll, and
// benchOwners how many owners share each batch, their items interleaved.
const (
	benchBatch  = 64
	benchOwners = 4
)

// benchOwner is the owner of the i-th item of a batch.
func benchOwner(i int) ids.Owner { return ids.Owner(fmt.Sprintf("owner%d@example.org", i%benchOwners)) }

// reportPerItem adds the time per item of a benchmark whose iterations
// handle benchBatch items each.
func reportPerItem(b *testing.B, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), unit)
}

// benchPutMessageIDs writes batches of benchBatch new mappings of
// benchOwners owners; ns/pair is comparable to PutMessageID's ns/op.
func benchPutMessageIDs(b *testing.B, s store.Store) {
	ctx := b.Context()
	pairs := make([]store.MessageIDPair, benchBatch)
	i := 0
	for b.Loop() {
		for j := range pairs {
			id := fmt.Sprint(i)
			pairs[j] = store.MessageIDPair{Owner: benchOwner(j), Chat: "chat", XMPPID: "x" + id, PlatformID: ids.MessageID("p" + id)}
			i++
		}
		if err := s.PutMessageIDs(ctx, pairs); err != nil {
			b.Fatalf("PutMessageIDs: %v", err)
		}
	}
	reportPerItem(b, "ns/pair")
}

// benchLookups is how many mappings the lookup benchmarks read from.
const benchLookups = 1000

func fillMessageIDs(b *testing.B, s store.Store) {
	b.Helper()
	for i := range benchLookups {
		if err := s.PutMessageID(b.Context(), alice, "chat", fmt.Sprint("x", i), ids.MessageID(fmt.Sprint("p", i)), 0); err != nil {
			b.Fatalf("PutMessageID: %v", err)
		}
	}
}

func benchXMPPMessageID(b *testing.B, s store.Store) {
	fillMessageIDs(b, s)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, err := s.XMPPMessageID(ctx, alice, "chat", ids.MessageID(fmt.Sprint("p", i%benchLookups))); err != nil {
			b.Fatalf("XMPPMessageID: %v", err)
		}
		i++
	}
}

func benchXMPPMessageIDParallel(b *testing.B, s store.Store) {
	fillMessageIDs(b, s)
	ctx := b.Context()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.XMPPMessageID(ctx, alice, "chat", ids.MessageID(fmt.Sprint("p", i%benchLookups))); err != nil {
				b.Errorf("XMPPMessageID: %v", err)
				return
			}
			i++
		}
	})
}

// benchItem is the payload of the queue benchmarks, about the size of a
// journaled chat message event.
var benchItem = make([]byte, 256)

func benchEnqueue(b *testing.B, s store.Store) {
	ctx := b.Context()
	for b.Loop() {
		if _, err := s.Enqueue(ctx, alice, benchItem); err != nil {
			b.Fatalf("Enqueue: %v", err)
		}
	}
}

// benchAck acknowledges one queued item per iteration; the items are
// queued beforehand, outside the timer.
func benchAck(b *testing.B, s store.Store) {
	ctx := b.Context()
	var seqs []string
	for b.Loop() {
		if len(seqs) == 0 {
			b.StopTimer()
			seqs = enqueueN(b, s, alice, 1024)
			b.StartTimer()
		}
		if err := s.Ack(ctx, alice, seqs[0]); err != nil {
			b.Fatalf("Ack: %v", err)
		}
		seqs = seqs[1:]
	}
}

// benchAckAll acknowledges batches of benchBatch queued items of
// benchOwners owners; the items are queued beforehand, outside the timer.
// ns/item is comparable to Ack's ns/op.
func benchAckAll(b *testing.B, s store.Store) {
	ctx := b.Context()
	var refs []store.QueueRef
	for b.Loop() {
		if len(refs) == 0 {
			b.StopTimer()
			// Interleave the owners, as a batch of acknowledgements of
			// several owners' deliveries would.
			const perOwner = 16 * benchBatch / benchOwners
			seqs := make([][]string, benchOwners)
			for o := range seqs {
				seqs[o] = enqueueN(b, s, benchOwner(o), perOwner)
			}
			for k := range perOwner {
				for o := range seqs {
					refs = append(refs, store.QueueRef{Owner: benchOwner(o), Seq: seqs[o][k]})
				}
			}
			b.StartTimer()
		}
		if err := s.AckAll(ctx, refs[:benchBatch]); err != nil {
			b.Fatalf("AckAll: %v", err)
		}
		refs = refs[benchBatch:]
	}
	reportPerItem(b, "ns/item")
}

// enqueueN queues n items for owner and returns their sequences.
func enqueueN(b *testing.B, s store.Store, owner ids.Owner, n int) []string {
	b.Helper()
	seqs := make([]string, n)
	for i := range seqs {
		seq, err := s.Enqueue(b.Context(), owner, benchItem)
		if err != nil {
			b.Fatalf("Enqueue: %v", err)
		}
		seqs[i] = seq
	}
	return seqs
}
