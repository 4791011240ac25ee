package whatsapp_test

import (
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// historyBodies lists the history messages emitted after the first
// `before` events, as "chat:id:body".
func historyBodies(e *env, before int) []string {
	var out []string
	for _, ev := range e.h.Events()[before:] {
		if m, ok := ev.(*event.Message); ok {
			if !m.History {
				out = append(out, "NOT HISTORY "+string(m.ID))
				continue
			}
			out = append(out, string(m.Chat)+":"+string(m.ID)+":"+m.Body)
		}
	}
	return out
}

// TestHistorySync: the history the phone sends after linking is bridged
// once, oldest first per chat, within history_days, marked as history;
// blobs sent again (also after a restart) deliver only what is new.
func TestHistorySync(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	now := e.clock.Now()
	group := types.NewJID("120363000000000001", types.GroupServer)
	blob := map[types.JID][]wt.WebMsg{
		alice: { // newest first, as the phone sends them
			{ID: "A3", Time: now.Add(-time.Hour), Message: textMsg("see you")},
			{ID: "A2", FromMe: true, Time: now.Add(-48 * time.Hour), Message: textMsg("lunch?")},
			{ID: "A1", Time: now.Add(-10 * 24 * time.Hour), Message: textMsg("too old")},
		},
		group: {
			{ID: "G1", Participant: alice, Time: now.Add(-24 * time.Hour), Message: textMsg("old group talk")},
		},
	}
	before := len(e.h.Events())
	if !c.Dispatch(wt.HistorySync(waHistorySync.HistorySync_INITIAL_BOOTSTRAP, blob)) {
		t.Fatal("history sync not acknowledged")
	}
	got := strings.Join(historyBodies(e, before), " | ")
	g1 := waid.MessageRef{ID: "G1", Participant: alicePhone}.MessageID()
	for _, want := range []string{
		"+15550001111:" + string(waid.OwnMessage("A2")) + ":lunch? | +15550001111:A3:see you",
		"group-120363000000000001:" + string(g1) + ":old group talk",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("history %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "too old") || strings.Contains(got, "NOT HISTORY") {
		t.Errorf("history %q: an old message, or one not marked as history", got)
	}

	// The same blob again: nothing.
	before = len(e.h.Events())
	c.Dispatch(wt.HistorySync(waHistorySync.HistorySync_RECENT, blob))
	if got := historyBodies(e, before); len(got) != 0 {
		t.Errorf("history delivered twice: %v", got)
	}

	// After a restart, a later blob brings only the new message, even one
	// sent in the same second as the last one bridged.
	s.Disconnect()
	s2, err := e.a.LoadSession(e.ctx, s.Account())
	if err != nil {
		t.Fatal(err)
	}
	s2.Connect(e.ctx)
	e.waitState(s.Account(), event.StateConnected, len(e.h.StateChanges())-1)
	c = e.f.Clients()[len(e.f.Clients())-1]
	blob[alice] = append([]wt.WebMsg{{ID: "A4", Time: now.Add(-time.Hour), Message: textMsg("same second")}}, blob[alice]...)
	before = len(e.h.Events())
	c.Dispatch(wt.HistorySync(waHistorySync.HistorySync_FULL, blob))
	if got := historyBodies(e, before); len(got) != 1 || got[0] != "+15550001111:A4:same second" {
		t.Errorf("after a restart, history = %v; want only A4", got)
	}
}

// TestHistoryOff: history_days 0 bridges no history; blobs without
// messages (push names) are left alone.
func TestHistoryOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]any
		typ  waHistorySync.HistorySync_HistorySyncType
	}{
		{"history_days 0", map[string]any{whatsapp.ConfigHistoryDays: 0}, waHistorySync.HistorySync_INITIAL_BOOTSTRAP},
		{"push names", nil, waHistorySync.HistorySync_PUSH_NAME},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			_, c := e.connected()
			before := len(e.h.Events())
			c.Dispatch(wt.HistorySync(tc.typ, map[types.JID][]wt.WebMsg{
				alice: {{ID: "A1", Time: e.clock.Now().Add(-time.Hour), Message: textMsg("hi")}},
			}))
			if got := historyBodies(e, before); len(got) != 0 {
				t.Errorf("history bridged: %v", got)
			}
		})
	}
}
