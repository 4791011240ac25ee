package storetest

import (
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Bench runs benchmarks of the hot paths — recording a message id mapping
// and looking one up — against the backend that open creates (called once
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
	run("XMPPMessageID", benchXMPPMessageID)
	run("XMPPMessageIDParallel", benchXMPPMessageIDParallel)
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
