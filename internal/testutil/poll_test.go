package testutil

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTB records what a helper reports; Fatalf ends the goroutine, as
// testing.T's does.
type fakeTB struct {
	testing.TB // nil: a method not overridden here panics
	fatal      string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls fn with a fake TB on its own goroutine and returns the fake
// once fn returned or failed.
func run(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestEventuallyFailsOnTimeout(t *testing.T) {
	start := time.Now()
	var checks atomic.Int32
	f := run(func(tb testing.TB) {
		Eventually(tb, 50*time.Millisecond, "the moon", func() bool { checks.Add(1); return false })
	})
	if want := "timed out after 50ms waiting for the moon"; f.fatal != want {
		t.Errorf("failure %q, want %q", f.fatal, want)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", d)
	}
	if checks.Load() < 3 {
		t.Errorf("cond checked %d times in 50ms", checks.Load())
	}
}

func TestEventuallyReturnsOnceCondHolds(t *testing.T) {
	var n atomic.Int32
	f := run(func(tb testing.TB) {
		Eventually(tb, 10*time.Second, "the third check", func() bool { return n.Add(1) >= 3 })
	})
	if f.fatal != "" || n.Load() != 3 {
		t.Errorf("failure %q after %d checks, want none after 3", f.fatal, n.Load())
	}
}

func TestWaitForReturnsOnceCondHolds(t *testing.T) {
	f := run(func(tb testing.TB) {
		WaitFor(tb, "now", func() bool { return true })
	})
	if f.fatal != "" {
		t.Errorf("failure %q", f.fatal)
	}
}

func TestPoll(t *testing.T) {
	if !Poll(0, func() bool { return true }) {
		t.Error("a condition that holds at once: Poll(0) = false")
	}
	if Poll(0, func() bool { return false }) {
		t.Error("a condition that never holds: Poll(0) = true")
	}
	flip := time.Now().Add(30 * time.Millisecond)
	if !Poll(10*time.Second, func() bool { return time.Now().After(flip) }) {
		t.Error("a condition that holds after 30ms: Poll(10s) = false")
	}
}
