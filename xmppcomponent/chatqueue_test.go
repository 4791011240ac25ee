package xmppcomponent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestChatQueueKeepsOrderOffTheCaller: a slow message runs off the
// caller's goroutine, the chat's next messages (slow or not) queue behind
// it in order, other chats run at once, and the queues are bounded per
// owner and overall.
func TestChatQueueKeepsOrderOffTheCaller(t *testing.T) {
	var q chatQueues
	ctx := t.Context()
	var mu sync.Mutex
	var ran []string
	record := func(s string) func(context.Context) {
		return func(context.Context) { mu.Lock(); ran = append(ran, s); mu.Unlock() }
	}
	gate := make(chan struct{})
	alice, bob := ids.Owner("alice@example.test"), ids.Owner("bob@example.test")
	if err := q.run(ctx, alice, "c1", true, func(context.Context) { <-gate; record("a1")(ctx) }); err != nil {
		t.Fatal(err)
	}
	// The caller is not held: the next calls happen while a1 waits.
	for _, s := range []string{"a2", "a3"} {
		if err := q.run(ctx, alice, "c1", false, record(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.run(ctx, alice, "c2", false, record("other chat")); err != nil {
		t.Fatal(err)
	}
	if err := q.run(ctx, bob, "c1", false, record("bob")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !slices.Equal(ran, []string{"other chat", "bob"}) {
		t.Errorf("ran %v while alice's chat c1 waits, want the other chats only", ran)
	}
	mu.Unlock()
	close(gate)
	testutil.WaitFor(t, "the chat queues to run what was queued", func() bool { return q.queued() == 0 })
	mu.Lock()
	if !slices.Equal(ran, []string{"other chat", "bob", "a1", "a2", "a3"}) {
		t.Errorf("ran %v", ran)
	}
	mu.Unlock()

	// Bounds: one owner's slow messages, then everybody's.
	block := make(chan struct{})
	defer close(block)
	wait := func(context.Context) { <-block }
	for i := range maxChatQueuedPerOwner {
		if err := q.run(ctx, alice, ids.ChatID(fmt.Sprint("c", i)), true, wait); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.run(ctx, alice, "one more", true, wait); !errors.Is(err, gateway.ErrTooFast) {
		t.Errorf("alice's message past her bound: %v, want ErrTooFast", err)
	}
	if err := q.run(ctx, bob, "c1", true, wait); err != nil {
		t.Errorf("bob's message while alice is at her bound: %v", err)
	}
}
