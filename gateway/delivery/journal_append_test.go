package delivery

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
)

// countingQueues counts the batch writes and can fail them.
type countingQueues struct {
	store.Store
	batches, items atomic.Int64
	fail           atomic.Bool
	// lostReply: the next write is stored but reported failed (the
	// connection dropped on the way back).
	lostReply atomic.Bool
}

func (c *countingQueues) Enqueue(ctx context.Context, owner ids.Owner, item []byte) (string, error) {
	if c.fail.Load() {
		return "", errors.New("store down")
	}
	c.batches.Add(1)
	c.items.Add(1)
	seq, err := c.Store.Enqueue(ctx, owner, item)
	if err == nil && c.lostReply.CompareAndSwap(true, false) {
		return "", errors.New("EOF")
	}
	return seq, err
}

func (c *countingQueues) EnqueueAll(ctx context.Context, items []store.QueueAppend) ([]string, error) {
	if c.fail.Load() {
		return nil, errors.New("store down")
	}
	c.batches.Add(1)
	c.items.Add(int64(len(items)))
	seqs, err := c.Store.EnqueueAll(ctx, items)
	if err == nil && c.lostReply.CompareAndSwap(true, false) {
		return nil, errors.New("EOF")
	}
	return seqs, err
}

func TestAppenderKeepsEachOwnersOrder(t *testing.T) {
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := &countingQueues{Store: st}
	a := newAppender(q, nil)
	ctx, cancel := context.WithCancel(t.Context())
	a.start(ctx)

	// 8 owners append 50 items each at once, each owner in order (as an
	// adapter's session emits its events one after the other).
	const owners, per = 8, 50
	var wg sync.WaitGroup
	seqs := make([][]string, owners)
	for o := range owners {
		wg.Go(func() {
			owner := ids.Owner(fmt.Sprintf("o%d@example.test", o))
			for i := range per {
				seq, err := a.append(t.Context(), owner, fmt.Appendf(nil, "%d", i))
				if err != nil {
					t.Errorf("append %s #%d: %v", owner, i, err)
					return
				}
				seqs[o] = append(seqs[o], seq)
			}
		})
	}
	wg.Wait()
	for o := range owners {
		owner := ids.Owner(fmt.Sprintf("o%d@example.test", o))
		items, err := st.Pending(t.Context(), owner, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != per {
			t.Fatalf("%s has %d items, want %d", owner, len(items), per)
		}
		for i, it := range items {
			if string(it.Data) != fmt.Sprint(i) || it.Seq != seqs[o][i] {
				t.Fatalf("%s item %d = %q (seq %s), want %q (seq %s)", owner, i, it.Data, it.Seq, fmt.Sprint(i), seqs[o][i])
			}
		}
	}
	if q.items.Load() != owners*per {
		t.Errorf("%d items were written, want %d", q.items.Load(), owners*per)
	}
	t.Logf("%d items in %d writes", q.items.Load(), q.batches.Load())

	// A failed write fails every caller in it.
	q.fail.Store(true)
	if _, err := a.append(t.Context(), "o0@example.test", []byte("x")); err == nil {
		t.Error("append with the store down succeeded")
	}
	q.fail.Store(false)

	// Stopped, it writes directly: nothing waits for the ended writer.
	cancel()
	a.wait()
	if _, err := a.append(t.Context(), "o0@example.test", []byte("after")); err != nil {
		t.Fatal(err)
	}
	items, err := st.Pending(t.Context(), "o0@example.test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := items[len(items)-1]; string(last.Data) != "after" {
		t.Errorf("after stop the last item is %q", last.Data)
	}
}
