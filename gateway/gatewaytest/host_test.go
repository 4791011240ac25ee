package gatewaytest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

func msg(acct ids.AccountID, chat ids.ChatID, body string) *event.Message {
	return &event.Message{Meta: event.Meta{Account: acct, Chat: chat, Sender: ids.UserID(chat)}, Body: body}
}

func TestHostRecordsInOrder(t *testing.T) {
	h := gatewaytest.NewHost(t)
	ctx := t.Context()
	h.SetState(ctx, "a", event.StateConnecting, "")
	_ = h.Emit(ctx, msg("a", "x", "1"))
	h.SetState(ctx, "a", event.StateConnected, "")
	h.SetState(ctx, "b", event.StateLoggedOut, "gone")
	_ = h.Emit(ctx, &event.Receipt{Meta: event.Meta{Account: "a", Chat: "y"}, Kind: event.Delivered})

	if got := h.States("a"); len(got) != 2 || got[0] != event.StateConnecting || got[1] != event.StateConnected {
		t.Errorf("States(a) = %v", got)
	}
	changes := h.StateChanges()
	if len(changes) != 3 || changes[0].Seq != 0 || changes[1].Seq != 1 || changes[2].Detail != "gone" {
		t.Errorf("StateChanges = %+v", changes)
	}
	if evs := h.Events(); len(evs) != 2 {
		t.Errorf("Events = %d", len(evs))
	}
	if got := h.EventsFor(gatewaytest.Is[*event.Receipt]); len(got) != 1 {
		t.Errorf("receipts = %d", len(got))
	}
	dump := h.Dump()
	for _, want := range []string{"connecting", `body="1"`, "delivered", `"gone"`} {
		if !strings.Contains(dump, want) {
			t.Errorf("Dump lacks %q:\n%s", want, dump)
		}
	}
}

func TestHostWait(t *testing.T) {
	h := gatewaytest.NewHost(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, b := range []string{"1", "2", "3"} {
			_ = h.Emit(context.Background(), msg("a", "x", b))
		}
		h.SetState(context.Background(), "a", event.StateConnected, "")
	})
	evs := h.WaitEvents(t, 3, gatewaytest.All(gatewaytest.Is[*event.Message], gatewaytest.InChat("a", "x")))
	for i, want := range []string{"1", "2", "3"} {
		if got := evs[i].(*event.Message).Body; got != want {
			t.Errorf("event %d = %q", i, got)
		}
	}
	if sc := h.WaitState(t, "a", event.StateConnected); sc.Seq != 3 {
		t.Errorf("Seq = %d", sc.Seq)
	}
	wg.Wait()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.WaitEventContext(ctx, gatewaytest.InChat("a", "nowhere")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitEventContext = %v", err)
	}
	if _, err := h.WaitStateContext(ctx, "b", event.StateConnected); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitStateContext = %v", err)
	}
}

func TestHostEmitRefusals(t *testing.T) {
	h := gatewaytest.NewHost(nil)
	boom := errors.New("boom")
	h.EmitHook = func(_ context.Context, ev event.Event) error {
		if ev.EventMeta().Chat == "bad" {
			return boom
		}
		return nil
	}
	if err := h.Emit(context.Background(), msg("a", "bad", "x")); !errors.Is(err, boom) {
		t.Errorf("Emit refused by hook = %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Emit(cancelled, msg("a", "x", "x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Emit(cancelled) = %v", err)
	}
	if err := h.Emit(context.Background(), nil); err == nil {
		t.Error("Emit(nil) accepted")
	}
	if n := len(h.Events()); n != 0 {
		t.Errorf("%d events recorded", n)
	}
	h.Logger().Info("silent")
}

func TestHostKV(t *testing.T) {
	h := gatewaytest.NewHost(t)
	ctx := t.Context()
	a, b := h.KV("a"), h.KV("b")
	if _, err := a.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(absent) = %v", err)
	}
	val := []byte("v")
	if err := a.Set(ctx, "k", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the KV keeps its own copy
	if got, err := a.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Errorf("Get = %q, %v", got, err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("accounts share keys: %v", err)
	}
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "k"); err != nil {
		t.Errorf("Delete(absent) = %v", err)
	}
	if _, err := a.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
}

func TestLoggerAfterTestEnds(t *testing.T) {
	var h *gatewaytest.Host
	t.Run("inner", func(t *testing.T) { h = gatewaytest.NewHost(t) })
	// The inner test is over: logging must neither panic nor fail.
	h.Logger().Info("late line")
}
