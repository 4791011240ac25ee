package cluster_test

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// BenchmarkInboxPost posts one stanza-sized entry per op to an owner's
// inbox on a real redis-server: the front's cost of routing a stanza
// (without the ring), unbounded.
func BenchmarkInboxPost(b *testing.B) {
	c := client(b, storetest.StartRedis(b))
	q := cluster.NewOwnerInbox(c, prefix, "alice@example.test")
	data := make([]byte, 300)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.Post(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInboxPostBounded is BenchmarkInboxPost with the inbox bound
// checked in the same script (XLEN) and the admitted mark: what the
// front does since cluster.max_inbox.
func BenchmarkInboxPostBounded(b *testing.B) {
	c := client(b, storetest.StartRedis(b))
	q := cluster.NewOwnerInbox(c, prefix, "alice@example.test")
	data := make([]byte, 300)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.PostWith(ctx, data, cluster.PostOptions{Max: 1 << 40, Admitted: true}); err != nil {
			b.Fatal(err)
		}
	}
}
