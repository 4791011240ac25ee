package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

func newElector(t *testing.T, addr, id string, ttl time.Duration) *cluster.Elector {
	t.Helper()
	e, err := cluster.NewElector(cluster.ElectorOptions{
		Client:     client(t, addr),
		Prefix:     prefix,
		Instance:   cluster.Instance{ID: id, Host: "h", PID: 1, Started: time.Now(), Version: "test"},
		TTL:        ttl,
		RenewEvery: ttl / 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestElectorOptionsRefused(t *testing.T) {
	for _, c := range []struct{ ttl, renew time.Duration }{
		{time.Second, time.Second}, {time.Second, 2 * time.Second}, {0, time.Millisecond}, {time.Second, 0},
	} {
		if _, err := cluster.NewElector(cluster.ElectorOptions{TTL: c.ttl, RenewEvery: c.renew}); err == nil {
			t.Errorf("ttl %v renew every %v: no error", c.ttl, c.renew)
		}
	}
}

// TestElectorFailover: A holds the front lease; B campaigns as a
// standby. A resigns: B takes over at once (well within the TTL). Then
// the registry lists B active, and status shows B with its token.
func TestElectorFailover(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	const ttl = time.Minute // takeover must come from Resign, not expiry
	a := newElector(t, addr, "a", ttl)
	b := newElector(t, addr, "b", ttl)
	ga, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holdCtx, stopHold := context.WithCancel(ctx)
	holdDone := make(chan error, 1)
	go func() { holdDone <- a.Hold(holdCtx, ga) }()

	got := make(chan cluster.Grant, 1)
	campaignErr := make(chan error, 1)
	go func() {
		g, err := b.Campaign(ctx)
		campaignErr <- err
		got <- g
	}()
	st := waitStatus(t, addr, func(s cluster.Status) bool { return len(s.Instances) == 2 })
	if st.Front.Holder != "a" || st.Front.Token != ga.Token {
		t.Fatalf("front %+v, want a with token %d", st.Front, ga.Token)
	}
	if b.Role() != cluster.RoleStandby {
		t.Errorf("b is %s, want standby", b.Role())
	}
	stopHold()
	if err := <-holdDone; err != nil {
		t.Fatalf("Hold after its context ended: %v", err)
	}
	if err := a.Resign(ctx, ga); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-campaignErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ttl / 2):
		t.Fatal("b did not take the released lease")
	}
	gb := <-got
	if gb.Token <= ga.Token {
		t.Errorf("b's token %d, want more than a's %d", gb.Token, ga.Token)
	}
	st = waitStatus(t, addr, func(s cluster.Status) bool { return len(s.Instances) == 1 })
	if st.Instances[0].ID != "b" || st.Instances[0].Role != cluster.RoleActive || st.Front.Holder != "b" {
		t.Errorf("status %+v, want b alone and active, holding the front", st)
	}
}

// TestElectorHoldReportsLoss: another instance takes the lease from under
// the holder (its lease expired while it did not renew); Hold returns
// ErrLeaseLost at its next renewal.
func TestElectorHoldReportsLoss(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	const ttl = 2 * time.Second
	a := newElector(t, addr, "a", ttl)
	ga, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another instance takes the lease over (as after a's pause): the
	// lease is deleted behind a's back and re-acquired.
	c := client(t, addr)
	if err := c.Del(ctx, a.Lease().Key()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lease().Acquire(ctx, "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Hold(ctx, ga) }()
	select {
	case err := <-done:
		if !errors.Is(err, cluster.ErrLeaseLost) || !errors.Is(err, cluster.ErrNotHeld) {
			t.Fatalf("Hold: %v, want ErrLeaseLost from ErrNotHeld", err)
		}
	case <-time.After(2 * ttl):
		t.Fatal("Hold did not notice the loss within two TTLs")
	}
	if a.Role() != cluster.RoleStopping {
		t.Errorf("role after the loss %s, want stopping", a.Role())
	}
}

// TestElectorHoldGivesUpWithoutRedis: Redis goes away; Hold gives the
// lease up once a TTL has passed without a renewal, not later.
func TestElectorHoldGivesUpWithoutRedis(t *testing.T) {
	r := storetest.StartRedisProcess(t)
	ctx := t.Context()
	const ttl = time.Second
	a := newElector(t, r.Addr(), "a", ttl)
	ga, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.Kill()
	done := make(chan error, 1)
	go func() { done <- a.Hold(ctx, ga) }()
	select {
	case err := <-done:
		if !errors.Is(err, cluster.ErrLeaseLost) {
			t.Fatalf("Hold: %v, want ErrLeaseLost", err)
		}
	case <-time.After(10 * ttl):
		t.Fatal("Hold did not give up without Redis")
	}
}

func waitStatus(t *testing.T, addr string, ok func(cluster.Status) bool) cluster.Status {
	t.Helper()
	c := client(t, addr)
	var st cluster.Status
	testutil.Eventually(t, waitTimeout, "the cluster status", func() bool {
		var err error
		st, err = cluster.ReadStatus(t.Context(), c, prefix)
		return err == nil && ok(st)
	})
	return st
}
