package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestFetchPoolFairness: an owner holding all of its download slots waits
// (then gives up with ErrTooFast) for its next one, while another owner
// gets a slot at once; only when everybody's slots are taken does a
// download wait for a global one (then ErrRateLimited). Released slots are
// reused and idle owners are forgotten.
func TestFetchPoolFairness(t *testing.T) {
	p := newFetchPool(2, 3)
	ctx := t.Context()
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	var held []func()
	take := func(owner string) {
		t.Helper()
		release, err := p.acquire(short(), ids.Owner(owner))
		if err != nil {
			t.Fatalf("%s: %v", owner, err)
		}
		held = append(held, release)
	}
	take("mallory")
	take("mallory")
	if _, err := p.acquire(short(), "mallory"); !errors.Is(err, ErrTooFast) {
		t.Errorf("mallory's third download: %v, want ErrTooFast", err)
	}
	take("alice") // mallory's backlog does not hold her up
	if _, err := p.acquire(short(), "bob"); !errors.Is(err, ErrRateLimited) || errors.Is(err, ErrTooFast) {
		t.Errorf("bob with every global slot taken: %v, want ErrRateLimited", err)
	}
	for _, release := range held {
		release()
	}
	take("bob")
	held[len(held)-1]()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.owners) != 0 || len(p.global) != 0 {
		t.Errorf("after every release: %d owners, %d global slots held", len(p.owners), len(p.global))
	}
}
