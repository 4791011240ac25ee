package cluster_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// recorder is a cluster.Observer that keeps what it was told.
type recorder struct {
	mu       sync.Mutex
	renewals []error
	acquired []int64
}

func (r *recorder) LeaseRenewed(_ string, _ time.Duration, err error) {
	r.mu.Lock()
	r.renewals = append(r.renewals, err)
	r.mu.Unlock()
}

func (r *recorder) LeaseAcquired(_ string, token int64) {
	r.mu.Lock()
	r.acquired = append(r.acquired, token)
	r.mu.Unlock()
}

func (r *recorder) counts() (renewed, failed, acquired int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.renewals {
		if err == nil {
			renewed++
		} else {
			failed++
		}
	}
	return renewed, failed, len(r.acquired)
}

// TestElectorObserver: the observer hears the takeover with its token and
// each renewal, and a renewal refused once another instance took the
// lease.
func TestElectorObserver(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	e := newElector(t, addr, "obs", 2*time.Second)
	rec := &recorder{}
	e.SetObserver(rec)
	g, err := e.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, acquired := rec.counts(); acquired != 1 || rec.acquired[0] != g.Token {
		t.Fatalf("acquisitions %v, want [%d]", rec.acquired, g.Token)
	}
	holdCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- e.Hold(holdCtx, g) }()
	testutil.Eventually(t, waitTimeout, "two renewals observed", func() bool { n, _, _ := rec.counts(); return n >= 2 })
	// Another instance takes the lease behind its back: the next renewal
	// is refused, and observed as such.
	c := client(t, addr)
	l := cluster.NewLease(c, prefix, cluster.FrontLease)
	if err := c.Del(ctx, l.Key()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Hold returned nil, want the lease lost")
		}
	case <-time.After(waitTimeout):
		t.Fatal("Hold did not notice the loss")
	}
	if _, failed, _ := rec.counts(); failed != 1 {
		t.Errorf("failed renewals observed: %d, want 1", failed)
	}
}
