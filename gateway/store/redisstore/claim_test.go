package redisstore

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// TestLeftoverClaims plants the reverse index entries that a crash between
// PutAccount's steps leaves behind, and checks how readers and other owners
// treat them.
func TestLeftoverClaims(t *testing.T) {
	addr := storetest.StartRedis(t)
	tests := []struct {
		name string
		// ghostLinked gives the claim's holder a record that names the id.
		ghostLinked bool
		age         time.Duration
		wantErr     error
	}{
		{"in flight: too young to take over", false, 0, store.ErrConflict},
		{"left by a crash: taken over", false, 2 * claimGrace, nil},
		{"confirmed by the holder's record: kept", true, 2 * claimGrace, store.ErrConflict},
		{"confirmed and young: kept", true, 0, store.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := redis.NewClient(&redis.Options{Addr: addr})
			s := New(client, Options{KeyPrefix: freshPrefix()})
			t.Cleanup(func() { s.Close() })
			ctx := t.Context()
			const ghost, bob ids.Owner = "ghost@example.org", "bob@example.org"

			ghostID := ids.AccountID("")
			if tc.ghostLinked {
				ghostID = "A"
			}
			if err := s.PutAccount(ctx, store.Account{Owner: ghost, Platform: "sandbox", ID: ghostID}); err != nil {
				t.Fatalf("PutAccount(ghost): %v", err)
			}
			now, err := client.Time(ctx).Result()
			if err != nil {
				t.Fatalf("TIME: %v", err)
			}
			claimed := now.Add(-tc.age).UnixMilli()
			if err := client.HSet(ctx, s.keys.accountID("sandbox", "A"), "owner", string(ghost), "token", "planted", "claimed", claimed).Err(); err != nil {
				t.Fatalf("planting the claim: %v", err)
			}

			if !tc.ghostLinked {
				// An unconfirmed claim is invisible to readers.
				if _, err := s.AccountByID(ctx, "sandbox", "A"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("AccountByID of an unconfirmed claim: %v, want store.ErrNotFound", err)
				}
			}

			err = s.PutAccount(ctx, store.Account{Owner: bob, Platform: "sandbox", ID: "A"})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("PutAccount(bob, A) = %v, want %v", err, tc.wantErr)
			}
			wantOwner := ghost
			if tc.wantErr == nil {
				wantOwner = bob
			}
			holder, err := client.HGet(ctx, s.keys.accountID("sandbox", "A"), "owner").Result()
			if err != nil || holder != string(wantOwner) {
				t.Errorf("reverse index holder = %q, %v; want %q", holder, err, wantOwner)
			}
			if tc.wantErr == nil {
				if a, err := s.AccountByID(ctx, "sandbox", "A"); err != nil || a.Owner != bob {
					t.Errorf("AccountByID after takeover = %q, %v; want bob", a.Owner, err)
				}
			}
		})
	}
}

// TestOwnerRetryReclaims checks that an owner whose PutAccount crashed after
// claiming can complete it: its own claim is never a conflict.
func TestOwnerRetryReclaims(t *testing.T) {
	addr := storetest.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	s := New(client, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	if err := client.HSet(ctx, s.keys.accountID("sandbox", "A"), "owner", "alice@example.org", "token", "t", "claimed", 1).Err(); err != nil {
		t.Fatalf("planting the claim: %v", err)
	}
	if err := s.PutAccount(ctx, store.Account{Owner: "alice@example.org", Platform: "sandbox", ID: "A"}); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}
	if a, err := s.AccountByID(ctx, "sandbox", "A"); err != nil || a.Owner != "alice@example.org" {
		t.Fatalf("AccountByID = %q, %v", a.Owner, err)
	}
}

// TestReleaseKeepsRefreshedClaim replays the race that the release token
// exists for: PutAccount reads the token of the owner's claim on the old id,
// a concurrent PutAccount of the same owner claims that id again, and only
// then does the first one release it. The claim must survive.
func TestReleaseKeepsRefreshedClaim(t *testing.T) {
	addr := storetest.StartRedis(t)
	s := New(redis.NewClient(&redis.Options{Addr: addr}), Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	const alice ids.Owner = "alice@example.org"
	if err := s.PutAccount(ctx, store.Account{Owner: alice, Platform: "sandbox", ID: "A"}); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}

	stale, err := s.claimToken(ctx, "sandbox", "A", alice)
	if err != nil || stale.token == "" {
		t.Fatalf("claimToken = %+v, %v; want alice's token", stale, err)
	}
	if err := s.claim(ctx, "sandbox", "A", alice); err != nil {
		t.Fatalf("re-claim: %v", err)
	}
	if err := s.release(ctx, stale); err != nil {
		t.Fatalf("release: %v", err)
	}
	if holder, err := s.client.HGet(ctx, s.keys.accountID("sandbox", "A"), "owner").Result(); err != nil || holder != string(alice) {
		t.Fatalf("after a stale release the claim holder is %q, %v; want alice", holder, err)
	}

	// With the current token, release does delete.
	current, err := s.claimToken(ctx, "sandbox", "A", alice)
	if err != nil {
		t.Fatalf("claimToken: %v", err)
	}
	if err := s.release(ctx, current); err != nil {
		t.Fatalf("release: %v", err)
	}
	if n, err := s.client.Exists(ctx, s.keys.accountID("sandbox", "A")).Result(); err != nil || n != 0 {
		t.Fatalf("after release the claim still exists (%d, %v)", n, err)
	}
}
