package sandbox_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
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

func TestEchoBotFiles(t *testing.T) {
	photo := bytes.Repeat([]byte{1, 2, 3, 4, 5}, 1000)
	pdf := []byte("%PDF-1.7 minimal")
	for _, tc := range []struct {
		name  string
		body  string
		atts  []event.Attachment
		want  []sandbox.File
		reply string
	}{
		{
			name: "with caption", body: "look *this*",
			atts:  []event.Attachment{file("cat.jpg", "image/jpeg", photo)},
			want:  []sandbox.File{{Name: "cat.jpg", MIMEType: "image/jpeg", Kind: event.KindImage, Data: photo}},
			reply: "echo: look *this*",
		},
		{
			name:  "file only",
			atts:  []event.Attachment{file("paper.pdf", "application/pdf", pdf)},
			want:  []sandbox.File{{Name: "paper.pdf", MIMEType: "application/pdf", Kind: event.KindFile, Data: pdf}},
			reply: "",
		},
		{
			name: "two files",
			atts: []event.Attachment{file("cat.jpg", "image/jpeg", photo), file("paper.pdf", "", pdf)},
			want: []sandbox.File{
				{Name: "cat.jpg", MIMEType: "image/jpeg", Kind: event.KindImage, Data: photo},
				{Name: "paper.pdf", MIMEType: "application/pdf", Kind: event.KindFile, Data: pdf},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, sandbox.Options{})
			acct := e.link(t, phoneA)
			s := e.connect(t, acct)
			id, err := s.SendMessage(ctx(t), &event.Message{Meta: chatMeta(acct, sandbox.EchoBot), Body: tc.body, Attachments: tc.atts})
			if err != nil {
				t.Fatal(err)
			}
			evs := e.h.WaitEvents(t, 4, traffic(acct, sandbox.EchoBot))
			wantReceipt(t, evs[0], sandbox.EchoBot, event.Delivered, id)
			if cs, ok := evs[1].(*event.ChatState); !ok || cs.State != event.Composing {
				t.Errorf("event 1 = %s, want composing", gatewaytest.Describe(evs[1]))
			}
			m, ok := evs[2].(*event.Message)
			if !ok || m.Body != tc.reply || m.Sender != sandbox.EchoBot || m.ID != "SB2" || len(m.Attachments) != len(tc.want) {
				t.Fatalf("event 2 = %s, want the echo SB2 with %d files", gatewaytest.Describe(evs[2]), len(tc.want))
			}
			for i, want := range tc.want {
				checkFile(t, m.Attachments[i], want)
			}
			wantReceipt(t, evs[3], sandbox.EchoBot, event.Displayed, id)
			got := e.p.Received(sandbox.EchoBot)
			if len(got) != 1 || len(got[0].Attachments) != len(tc.want) || !equalFile(got[0].Attachments[0], tc.want[0]) {
				t.Errorf("Received(EchoBot) = %+v", got)
			}
		})
	}
}

