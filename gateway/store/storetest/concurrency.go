package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// testConcurrentPutDistinctOwners links and then relinks many owners at once;
// afterwards the reverse index must hold exactly the final ids.
func testConcurrentPutDistinctOwners(t *testing.T, s store.Store) {
	const n = 32
	owner := func(i int) ids.Owner { return ids.Owner(fmt.Sprintf("user%02d@example.org", i)) }
	firstID := func(i int) ids.AccountID { return ids.AccountID(fmt.Sprintf("+1%04d", i)) }
	finalID := func(i int) ids.AccountID { return ids.AccountID(fmt.Sprintf("+2%04d", i)) }

	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := ctx(t)
			if err := s.PutAccount(c, store.Account{Owner: owner(i), Platform: sandbox, ID: firstID(i)}); err != nil {
				errs[i] = err
				return
			}
			errs[i] = s.PutAccount(c, store.Account{Owner: owner(i), Platform: sandbox, ID: finalID(i)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err, "PutAccount of %s", owner(i))
	}

	list, err := s.ListAccounts(ctx(t))
	must(t, err, "ListAccounts")
	if len(list) != n {
		t.Fatalf("ListAccounts returned %d records, want %d", len(list), n)
	}
	for i, a := range list {
		if a.Owner != owner(i) || a.ID != finalID(i) {
			t.Errorf("ListAccounts[%d] = {%q %q}, want {%q %q}", i, a.Owner, a.ID, owner(i), finalID(i))
		}
		wantLinked(t, s, sandbox, finalID(i), owner(i))
		wantUnlinked(t, s, sandbox, firstID(i))
	}
}

// testConcurrentPutSameID races many owners for one account id: exactly one
// wins.
func testConcurrentPutSameID(t *testing.T, s store.Store) {
	const n = 16
	var (
		wg     sync.WaitGroup
		winner atomic.Value
		wins   atomic.Int32
		errs   = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			o := ids.Owner(fmt.Sprintf("racer%02d@example.org", i))
			err := s.PutAccount(ctx(t), store.Account{Owner: o, Platform: sandbox, ID: "contested"})
			if err == nil {
				wins.Add(1)
				winner.Store(o)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if w := wins.Load(); w != 1 {
		t.Fatalf("%d owners linked the same account id, want exactly 1", w)
	}
	for i, err := range errs {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Errorf("racer %d: got %v, want nil or store.ErrConflict", i, err)
		}
	}
	wantLinked(t, s, sandbox, "contested", winner.Load().(ids.Owner))
	list, err := s.ListAccounts(ctx(t))
	must(t, err, "ListAccounts")
	if len(list) != 1 {
		t.Errorf("ListAccounts has %d records, want only the winner's", len(list))
	}
}

// testConcurrentPutSameOwner changes one owner's account id from many
// goroutines. Whatever id ends up in the record must be indexed, and every
// other id must be free for someone else to link.
func testConcurrentPutSameOwner(t *testing.T, s store.Store) {
	const (
		n      = 8
		rounds = 4
	)
	id := func(i int) ids.AccountID { return ids.AccountID(fmt.Sprintf("churn-%d", i)) }
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			for range rounds {
				if err := s.PutAccount(ctx(t), store.Account{Owner: alice, Platform: sandbox, ID: id(i)}); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err, "PutAccount from goroutine %d", i)
	}

	final := byOwner(t, s, alice, sandbox).ID
	wantLinked(t, s, sandbox, final, alice)
	for i := range n {
		if id(i) == final {
			continue
		}
		wantUnlinked(t, s, sandbox, id(i))
		if err := s.PutAccount(ctx(t), store.Account{Owner: bob, Platform: sandbox, ID: id(i)}); err != nil {
			t.Errorf("linking %q, left behind by alice, to bob: %v", id(i), err)
		}
	}
}
