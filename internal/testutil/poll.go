package testutil

import (
	"testing"
	"time"
)

// DefaultTimeout is how long WaitFor waits.
const DefaultTimeout = 10 * time.Second

// The poll interval starts at minInterval and doubles up to maxInterval:
// a condition that holds soon is seen soon, one that takes long costs
// little. The interval only bounds the cost; the condition is the
// synchronisation.
const (
	minInterval = time.Millisecond
	maxInterval = 20 * time.Millisecond
)

// Poll checks cond until it holds or timeout passes, and reports whether
// it held. cond is checked at least once, and once more at the deadline.
// It is for callers that build their own failure message.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	interval := minInterval
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(interval, left))
		interval = min(2*interval, maxInterval)
	}
	return true
}

// Eventually polls cond until it holds, and fails the test with
// "timed out after <timeout> waiting for <what>" if it does not within
// timeout. It must be called from the test's goroutine (it calls
// t.Fatalf); cond may call t.Fatal too.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// WaitFor is Eventually with DefaultTimeout.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Eventually(t, DefaultTimeout, what, cond)
}
