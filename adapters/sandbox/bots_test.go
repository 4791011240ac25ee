package sandbox_test

import (
	"slices"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// wantReceipt checks that ev is a receipt of kind for targets from sender.
func wantReceipt(t *testing.T, ev event.Event, sender ids.UserID, kind event.ReceiptKind, targets ...ids.MessageID) {
	t.Helper()
	r, ok := ev.(*event.Receipt)
	if !ok || r.Kind != kind || r.Sender != sender || !slices.Equal(r.Targets, targets) {
		t.Errorf("got %#v, want %s receipt from %s for %v", ev, kind, sender, targets)
	}
}

func TestEchoBot(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{Clock: func() time.Time { return fixedTime }})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)

	id := send(t, s, sandbox.EchoBot, "hi *there*")
	if id != "SB1" {
		t.Errorf("first id = %s, want SB1", id)
	}
	evs := e.h.WaitEvents(t, 4, traffic(acct, sandbox.EchoBot))
	wantReceipt(t, evs[0], sandbox.EchoBot, event.Delivered, id)
	if cs, ok := evs[1].(*event.ChatState); !ok || cs.State != event.Composing || cs.Sender != sandbox.EchoBot {
		t.Errorf("event 1 = %#v, want composing", evs[1])
	}
	m, ok := evs[2].(*event.Message)
	if !ok || m.Body != "echo: hi *there*" || m.ID != "SB2" || m.Sender != sandbox.EchoBot || m.FromMe {
		t.Errorf("event 2 = %#v, want the echo SB2", evs[2])
	}
	wantReceipt(t, evs[3], sandbox.EchoBot, event.Displayed, id)
	for _, ev := range evs {
		meta := ev.EventMeta()
		if meta.Account != acct || meta.Chat != ids.DirectChat(sandbox.EchoBot) || !meta.Time.Equal(fixedTime) {
			t.Errorf("meta %+v", *meta)
		}
	}

	got := e.p.Received(sandbox.EchoBot)
	if len(got) != 1 || got[0].ID != id || got[0].From != ids.UserID(acct) || got[0].Body != "hi *there*" {
		t.Errorf("Received(EchoBot) = %+v", got)
	}
	if got := e.p.Received(ids.UserID(acct)); len(got) != 1 || got[0].Body != "echo: hi *there*" {
		t.Errorf("Received(account) = %+v", got)
	}

	// Ids continue after the reply's, whatever the goroutines do.
	if id := send(t, s, sandbox.EchoBot, "again"); id != "SB3" {
		t.Errorf("second id = %s, want SB3", id)
	}
}

func TestEchoBotAttachmentOnly(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	id, err := s.SendMessage(ctx(t), &event.Message{
		Meta:        event.Meta{Account: acct, Chat: ids.DirectChat(sandbox.EchoBot)},
		Attachments: []event.Attachment{{URL: "https://example.org/cat.jpg", MIMEType: "image/jpeg"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := e.h.WaitEvents(t, 2, traffic(acct, sandbox.EchoBot))
	wantReceipt(t, evs[0], sandbox.EchoBot, event.Delivered, id)
	wantReceipt(t, evs[1], sandbox.EchoBot, event.Displayed, id)
	if got := e.p.Received(sandbox.EchoBot); len(got) != 1 || len(got[0].Attachments) != 1 {
		t.Errorf("Received = %+v", got)
	}
}

func TestEchoDelay(t *testing.T) {
	e := newEnv(t, map[string]any{"echo_delay": "20ms"}, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	send(t, s, sandbox.EchoBot, "slow")
	evs := e.h.WaitEvents(t, 4, traffic(acct, sandbox.EchoBot))
	typing, reply := evs[1].EventMeta().Time, evs[2].EventMeta().Time
	if d := reply.Sub(typing); d < 20*time.Millisecond {
		t.Errorf("reply %v after composing, want >= 20ms", d)
	}
	if m, ok := evs[2].(*event.Message); !ok || m.Body != "echo: slow" {
		t.Errorf("event 2 = %#v", evs[2])
	}
}

func TestQuietBot(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	id := send(t, s, sandbox.QuietBot, "anyone there?")
	evs := e.h.WaitEvents(t, 2, traffic(acct, sandbox.QuietBot))
	wantReceipt(t, evs[0], sandbox.QuietBot, event.Delivered, id)
	wantReceipt(t, evs[1], sandbox.QuietBot, event.Displayed, id)
	// The Displayed receipt is the bot's last act: nothing else came.
	if evs := e.h.EventsFor(traffic(acct, sandbox.QuietBot)); len(evs) != 2 {
		t.Errorf("quiet bot produced %d events", len(evs))
	}
	if got := e.p.Received(ids.UserID(acct)); len(got) != 0 {
		t.Errorf("the quiet bot wrote: %+v", got)
	}
}
