package media

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Budget is a byte budget shared by downloads: the bytes of every file
// being downloaded or waiting to be passed on are taken from it and given
// back when the file is closed. When it is used up, a download waits for
// room up to Wait, then fails with ErrBusy; a file larger than the whole
// budget fails at once with ErrTooLarge. The zero Budget is not usable:
// make one with NewBudget.
type Budget struct {
	max  int64
	wait time.Duration

	mu      sync.Mutex
	used    int64
	waiting int           // takers waiting for room
	changed chan struct{} // closed (and replaced) whenever bytes are given back
}

// NewBudget returns a budget of max bytes whose takers wait at most wait
// for room.
func NewBudget(max int64, wait time.Duration) *Budget {
	return &Budget{max: max, wait: wait, changed: make(chan struct{})}
}

// Max is the budget's size in bytes.
func (b *Budget) Max() int64 { return b.max }

// InUse is the number of bytes taken and not yet given back.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Waiting is the number of downloads waiting for room.
func (b *Budget) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting
}

// take reserves n bytes, waiting for room at most b.wait.
func (b *Budget) take(ctx context.Context, n int64) error {
	if n > b.max {
		return fmt.Errorf("%w: %d bytes are more than the gateway downloads at once (%d)", ErrTooLarge, n, b.max)
	}
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		if b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		changed := b.changed
		b.waiting++
		b.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(b.wait)
			defer t.Stop()
			timeout = t.C
		}
		var err error
		select {
		case <-changed:
		case <-timeout:
			err = fmt.Errorf("%w: %d bytes of downloads in progress, the limit is %d", ErrBusy, b.InUse(), b.max)
		case <-ctx.Done():
			err = ctx.Err()
		}
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// give returns n bytes taken before.
func (b *Budget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}