func TestEchoBotMirrors(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{Clock: func() time.Time { return fixedTime }})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	bot := chatMeta(acct, sandbox.EchoBot)

	id := send(t, s, sandbox.EchoBot, "hi")
	e.h.WaitEvents(t, 4, traffic(acct, sandbox.EchoBot))
	const echo = "SB2"

	mirrored := gatewaytest.All(gatewaytest.InChat(acct, ids.DirectChat(sandbox.EchoBot)), func(ev event.Event) bool {
		switch ev.(type) {
		case *event.Edit, *event.Reaction, *event.Retract:
			return true
		}
		return false
	})
	// After each step, the bot's answers so far (the bot answers on its
	// own goroutine, so each step waits for the answer to the previous).
	for _, st := range []struct {
		name    string
		do      func() error
		answers int
	}{
		{"edit", func() error { return s.EditMessage(ctx(t), &event.Edit{Meta: bot, Target: id, Body: "hello"}) }, 1},
		{"react to the echo", func() error {
			return s.SendReaction(ctx(t), &event.Reaction{Meta: bot, Target: echo, Emojis: []string{"👍"}})
		}, 2},
		{"change the reaction", func() error {
			return s.SendReaction(ctx(t), &event.Reaction{Meta: bot, Target: echo, Emojis: []string{"❤️"}})
		}, 3},
		{"remove the reaction", func() error { return s.SendReaction(ctx(t), &event.Reaction{Meta: bot, Target: echo}) }, 4},
		// Reactions to one's own message are not mirrored.
		{"react to one's own message", func() error {
			return s.SendReaction(ctx(t), &event.Reaction{Meta: bot, Target: id, Emojis: []string{"😀"}})
		}, 4},
		{"retract", func() error { return s.RetractMessage(ctx(t), &event.Retract{Meta: bot, Target: id}) }, 5},
	} {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		e.h.WaitEvents(t, st.answers, mirrored)
	}

	// Ids: SB3 the edit, SB4 the bot's edit, SB5/SB6, SB7/SB8, SB9/SB10
	// the reactions and the bot's, SB11 the reaction to one's own
	// message, SB12/SB13 the retractions.
	evs := e.h.WaitEvents(t, 5, mirrored)
	want := []event.Event{
		&event.Edit{Meta: event.Meta{ID: "SB4"}, Target: echo, Body: "echo: hello"},
		&event.Reaction{Meta: event.Meta{ID: "SB6"}, Target: id, Emojis: []string{"👍"}},
		&event.Reaction{Meta: event.Meta{ID: "SB8"}, Target: id, Emojis: []string{"❤️"}},
		&event.Reaction{Meta: event.Meta{ID: "SB10"}, Target: id, Emojis: nil},
		&event.Retract{Meta: event.Meta{ID: "SB13"}, Target: echo},
	}
	for i, ev := range evs {
		m := ev.EventMeta()
		if m.Sender != sandbox.EchoBot || m.FromMe || m.Account != acct || !m.Time.Equal(fixedTime) {
			t.Errorf("event %d meta %+v", i, *m)
		}
		var ok bool
		switch w := want[i].(type) {
		case *event.Edit:
			g, is := ev.(*event.Edit)
			ok = is && g.ID == w.ID && g.Target == w.Target && g.Body == w.Body
		case *event.Reaction:
			g, is := ev.(*event.Reaction)
			ok = is && g.ID == w.ID && g.Target == w.Target && slices.Equal(g.Emojis, w.Emojis)
		case *event.Retract:
			g, is := ev.(*event.Retract)
			ok = is && g.ID == w.ID && g.Target == w.Target
		}
		if !ok {
			t.Errorf("event %d = %s %+v, want %+v", i, gatewaytest.Describe(ev), ev, want[i])
		}
	}

	orig, _ := e.p.MessageByID(id)
	reply, _ := e.p.MessageByID(echo)
	if !orig.Retracted || orig.Body != "hello" || len(orig.Reactions) != 1 || orig.Reactions[ids.UserID(acct)][0] != "😀" {
		t.Errorf("record of the message: %+v", orig)
	}
	if !reply.Retracted || reply.Body != "echo: hello" || len(reply.Edits) != 1 || reply.Edits[0].ID != "SB4" || len(reply.Reactions) != 0 {
		t.Errorf("record of the echo: %+v", reply)
	}
	// Nothing else came: the next message gets SB14 and its echo SB15.
	if id := send(t, s, sandbox.EchoBot, "more"); id != "SB14" {
		t.Errorf("next id %s, want SB14", id)
	}
	e.h.WaitEvents(t, 8, traffic(acct, sandbox.EchoBot))
	if n := len(e.h.EventsFor(gatewaytest.InChat(acct, ids.DirectChat(sandbox.EchoBot)))); n != 2+8+5 {
		t.Errorf("%d events in the chat with the bot, want 15\n%s", n, e.h.Dump())
	}
}

func TestQuietBotRecordsRichEvents(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	quiet := chatMeta(acct, sandbox.QuietBot)
	id := send(t, s, sandbox.QuietBot, "psst")
	if err := s.EditMessage(ctx(t), &event.Edit{Meta: quiet, Target: id, Body: "psst!"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendReaction(ctx(t), &event.Reaction{Meta: quiet, Target: id, Emojis: []string{"🤫"}}); err != nil {
		t.Fatal(err)
	}
	// Its two receipts are all the bot does.
	e.h.WaitEvents(t, 2, traffic(acct, sandbox.QuietBot))
	if got := e.p.Received(sandbox.QuietBot); len(got) != 1 || got[0].Body != "psst!" || got[0].Reactions[ids.UserID(acct)][0] != "🤫" {
		t.Errorf("Received(QuietBot) = %+v", got)
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

// TestEchoReplyOnly: with echo_reply_only the Echo Bot answers with its
// echo alone; a second message shows that no receipt or chat state of the
// first came after its echo.
func TestEchoReplyOnly(t *testing.T) {
	e := newEnv(t, map[string]any{"echo_reply_only": true}, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	send(t, s, sandbox.EchoBot, "one")
	send(t, s, sandbox.EchoBot, "two")
	evs := e.h.WaitEvents(t, 2, traffic(acct, sandbox.EchoBot))
	for i, want := range []string{"echo: one", "echo: two"} {
		if m, ok := evs[i].(*event.Message); !ok || m.Body != want {
			t.Errorf("event %d = %#v, want the echo %q", i, evs[i], want)
		}
	}
	// The bot works through its chat in order: once the second echo is
	// there, everything it did for the first is too.
	if evs := e.h.EventsFor(traffic(acct, sandbox.EchoBot)); len(evs) != 2 {
		t.Errorf("echo bot produced %d events, want 2: %#v", len(evs), evs)
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
