package gatewaytest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// DefaultTimeout bounds every wait of a Host whose Timeout is zero.
const DefaultTimeout = 5 * time.Second

// StateChange is one call of Host.SetState.
type StateChange struct {
	Account ids.AccountID
	State   event.State
	Detail  string
	// Seq is how many events had been emitted before the change, so that
	// tests can order states and events: an event e came after the change
	// if its index in Events() is >= Seq.
	Seq int
}

// Host is a gateway.Host for adapter tests. It records every emitted event
// and every state change in order, keeps an in-memory key-value space per
// account, and lets a test wait for conditions with a timeout instead of
// sleeping. It is safe for concurrent use.
type Host struct {
	// Timeout bounds the Wait methods; zero means DefaultTimeout.
	Timeout time.Duration
	// EmitHook, if set, runs at the start of every Emit; a non-nil error is
	// returned to the adapter and the event is not recorded. Set it before
	// the adapter runs.
	EmitHook func(ctx context.Context, ev event.Event) error

	logger *slog.Logger

	mu      sync.Mutex
	events  []event.Event
	states  []StateChange
	kv      map[ids.AccountID]map[string][]byte
	changed chan struct{}
}

var _ gateway.Host = (*Host)(nil)

// NewHost returns an empty Host. Its logger writes to tb's log until tb
// ends (later lines are dropped); tb may be nil for a silent logger.
func NewHost(tb testing.TB) *Host {
	h := &Host{kv: map[ids.AccountID]map[string][]byte{}, changed: make(chan struct{})}
	if tb == nil {
		h.logger = slog.New(slog.DiscardHandler)
		return h
	}
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.close)
	h.logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return h
}

