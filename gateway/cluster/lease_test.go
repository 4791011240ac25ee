package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

const prefix = "test:"

// waitTimeout bounds every wait on a condition in these tests.
const waitTimeout = 10 * time.Second

func client(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// appendScript is a fenced write: it appends ARGV[1] to the list KEYS[1].
var appendScript = cluster.FencedScript(`return redis.call('RPUSH', KEYS[1], ARGV[1])`)

func fencedAppend(ctx context.Context, c redis.Scripter, f cluster.Fence, v string) error {
	return f.Run(ctx, c, appendScript, []string{"test:log"}, v).Err()
}

func TestLeaseTwoContendersOneWins(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	l := cluster.NewLease(c, prefix, "front")
	ctx := t.Context()
	const contenders = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		grants []cluster.Grant
		held   int
	)
	for i := range contenders {
		wg.Go(func() {
			g, err := l.Acquire(ctx, fmt.Sprintf("i%d", i), time.Minute)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				grants = append(grants, g)
			case errors.Is(err, cluster.ErrHeld):
				held++
			default:
				t.Errorf("contender %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if len(grants) != 1 || held != contenders-1 {
		t.Fatalf("%d contenders: %d won, %d were told the lease is held; want 1 and %d", contenders, len(grants), held, contenders-1)
	}
	st, err := l.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Holder != grants[0].Holder || st.Token != grants[0].Token || st.TTL <= 0 {
		t.Errorf("state %+v, want holder %s token %d with a TTL", st, grants[0].Holder, grants[0].Token)
	}
	// The same holder acquiring again (a restarted process under the same
	// name) gets a new token, which fences the earlier grant off.
	again, err := l.Acquire(ctx, grants[0].Holder, time.Minute)
	if err != nil || again.Token <= grants[0].Token {
		t.Fatalf("re-acquire by the holder: token %d, %v; want a token above %d", again.Token, err, grants[0].Token)
	}
	if err := l.Renew(ctx, grants[0], time.Minute); !errors.Is(err, cluster.ErrNotHeld) {
		t.Errorf("renew of the earlier grant: %v, want ErrNotHeld", err)
	}
	if err := fencedAppend(ctx, c, grants[0].Fence(l), "earlier"); !errors.Is(err, cluster.ErrFenced) {
		t.Errorf("write with the earlier grant's token: %v, want ErrFenced", err)
	}
	grants[0] = again
	other := cluster.Grant{Lease: "front", Holder: "intruder", Token: grants[0].Token}
	if err := l.Renew(ctx, other, time.Minute); !errors.Is(err, cluster.ErrNotHeld) {
		t.Errorf("renew by a non-holder with the holder's token: %v, want ErrNotHeld", err)
	}
	if err := l.Release(ctx, other); !errors.Is(err, cluster.ErrNotHeld) {
		t.Errorf("release by a non-holder: %v, want ErrNotHeld", err)
	}
	// Release frees it at once, and the next grant has a larger token.
	if err := l.Release(ctx, grants[0]); err != nil {
		t.Fatal(err)
	}
	next, err := l.Acquire(ctx, "late", time.Minute)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	if next.Token <= grants[0].Token {
		t.Errorf("token after release %d, want more than %d", next.Token, grants[0].Token)
	}
}

func TestLeaseRefusesBadTTL(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	l := cluster.NewLease(c, prefix, "front")
	for _, ttl := range []time.Duration{0, -time.Second, time.Microsecond} {
		if _, err := l.Acquire(t.Context(), "a", ttl); err == nil {
			t.Errorf("Acquire with TTL %v: no error", ttl)
		}
	}
}

// TestLeaseStaleHolderIsFenced: the holder stops renewing (as a paused
// process does) past its TTL; another instance takes the lease; the old
// holder's write with its old token is refused, with an error that says
// why, and nothing of it lands. The new holder's write lands.
func TestLeaseStaleHolderIsFenced(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	l := cluster.NewLease(c, prefix, "front")
	const ttl = 300 * time.Millisecond
	old, err := l.Acquire(ctx, "old", ttl)
	if err != nil {
		t.Fatal(err)
	}
	if err := fencedAppend(ctx, c, old.Fence(l), "old-1"); err != nil {
		t.Fatalf("the holder's fenced write: %v", err)
	}
	// While the lease lives, a contender is refused.
	if _, err := l.Acquire(ctx, "new", ttl); !errors.Is(err, cluster.ErrHeld) {
		t.Fatalf("acquire while held: %v, want ErrHeld", err)
	}
	// "old" is paused: no renewal. The lease expires on the server.
	var fresh cluster.Grant
	testutil.Eventually(t, waitTimeout, "the contender to take the expired lease", func() bool {
		fresh, err = l.Acquire(ctx, "new", time.Minute)
		return err == nil
	})
	if fresh.Token <= old.Token {
		t.Fatalf("new token %d is not above the old %d", fresh.Token, old.Token)
	}
	err = fencedAppend(ctx, c, old.Fence(l), "old-2")
	if !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("stale holder's write: %v, want ErrFenced", err)
	}
	t.Logf("stale write refused: %v", err)
	if err := l.Renew(ctx, old, ttl); !errors.Is(err, cluster.ErrNotHeld) {
		t.Errorf("stale holder's renew: %v, want ErrNotHeld", err)
	}
	if err := fencedAppend(ctx, c, fresh.Fence(l), "new-1"); err != nil {
		t.Fatalf("the new holder's write: %v", err)
	}
	got, err := c.LRange(ctx, "test:log", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[old-1 new-1]" {
		t.Errorf("log %v, want [old-1 new-1]", got)
	}
}

// TestFenceRefusesExpiredLease: a write with the token of a lease that
// expired, with no new holder yet, is refused too.
func TestFenceRefusesExpiredLease(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	l := cluster.NewLease(c, prefix, "front")
	g, err := l.Acquire(ctx, "a", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitTimeout, "the lease to expire", func() bool {
		st, err := l.State(ctx)
		return err == nil && st.Holder == ""
	})
	if err := fencedAppend(ctx, c, g.Fence(l), "x"); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("write on an expired lease: %v, want ErrFenced", err)
	}
	if n, _ := c.LLen(ctx, "test:log").Result(); n != 0 {
		t.Errorf("the refused write left %d entries", n)
	}
}

// TestLeaseSurvivesRedisRestart: with the append-only file on, a restart
// of Redis keeps the lease and its token: the holder renews, a contender
// is still refused, the holder's fenced writes still land. Without
// persistence the lease is gone: the holder's renew and writes are
// refused, and it must campaign again.
func TestLeaseSurvivesRedisRestart(t *testing.T) {
	t.Run("aof", func(t *testing.T) {
		r := storetest.StartRedisProcess(t, "--appendonly", "yes", "--appendfsync", "always")
		c := client(t, r.Addr())
		ctx := t.Context()
		l := cluster.NewLease(c, prefix, "front")
		g, err := l.Acquire(ctx, "a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r.Kill()
		r.Restart()
		if err := l.Renew(ctx, g, time.Minute); err != nil {
			t.Fatalf("renew after the restart: %v", err)
		}
		if _, err := l.Acquire(ctx, "b", time.Minute); !errors.Is(err, cluster.ErrHeld) {
			t.Errorf("contender after the restart: %v, want ErrHeld", err)
		}
		if err := fencedAppend(ctx, c, g.Fence(l), "x"); err != nil {
			t.Errorf("holder's write after the restart: %v", err)
		}
		st, err := l.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastToken != g.Token {
			t.Errorf("token counter %d after the restart, want %d", st.LastToken, g.Token)
		}
	})
	t.Run("no_persistence", func(t *testing.T) {
		r := storetest.StartRedisProcess(t)
		c := client(t, r.Addr())
		ctx := t.Context()
		l := cluster.NewLease(c, prefix, "front")
		// A few grants, so that the old token is above a fresh counter's.
		var g cluster.Grant
		for range 3 {
			var err error
			if g, err = l.Acquire(ctx, "a", time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := l.Release(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		g, err := l.Acquire(ctx, "a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r.Kill()
		r.Restart()
		if err := l.Renew(ctx, g, time.Minute); !errors.Is(err, cluster.ErrNotHeld) {
			t.Fatalf("renew after losing the data: %v, want ErrNotHeld", err)
		}
		b, err := l.Acquire(ctx, "b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// b's token restarted from 1, below a's: the fence compares for
		// equality with the lease's token, so a's write is still refused.
		if err := fencedAppend(ctx, c, g.Fence(l), "stale"); !errors.Is(err, cluster.ErrFenced) {
			t.Errorf("old holder's write (token %d) after the restart, lease at %d: %v, want ErrFenced", g.Token, b.Token, err)
		}
	})
}

// TestRenewAllRenewsEachAsRenewDoes: three leases renewed in one
// pipeline; the one taken over meanwhile is reported ErrNotHeld and left to
// its new holder, the others get their TTL back.
func TestRenewAllRenewsEachAsRenewDoes(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	var (
		leases []*cluster.Lease
		grants []cluster.Grant
	)
	for _, o := range []string{"a@x.test", "b@x.test", "c@x.test"} {
		l := cluster.NewOwnerLease(c, prefix, o)
		g, err := l.Acquire(ctx, "gw-a", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		leases, grants = append(leases, l), append(grants, g)
	}
	if err := c.Del(ctx, leases[1].Key()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := leases[1].Acquire(ctx, "gw-b", time.Minute); err != nil {
		t.Fatal(err)
	}
	errs := cluster.RenewAll(ctx, c, leases, grants, time.Hour)
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], cluster.ErrNotHeld) {
		t.Fatalf("RenewAll: %v; want nil, ErrNotHeld, nil", errs)
	}
	for i, l := range leases {
		st, err := l.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i == 1 && (st.Holder != "gw-b" || st.TTL > time.Minute):
			t.Errorf("the taken-over lease: %+v, want gw-b's with its own TTL", st)
		case i != 1 && (st.Holder != "gw-a" || st.TTL < 59*time.Minute):
			t.Errorf("lease %s: %+v, want gw-a's renewed to an hour", l.Name(), st)
		}
	}
}
