package telegram_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// TestChannelsRestartCatchesUp: the gateway stops after following a
// supergroup and a broadcast channel; posts made in both while it is down
// arrive, once each, when a new adapter on the same store connects, with
// no later post needed to reveal them, even when Telegram refuses the
// dialog list at that moment (a flood wait): the list of channels and
// each channel's update state are kept in the store, and the catch-up
// asks each listed channel for its difference.
func TestChannelsRestartCatchesUp(t *testing.T) {
	f := newFixture(t)
	f.srv.AddChannel(telegramtest.Channel{ID: 81, Title: "Gophers", Creator: aliceID, Members: []int64{ownerID}})
	f.srv.AddChannel(telegramtest.Channel{ID: 82, Title: "News", Broadcast: true, Creator: aliceID, Members: []int64{ownerID}})
	acct, sess := f.connect(t)
	for _, ch := range []int64{81, 82} {
		if _, err := f.srv.Post(aliceID, ch, 0, "before "+string(rune('0'+ch%10))); err != nil {
			t.Fatal(err)
		}
	}
	f.host.WaitEvent(t, body("before 1"))
	f.host.WaitEvent(t, body("before 2"))
	list, err := f.host.KV(acct).Get(f.ctx, "channels")
	if err != nil {
		t.Fatalf("the list of channels is not in the store: %v", err)
	}
	if got := strings.Fields(string(list)); !slices.Contains(got, "81") || !slices.Contains(got, "82") {
		t.Errorf("stored channels = %q, want 81 and 82", got)
	}

	sess.Disconnect()
	if err := f.a.Stop(f.ctx); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []int64{81, 82} {
		if _, err := f.srv.Post(aliceID, ch, 0, "while away "+string(rune('0'+ch%10))); err != nil {
			t.Fatal(err)
		}
	}
	diffs := f.srv.Calls("updates.getChannelDifference")
	f.srv.FloodWait("messages.getDialogs", 30)

	a2 := telegram.New(telegram.WithClientOptions(f.srv.Options))
	if err := a2.Init(f.host, section); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a2.Stop(context.Background()) })
	s2, err := a2.LoadSession(f.ctx, acct)
	if err != nil {
		t.Fatalf("LoadSession after a restart: %v", err)
	}
	s2.Connect(f.ctx)
	for _, want := range []struct{ body, chat string }{{"while away 1", "c81"}, {"while away 2", "c82"}} {
		m := f.host.WaitEvent(t, body(want.body)).(*event.Message)
		if string(m.Chat) != want.chat || !m.Group {
			t.Errorf("missed post = %s, want it in %s", gatewaytest.Describe(m), want.chat)
		}
	}
	if f.srv.Calls("updates.getChannelDifference") < diffs+2 {
		t.Errorf("updates.getChannelDifference called %d times after the restart, want one per channel", f.srv.Calls("updates.getChannelDifference")-diffs)
	}
	f.host.WaitState(t, acct, event.StateConnected)
	for _, b := range []string{"before 1", "before 2", "while away 1", "while away 2"} {
		if n := len(f.host.EventsFor(body(b))); n != 1 {
			t.Errorf("%q emitted %d times, want once", b, n)
		}
	}
}