// Emit implements gateway.Host: it records ev, unless ctx is done or
// EmitHook refuses it.
func (h *Host) Emit(ctx context.Context, ev event.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ev == nil {
		return fmt.Errorf("gatewaytest: nil event: %w", gateway.ErrBadRequest)
	}
	if h.EmitHook != nil {
		if err := h.EmitHook(ctx, ev); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
	h.notifyLocked()
	return nil
}

// SetState implements gateway.Host: it records the change.
func (h *Host) SetState(_ context.Context, account ids.AccountID, state event.State, detail string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.states = append(h.states, StateChange{Account: account, State: state, Detail: detail, Seq: len(h.events)})
	h.notifyLocked()
}

// KV implements gateway.Host with an in-memory space per account.
func (h *Host) KV(account ids.AccountID) gateway.AccountKV { return &kv{h: h, account: account} }

// Logger implements gateway.Host.
func (h *Host) Logger() *slog.Logger { return h.logger }

func (h *Host) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// Events returns every event emitted so far, in order.
func (h *Host) Events() []event.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// EventsFor returns the events emitted so far that match, in order.
func (h *Host) EventsFor(match func(event.Event) bool) []event.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []event.Event
	for _, ev := range h.events {
		if match(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// StateChanges returns every state change so far, in order.
func (h *Host) StateChanges() []StateChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.states)
}

// States returns the states reported for account so far, in order.
func (h *Host) States(account ids.AccountID) []event.State {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []event.State
	for _, s := range h.states {
		if s.Account == account {
			out = append(out, s.State)
		}
	}
	return out
}

// await waits until cond, called with h.mu held, returns true.
func (h *Host) await(ctx context.Context, cond func() bool) error {
	for {
		h.mu.Lock()
		ok, changed := cond(), h.changed
		h.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *Host) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultTimeout
}

// WaitEventContext returns the first event, already emitted or still to
// come, that matches; it fails when ctx is done.
func (h *Host) WaitEventContext(ctx context.Context, match func(event.Event) bool) (event.Event, error) {
	evs, err := h.WaitEventsContext(ctx, 1, match)
	if err != nil {
		return nil, err
	}
	return evs[0], nil
}

// WaitEventsContext returns the first n events, already emitted or still to
// come, that match, in order; it fails when ctx is done.
func (h *Host) WaitEventsContext(ctx context.Context, n int, match func(event.Event) bool) ([]event.Event, error) {
	var found []event.Event
	err := h.await(ctx, func() bool {
		found = found[:0]
		for _, ev := range h.events {
			if match(ev) {
				found = append(found, ev)
				if len(found) == n {
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("gatewaytest: %d of %d matching events: %w", len(found), n, err)
	}
	return slices.Clone(found), nil
}

// WaitEvent is WaitEventContext with the Host's timeout; it fails tb on
// timeout, listing what was emitted. Call it from the test's goroutine.
func (h *Host) WaitEvent(tb testing.TB, match func(event.Event) bool) event.Event {
	tb.Helper()
	return h.WaitEvents(tb, 1, match)[0]
}

// WaitEvents is WaitEventsContext with the Host's timeout; it fails tb on
// timeout, listing what was emitted. Call it from the test's goroutine.
func (h *Host) WaitEvents(tb testing.TB, n int, match func(event.Event) bool) []event.Event {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	evs, err := h.WaitEventsContext(ctx, n, match)
	if err != nil {
		tb.Fatalf("waiting for events: %v\nemitted so far:\n%s", err, h.Dump())
	}
	return evs
}

// WaitStateContext waits until state has been reported for account (at
// any time so far) and returns that change.
func (h *Host) WaitStateContext(ctx context.Context, account ids.AccountID, state event.State) (StateChange, error) {
	var got StateChange
	err := h.await(ctx, func() bool {
		for _, s := range h.states {
			if s.Account == account && s.State == state {
				got = s
				return true
			}
		}
		return false
	})
	if err != nil {
		return StateChange{}, fmt.Errorf("gatewaytest: state %s of %s: %w", state, account, err)
	}
	return got, nil
}

// WaitState is WaitStateContext with the Host's timeout; it fails tb on
// timeout. Call it from the test's goroutine.
func (h *Host) WaitState(tb testing.TB, account ids.AccountID, state event.State) StateChange {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout())
	defer cancel()
	got, err := h.WaitStateContext(ctx, account, state)
	if err != nil {
		tb.Fatalf("%v; states so far: %v", err, h.States(account))
	}
	return got
}

// Dump describes every event and state change so far, one a line, for
// failure messages.
func (h *Host) Dump() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	si := 0
	for i, ev := range h.events {
		for ; si < len(h.states) && h.states[si].Seq <= i; si++ {
			fmt.Fprintf(&b, "  state %s %s %q\n", h.states[si].Account, h.states[si].State, h.states[si].Detail)
		}
		fmt.Fprintf(&b, "  %3d %s\n", i, Describe(ev))
	}
	for ; si < len(h.states); si++ {
		fmt.Fprintf(&b, "  state %s %s %q\n", h.states[si].Account, h.states[si].State, h.states[si].Detail)
	}
	return b.String()
}

// Describe is a one-line description of an event for failure messages.
func Describe(ev event.Event) string {
	m := ev.EventMeta()
	head := fmt.Sprintf("%T acct=%s chat=%s from=%s id=%s", ev, m.Account, m.Chat, m.Sender, m.ID)
	if m.FromMe {
		head += " fromMe"
	}
	switch e := ev.(type) {
	case *event.Message:
		return fmt.Sprintf("%s body=%q", head, e.Body)
	case *event.Receipt:
		return fmt.Sprintf("%s %s %v", head, e.Kind, e.Targets)
	case *event.ChatState:
		return fmt.Sprintf("%s %s", head, e.State)
	case *event.Presence:
		return fmt.Sprintf("%s available=%t status=%q", head, e.Available, e.Status)
	case *event.ContactInfo:
		return fmt.Sprintf("%s name=%q", head, e.Name)
	}
	return head
}

// Is matches events of type T, e.g. Is[*event.Message].
func Is[T event.Event](ev event.Event) bool {
	_, ok := ev.(T)
	return ok
}

// All matches events that every one of match accepts.
func All(match ...func(event.Event) bool) func(event.Event) bool {
	return func(ev event.Event) bool {
		for _, m := range match {
			if !m(ev) {
				return false
			}
		}
		return true
	}
}

// InChat matches events of account in chat.
func InChat(account ids.AccountID, chat ids.ChatID) func(event.Event) bool {
	return func(ev event.Event) bool {
		m := ev.EventMeta()
		return m.Account == account && m.Chat == chat
	}
}

// kv is one account's key-value space.
type kv struct {
	h       *Host
	account ids.AccountID
}

func (k *kv) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k.h.mu.Lock()
	defer k.h.mu.Unlock()
	v, ok := k.h.kv[k.account][key]
	if !ok {
		return nil, fmt.Errorf("gatewaytest: kv %s %q: %w", k.account, key, store.ErrNotFound)
	}
	return slices.Clone(v), nil
}

func (k *kv) Set(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.h.mu.Lock()
	defer k.h.mu.Unlock()
	m := k.h.kv[k.account]
	if m == nil {
		m = map[string][]byte{}
		k.h.kv[k.account] = m
	}
	m[key] = slices.Clone(value)
	return nil
}

func (k *kv) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.h.mu.Lock()
	defer k.h.mu.Unlock()
	delete(k.h.kv[k.account], key)
	return nil
}

// tbWriter writes log lines to a test's log until the test ends.
type tbWriter struct {
	mu     sync.Mutex
	tb     testing.TB
	closed bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
