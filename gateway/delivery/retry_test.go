package delivery

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// errDown is the fake platform's "unavailable".
var errDown = errors.New("platform down")

const (
	testOwner = ids.Owner("alice@example.test")
	testChat  = ids.ChatID("+15550002222")
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fakePlatform is the RetryQueue's Send and Failed: down until told
// otherwise, and it records what it sent and what was given up.
type fakePlatform struct {
	mu     sync.Mutex
	down   bool
	sent   []string
	failed chan failedSend
}

type failedSend struct {
	body, tag string
	err       error
}

func newFakePlatform(down bool) *fakePlatform {
	return &fakePlatform{down: down, failed: make(chan failedSend, 10)}
}

func (p *fakePlatform) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

func (p *fakePlatform) send(_ context.Context, _ ids.Owner, m *Queued) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return errDown
	}
	p.sent = append(p.sent, m.Message.Body)
	return nil
}

func (p *fakePlatform) sentBodies() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sent...)
}

func (p *fakePlatform) fail(_ context.Context, _ ids.Owner, m *Queued, err error) {
	p.failed <- failedSend{m.Message.Body, m.Tag, err}
}

func newTestQueue(st store.Store, p *fakePlatform, policy SendRetry) *RetryQueue {
	return NewRetryQueue(RetryConfig{
		Policy:      policy,
		Store:       st,
		IDs:         NewIDMap(IDMapConfig{Store: st}),
		Send:        p.send,
		Failed:      p.fail,
		Unavailable: func(err error) bool { return errors.Is(err, errDown) },
	})
}

func (q *RetryQueue) addBody(ctx context.Context, body, xmppID string) bool {
	return q.addTagged(ctx, "", body, xmppID)
}

func (q *RetryQueue) addTagged(ctx context.Context, tag, body, xmppID string) bool {
	msg := &event.Message{Meta: event.Meta{Chat: testChat}, Body: body}
	return q.Add(ctx, testOwner, Queued{Platform: "sandbox", Message: msg, Sum: q.ids.Sum(msg), XMPPIDs: []string{xmppID}, Tag: tag})
}

func outboxLen(t *testing.T, st store.Store) int {
	t.Helper()
	items, err := st.Pending(t.Context(), outboxOf(testOwner), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// TestRetryQueueSendsInOrderOnceThePlatformIsBack checks the queue alone:
// nothing is taken before Start, queued messages go out in order once
// Send stops failing with an Unavailable error, and the outbox empties.
func TestRetryQueueSendsInOrderOnceThePlatformIsBack(t *testing.T) {
	st := openStore(t)
	p := newFakePlatform(true)
	q := newTestQueue(st, p, SendRetry{Deadline: time.Minute, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if q.addBody(t.Context(), "early", "x0") {
		t.Fatal("Add before Start queued the message")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer func() { cancel(); q.Wait() }()
	q.Start(ctx)
	for i, body := range []string{"one", "two", "three"} {
		if !q.addBody(ctx, body, "x"+body) {
			t.Fatalf("Add #%d refused", i)
		}
	}
	if !q.Waiting(testOwner, ChatKey("sandbox", testChat)) || !q.Holds(testOwner, ChatKey("sandbox", testChat), q.ids.Sum(&event.Message{Body: "two"}), []string{"xtwo"}) {
		t.Fatal("the queue does not hold what was added")
	}
	if n := outboxLen(t, st); n != 3 {
		t.Fatalf("the outbox holds %d messages, want 3", n)
	}
	p.setDown(false)
	testutil.WaitFor(t, "the queue to empty", func() bool { return !q.Waiting(testOwner, ChatKey("sandbox", testChat)) })
	if got := p.sentBodies(); len(got) != 3 || got[0] != "one" || got[1] != "two" || got[2] != "three" {
		t.Errorf("sent %q, want one two three", got)
	}
	if n := outboxLen(t, st); n != 0 {
		t.Errorf("the outbox holds %d messages after sending", n)
	}
}

// TestRetryQueueGivesUpAndRestores checks that Failed hears of a message
// not sent by its deadline, with its send tag, and that what a stopped
// queue held is restored by the next one on the same store.
func TestRetryQueueGivesUpAndRestores(t *testing.T) {
	st := openStore(t)
	p := newFakePlatform(true)
	q := newTestQueue(st, p, SendRetry{Deadline: 50 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	q.Start(ctx)
	if !q.addTagged(ctx, "tag-1", "lost", "x1") {
		t.Fatal("Add refused")
	}
	select {
	case f := <-p.failed:
		if f.body != "lost" || f.tag != "tag-1" || !errors.Is(f.err, errDown) {
			t.Errorf("Failed got %+v", f)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Failed was not called")
	}
	testutil.WaitFor(t, "the outbox to empty", func() bool { return outboxLen(t, st) == 0 })
	cancel()
	q.Wait()

	// Stopped with a message waiting: it stays in the outbox.
	q = newTestQueue(st, p, SendRetry{Deadline: time.Minute, MinBackoff: time.Minute})
	ctx, cancel = context.WithCancel(t.Context())
	q.Start(ctx)
	if !q.addBody(ctx, "kept", "x2") {
		t.Fatal("Add refused")
	}
	cancel()
	q.Wait()
	if n := outboxLen(t, st); n != 1 {
		t.Fatalf("the outbox holds %d messages after stop, want 1", n)
	}

	// The next queue restores it, marked as restored.
	p.setDown(false)
	var restored bool
	q = NewRetryQueue(RetryConfig{
		Policy: SendRetry{Deadline: time.Minute, MinBackoff: time.Millisecond},
		Store:  st,
		IDs:    NewIDMap(IDMapConfig{Store: st}),
		Send: func(ctx context.Context, owner ids.Owner, m *Queued) error {
			restored = m.Restored
			return p.send(ctx, owner, m)
		},
		Unavailable: func(err error) bool { return errors.Is(err, errDown) },
	})
	ctx, cancel = context.WithCancel(t.Context())
	defer func() { cancel(); q.Wait() }()
	q.Start(ctx)
	q.Restore(ctx)
	testutil.WaitFor(t, "the restored message to be sent", func() bool { return outboxLen(t, st) == 0 })
	if got := p.sentBodies(); len(got) != 1 || got[0] != "kept" || !restored {
		t.Errorf("sent %q (restored %v), want the kept message, restored", got, restored)
	}
}

// TestQueueEnabled checks that a queue without a deadline takes no
// message.
func TestQueueEnabled(t *testing.T) {
	st := openStore(t)
	if !newTestQueue(st, newFakePlatform(true), SendRetry{Deadline: time.Minute}).Enabled() {
		t.Error("a queue with a deadline is not enabled")
	}
	if newTestQueue(st, newFakePlatform(true), SendRetry{}).Enabled() {
		t.Error("a queue without a deadline takes messages")
	}
}
