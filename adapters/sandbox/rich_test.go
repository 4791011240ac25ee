package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// pair is an env with two linked, connected accounts A and B.
type pair struct {
	*env
	clk    *clock
	a, b   ids.AccountID
	sa, sb *sandbox.Session
}

// A and B are the accounts' users.
func (p *pair) A() ids.UserID { return ids.UserID(p.a) }
func (p *pair) B() ids.UserID { return ids.UserID(p.b) }

func newPair(t *testing.T, cfg map[string]any) *pair {
	t.Helper()
	clk := newClock()
	e := newEnv(t, cfg, sandbox.Options{Clock: clk.Now})
	p := &pair{env: e, clk: clk, a: e.link(t, phoneA), b: e.link(t, phoneB)}
	p.sa, p.sb = e.connect(t, p.a), e.connect(t, p.b)
	return p
}

// sync sends a message from A to B and waits until B has it: everything
// the platform delivered to B before is then emitted too.
func (p *pair) sync(t *testing.T) {
	t.Helper()
	id := send(t, p.sa, p.B(), "sync")
	p.h.WaitEvent(t, func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Account == p.b && m.ID == id
	})
}

// record is the platform's record of message id.
func record(t *testing.T, p *sandbox.Platform, id ids.MessageID) sandbox.Message {
	t.Helper()
	m, ok := p.MessageByID(id)
	if !ok {
		t.Fatalf("no record of %s", id)
	}
	return m
}

func TestEditsBothWays(t *testing.T) {
	p := newPair(t, nil)
	id := send(t, p.sa, p.B(), "helo")
	p.clk.Advance(time.Minute)
	if err := p.sa.EditMessage(ctx(t), &event.Edit{Meta: chatMeta(p.a, p.B()), Target: id, Body: "hello"}); err != nil {
		t.Fatalf("EditMessage: %v", err)
	}
	ed := waitOne[*event.Edit](t, p.h, 1, p.b, p.A())
	if ed.Target != id || ed.Body != "hello" || ed.Sender != p.A() || ed.FromMe || ed.ID == "" || ed.ID == id || !ed.Time.Equal(p.clk.Now()) {
		t.Errorf("B got %+v", ed)
	}
	m := record(t, p.p, id)
	want := []sandbox.Revision{{ID: ed.ID, Previous: "helo", Body: "hello", Time: p.clk.Now()}}
	if m.Body != "hello" || !slices.Equal(m.Edits, want) {
		t.Errorf("record %+v", m)
	}

	// The other way round.
	id2 := send(t, p.sb, p.A(), "wrold")
	if err := p.sb.EditMessage(ctx(t), &event.Edit{Meta: chatMeta(p.b, p.A()), Target: id2, Body: "world"}); err != nil {
		t.Fatalf("EditMessage: %v", err)
	}
	if ed := waitOne[*event.Edit](t, p.h, 1, p.a, p.B()); ed.Target != id2 || ed.Body != "world" || ed.Sender != p.B() || ed.FromMe {
		t.Errorf("A got %+v", ed)
	}

	// From the far side: Alice edits her message to A.
	id3, err := p.p.SendAs(ctx(t), sandbox.Alice, p.a, "hi A")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.p.EditAs(ctx(t), sandbox.Alice, p.a, id3, "hi A!"); err != nil {
		t.Fatalf("EditAs: %v", err)
	}
	if ed := waitOne[*event.Edit](t, p.h, 1, p.a, sandbox.Alice); ed.Target != id3 || ed.Body != "hi A!" || ed.Sender != sandbox.Alice || ed.FromMe {
		t.Errorf("A got %+v", ed)
	}
	// A edits on the phone: B gets the edit, A's device a copy.
	if err := p.p.EditAs(ctx(t), p.A(), p.b, id, "hello again"); err != nil {
		t.Fatalf("EditAs: %v", err)
	}
	if ed := waitOne[*event.Edit](t, p.h, 2, p.b, p.A()); ed.Body != "hello again" || ed.FromMe {
		t.Errorf("B got %+v", ed)
	}
	if cp := waitOne[*event.Edit](t, p.h, 2, p.a, p.B()); cp.Target != id || cp.Body != "hello again" || !cp.FromMe || cp.Sender != p.A() {
		t.Errorf("A's copy %+v", cp)
	}
	if m := record(t, p.p, id); len(m.Edits) != 2 || m.Edits[1].Previous != "hello" || m.Body != "hello again" {
		t.Errorf("record %+v", m)
	}
}

func TestRetractionsBothWays(t *testing.T) {
	p := newPair(t, nil)
	id := send(t, p.sa, p.B(), "oops")
	p.clk.Advance(time.Hour)
	retract := func(s *sandbox.Session, peer ids.UserID, target ids.MessageID) error {
		return s.RetractMessage(ctx(t), &event.Retract{Meta: chatMeta(s.Account(), peer), Target: target})
	}
	if err := retract(p.sa, p.B(), id); err != nil {
		t.Fatalf("RetractMessage: %v", err)
	}
	r := waitOne[*event.Retract](t, p.h, 1, p.b, p.A())
	if r.Target != id || r.Sender != p.A() || r.FromMe || r.ID == "" {
		t.Errorf("B got %+v", r)
	}
	if m := record(t, p.p, id); !m.Retracted || !m.RetractedAt.Equal(p.clk.Now()) || m.Body != "oops" {
		t.Errorf("record %+v", m)
	}
	// Again: nothing happens.
	if err := retract(p.sa, p.B(), id); err != nil {
		t.Errorf("second RetractMessage: %v", err)
	}

	id2 := send(t, p.sb, p.A(), "mine")
	if err := retract(p.sb, p.A(), id2); err != nil {
		t.Fatalf("RetractMessage: %v", err)
	}
	if r := waitOne[*event.Retract](t, p.h, 1, p.a, p.B()); r.Target != id2 || r.Sender != p.B() || r.FromMe {
		t.Errorf("A got %+v", r)
	}

	id3, err := p.p.SendAs(ctx(t), sandbox.Alice, p.a, "wrong chat")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.p.RetractAs(ctx(t), sandbox.Alice, p.a, id3); err != nil {
		t.Fatalf("RetractAs: %v", err)
	}
	if r := waitOne[*event.Retract](t, p.h, 1, p.a, sandbox.Alice); r.Target != id3 || r.Sender != sandbox.Alice {
		t.Errorf("A got %+v", r)
	}
	p.sync(t)
	if n := len(p.h.EventsFor(of[*event.Retract](p.b, p.A()))); n != 1 {
		t.Errorf("B got %d retractions, want 1", n)
	}
}

func TestReactionsBothWays(t *testing.T) {
	p := newPair(t, nil)
	id := send(t, p.sa, p.B(), "good news")
	for i, tc := range []struct {
		set  []string
		want []string
	}{
		{[]string{"👍"}, []string{"👍"}},
		{[]string{"❤️"}, []string{"❤️"}}, // a set of one replaces
		{nil, nil},                       // the empty set removes
		{[]string{"🎉", "🎉"}, []string{"🎉"}},
	} {
		if err := p.sb.SendReaction(ctx(t), &event.Reaction{Meta: chatMeta(p.b, p.A()), Target: id, Emojis: tc.set}); err != nil {
			t.Fatalf("SendReaction(%q): %v", tc.set, err)
		}
		r := waitOne[*event.Reaction](t, p.h, i+1, p.a, p.B())
		if r.Target != id || r.Sender != p.B() || r.FromMe || !slices.Equal(r.Emojis, tc.want) {
			t.Errorf("A got %+v, want %q", r, tc.want)
		}
		got := record(t, p.p, id).Reactions
		if _, has := got[p.B()]; has != (len(tc.want) > 0) || !slices.Equal(got[p.B()], tc.want) {
			t.Errorf("record %v, want %q", got, tc.want)
		}
	}
	// The same set again: nothing happens.
	if err := p.sb.SendReaction(ctx(t), &event.Reaction{Meta: chatMeta(p.b, p.A()), Target: id, Emojis: []string{"🎉"}}); err != nil {
		t.Fatal(err)
	}

	// A reacts to its own message; Alice to hers.
	if err := p.sa.SendReaction(ctx(t), &event.Reaction{Meta: chatMeta(p.a, p.B()), Target: id, Emojis: []string{"😀"}}); err != nil {
		t.Fatal(err)
	}
	if r := waitOne[*event.Reaction](t, p.h, 1, p.b, p.A()); r.Target != id || r.Sender != p.A() || !slices.Equal(r.Emojis, []string{"😀"}) {
		t.Errorf("B got %+v", r)
	}
	aid, err := p.p.SendAs(ctx(t), sandbox.Alice, p.a, "look")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.p.ReactAs(ctx(t), sandbox.Alice, p.a, aid, "👀"); err != nil {
		t.Fatal(err)
	}
	if r := waitOne[*event.Reaction](t, p.h, 1, p.a, sandbox.Alice); r.Target != aid || r.Sender != sandbox.Alice || !slices.Equal(r.Emojis, []string{"👀"}) {
		t.Errorf("A got %+v", r)
	}
	if got := record(t, p.p, id).Reactions; len(got) != 2 || got[p.A()][0] != "😀" || got[p.B()][0] != "🎉" {
		t.Errorf("record %v", got)
	}
	// The repeated set produced no event.
	p.sync(t)
	if n := len(p.h.EventsFor(of[*event.Reaction](p.a, p.B()))); n != 4 {
		t.Errorf("A got %d reactions from B, want 4", n)
	}
}

func TestRepliesBothWays(t *testing.T) {
	p := newPair(t, nil)
	q := send(t, p.sb, p.A(), "question?")
	ans, err := p.sa.SendMessage(ctx(t), &event.Message{Meta: chatMeta(p.a, p.B()), Body: "answer", ReplyTo: q})
	if err != nil {
		t.Fatal(err)
	}
	m := waitOne[*event.Message](t, p.h, 1, p.b, p.A())
	if m.ID != ans || m.ReplyTo != q || m.ReplyToSender != p.B() || m.ReplyQuote != "question?" || m.Body != "answer" {
		t.Errorf("B got %+v", m)
	}
	if r := record(t, p.p, ans); r.ReplyTo != q || r.ReplyToSender != p.B() || r.ReplyQuote != "question?" {
		t.Errorf("record %+v", r)
	}

	// B answers A's answer; long originals are cut.
	long := strings.Repeat("é", 150)
	l := send(t, p.sa, p.B(), long)
	if _, err := p.sb.SendMessage(ctx(t), &event.Message{Meta: chatMeta(p.b, p.A()), Body: "ok", ReplyTo: l}); err != nil {
		t.Fatal(err)
	}
	m = waitOne[*event.Message](t, p.h, 2, p.a, p.B())
	if m.ReplyTo != l || m.ReplyToSender != p.A() || m.ReplyQuote != strings.Repeat("é", 100)+"…" {
		t.Errorf("A got %+v", m)
	}

	// The far side: Alice answers a message A sent her, and a file.
	ping := send(t, p.sa, sandbox.Alice, "ping")
	pong, err := p.p.ReplyAs(ctx(t), sandbox.Alice, p.a, ping, "pong")
	if err != nil {
		t.Fatal(err)
	}
	m = waitOne[*event.Message](t, p.h, 1, p.a, sandbox.Alice)
	if m.ID != pong || m.ReplyTo != ping || m.ReplyToSender != p.A() || m.ReplyQuote != "ping" || m.Sender != sandbox.Alice {
		t.Errorf("A got %+v", m)
	}
	doc, err := p.p.SendFileAs(ctx(t), sandbox.Alice, p.a, "notes.txt", "text/plain", []byte("notes"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.sa.SendMessage(ctx(t), &event.Message{Meta: chatMeta(p.a, sandbox.Alice), Body: "thanks", ReplyTo: doc}); err != nil {
		t.Fatal(err)
	}
	if r := p.p.Received(sandbox.Alice); r[len(r)-1].ReplyQuote != "notes.txt" {
		t.Errorf("quote of a file = %q", r[len(r)-1].ReplyQuote)
	}
}

func TestFilesBothWays(t *testing.T) {
	p := newPair(t, nil)
	photo := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 300)
	pdf := []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n")
	limit := bytes.Repeat([]byte("a"), int(sandbox.DefaultMaxFileSize))
	voice := file("note.ogg", "audio/ogg; codecs=opus", []byte("OggS voice"))
	voice.Kind = event.KindVoice
	for _, tc := range []struct {
		name string
		from *sandbox.Session
		to   ids.UserID
		body string
		att  event.Attachment
		want sandbox.File
	}{
		{"image with caption", p.sa, p.B(), "my cat", file("cat.png", "image/png", photo),
			sandbox.File{Name: "cat.png", MIMEType: "image/png", Kind: event.KindImage, Data: photo}},
		{"sniffed pdf", p.sb, p.A(), "", file("paper", "", pdf),
			sandbox.File{Name: "paper", MIMEType: "application/pdf", Kind: event.KindFile, Data: pdf}},
		{"kind kept, parameters dropped", p.sa, p.B(), "", voice,
			sandbox.File{Name: "note.ogg", MIMEType: "audio/ogg", Kind: event.KindVoice, Data: []byte("OggS voice")}},
		{"exactly the limit", p.sb, p.A(), "", file("a.txt", "text/plain", limit),
			sandbox.File{Name: "a.txt", MIMEType: "text/plain", Kind: event.KindFile, Data: limit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.from.SendMessage(ctx(t), &event.Message{
				Meta: chatMeta(tc.from.Account(), tc.to), Body: tc.body, Attachments: []event.Attachment{tc.att},
			})
			if err != nil {
				t.Fatalf("SendMessage: %v", err)
			}
			m := p.h.WaitEvent(t, gatewaytest.All(gatewaytest.Is[*event.Message], func(ev event.Event) bool {
				return ev.EventMeta().Account == ids.AccountID(tc.to) && ev.EventMeta().ID == id
			})).(*event.Message)
			if m.Body != tc.body || len(m.Attachments) != 1 || m.FromMe {
				t.Fatalf("got %+v", m)
			}
			checkFile(t, m.Attachments[0], tc.want)
			if r := record(t, p.p, id); len(r.Attachments) != 1 || !equalFile(r.Attachments[0], tc.want) {
				t.Errorf("record %+v", r.Attachments)
			}
		})
	}

	// The far side sends a file.
	id, err := p.p.SendFileAs(ctx(t), sandbox.Bob, p.a, "clip.mp4", "video/mp4", []byte("....ftypmp42"))
	if err != nil {
		t.Fatal(err)
	}
	m := waitOne[*event.Message](t, p.h, 1, p.a, sandbox.Bob)
	if m.ID != id || m.Sender != sandbox.Bob || m.Body != "" || len(m.Attachments) != 1 {
		t.Fatalf("A got %+v", m)
	}
	checkFile(t, m.Attachments[0], sandbox.File{Name: "clip.mp4", MIMEType: "video/mp4", Kind: event.KindVideo, Data: []byte("....ftypmp42")})
}

// checkFile compares an attachment the hub got with the file it stands for.
func checkFile(t *testing.T, a event.Attachment, want sandbox.File) {
	t.Helper()
	if a.Name != want.Name || a.MIMEType != want.MIMEType || a.Kind != want.Kind || a.Size != int64(len(want.Data)) || a.URL != "" {
		t.Errorf("attachment %q %s %s %d bytes; want %q %s %s %d", a.Name, a.MIMEType, a.Kind, a.Size,
			want.Name, want.MIMEType, want.Kind, len(want.Data))
	}
	// Open may be called more than once.
	for range 2 {
		if got := content(t, a); !bytes.Equal(got, want.Data) {
			t.Errorf("content of %q: %d bytes differ from the %d sent", a.Name, len(got), len(want.Data))
		}
	}
}

func equalFile(a, b sandbox.File) bool {
	return a.Name == b.Name && a.MIMEType == b.MIMEType && a.Kind == b.Kind && bytes.Equal(a.Data, b.Data)
}

// errDisk is what a failing Open returns.
var errDisk = errors.New("disk on fire")

func TestRichRefusals(t *testing.T) {
	p := newPair(t, nil)
	A, B := p.A(), p.B()
	mA := send(t, p.sa, B, "A's")
	mB := send(t, p.sb, A, "B's")
	mAlice, err := p.p.SendAs(ctx(t), sandbox.Alice, p.a, "Alice's")
	if err != nil {
		t.Fatal(err)
	}
	mToAlice := send(t, p.sa, sandbox.Alice, "to Alice")
	mGone := send(t, p.sa, B, "gone")
	if err := p.sa.RetractMessage(ctx(t), &event.Retract{Meta: chatMeta(p.a, B), Target: mGone}); err != nil {
		t.Fatal(err)
	}
	if err := p.sa.SendReaction(ctx(t), &event.Reaction{Meta: chatMeta(p.a, B), Target: mB, Emojis: []string{"👍"}}); err != nil {
		t.Fatal(err)
	}

	// At the edge of the window an edit still goes through.
	p.clk.Advance(sandbox.DefaultEditWindow)
	edit := func(target ids.MessageID, body string) error {
		return p.sa.EditMessage(ctx(t), &event.Edit{Meta: chatMeta(p.a, B), Target: target, Body: body})
	}
	if err := edit(mA, "A's, corrected"); err != nil {
		t.Fatalf("edit at the edge of the window: %v", err)
	}
	p.clk.Advance(time.Second)

	retract := func(chat ids.UserID, target ids.MessageID) error {
		return p.sa.RetractMessage(ctx(t), &event.Retract{Meta: chatMeta(p.a, chat), Target: target})
	}
	react := func(target ids.MessageID, emojis ...string) error {
		return p.sa.SendReaction(ctx(t), &event.Reaction{Meta: chatMeta(p.a, B), Target: target, Emojis: emojis})
	}
	sendMsg := func(m event.Message) error {
		m.Meta = chatMeta(p.a, B)
		_, err := p.sa.SendMessage(ctx(t), &m)
		return err
	}
	over := bytes.Repeat([]byte("x"), int(sandbox.DefaultMaxFileSize)+1)
	declared := file("big.png", "image/png", over)
	declared.Size = int64(len(over))
	failing := file("broken.png", "image/png", nil)
	failing.Open = func(context.Context) (io.ReadCloser, error) { return nil, errDisk }
	for _, tc := range []struct {
		name string
		err  error
		want error
		text string
	}{
		{"edit after the window", edit(mA, "too late"), gateway.ErrNotAcceptable, "edit window of 15m0s has passed"},
		{"edit of another's message", edit(mB, "mine now"), gateway.ErrForbidden, "own messages"},
		{"edit of an unknown message", edit("SB999", "x"), gateway.ErrTargetNotFound, ""},
		{"edit of a message of another chat", edit(mToAlice, "x"), gateway.ErrTargetNotFound, ""},
		{"edit of a retracted message", edit(mGone, "back"), gateway.ErrTargetNotFound, "retracted"},
		{"edit to nothing", edit(mA, ""), gateway.ErrBadRequest, ""},
		{"edit without target", edit("", "x"), gateway.ErrBadRequest, ""},
		{"edit too long", edit(mA, strings.Repeat("x", sandbox.MaxBodyLength+1)), gateway.ErrNotSupported, ""},
		{"edit in an unknown chat", p.sa.EditMessage(ctx(t), &event.Edit{Meta: chatMeta(p.a, "+15559999999"), Target: mA, Body: "x"}), gateway.ErrUnknownChat, ""},
		{"retract another's message", retract(B, mB), gateway.ErrForbidden, ""},
		{"retract an unknown message", retract(B, "SB999"), gateway.ErrTargetNotFound, ""},
		{"retract a message of another chat", retract(sandbox.Alice, mA), gateway.ErrTargetNotFound, ""},
		{"second, different reaction", react(mB, "👍", "❤️"), gateway.ErrNotAcceptable, "already reacted 👍"},
		{"two reactions at once", react(mA, "😀", "🎉"), gateway.ErrNotAcceptable, "allows 1 per user"},
		{"reaction to an unknown message", react("SB999", "👍"), gateway.ErrTargetNotFound, ""},
		{"reaction to a retracted message", react(mGone, "👍"), gateway.ErrTargetNotFound, ""},
		{"blank reaction", react(mB, " "), gateway.ErrBadRequest, ""},
		{"file too large", sendMsg(event.Message{Attachments: []event.Attachment{file("big.png", "image/png", over)}}),
			gateway.ErrNotAcceptable, "file of more than 1048576 bytes exceeds the 1 MiB limit"},
		{"file declared too large", sendMsg(event.Message{Attachments: []event.Attachment{declared}}),
			gateway.ErrNotAcceptable, "file of 1048577 bytes exceeds the 1 MiB limit"},
		{"type not allowed", sendMsg(event.Message{Attachments: []event.Attachment{file("a.zip", "application/zip", []byte("PK\x03\x04"))}}),
			gateway.ErrNotAcceptable, `type "application/zip" is not accepted`},
		{"sniffed type not allowed", sendMsg(event.Message{Attachments: []event.Attachment{file("a", "", []byte("PK\x03\x04zip"))}}),
			gateway.ErrNotAcceptable, "application/zip"},
		{"malformed type", sendMsg(event.Message{Attachments: []event.Attachment{file("a", "image", []byte("x"))}}),
			gateway.ErrNotAcceptable, ""},
		{"file without content", sendMsg(event.Message{Attachments: []event.Attachment{{URL: "https://example.org/cat.jpg", MIMEType: "image/jpeg"}}}),
			gateway.ErrBadRequest, ""},
		{"empty file", sendMsg(event.Message{Attachments: []event.Attachment{file("e.txt", "text/plain", nil)}}), gateway.ErrBadRequest, ""},
		{"file that cannot be read", sendMsg(event.Message{Attachments: []event.Attachment{failing}}), errDisk, ""},
		{"reply to an unknown message", sendMsg(event.Message{Body: "re", ReplyTo: "SB999"}), gateway.ErrTargetNotFound, ""},
		{"reply to a retracted message", sendMsg(event.Message{Body: "re", ReplyTo: mGone}), gateway.ErrTargetNotFound, ""},
		{"reply to a message of another chat", sendMsg(event.Message{Body: "re", ReplyTo: mToAlice}), gateway.ErrTargetNotFound, ""},

		{"EditAs of another's message", p.p.EditAs(ctx(t), sandbox.Alice, p.a, mToAlice, "x"), gateway.ErrForbidden, ""},
		{"EditAs after the window", p.p.EditAs(ctx(t), sandbox.Alice, p.a, mAlice, "x"), gateway.ErrNotAcceptable, "edit window of 15m0s has passed"},
		{"EditAs to nothing", p.p.EditAs(ctx(t), sandbox.Alice, p.a, mAlice, ""), gateway.ErrBadRequest, ""},
		{"EditAs to a non-account", p.p.EditAs(ctx(t), sandbox.Alice, "+15559999999", mAlice, "x"), gateway.ErrUnknownChat, ""},
		{"RetractAs of another's message", p.p.RetractAs(ctx(t), sandbox.Alice, p.a, mToAlice), gateway.ErrForbidden, ""},
		{"RetractAs of an unknown message", p.p.RetractAs(ctx(t), sandbox.Alice, p.a, "SB999"), gateway.ErrTargetNotFound, ""},
		{"ReactAs twice", p.p.ReactAs(ctx(t), sandbox.Alice, p.a, mAlice, "👍", "❤️"), gateway.ErrNotAcceptable, ""},
		{"ReactAs to an unknown message", p.p.ReactAs(ctx(t), sandbox.Alice, p.a, "SB999", "👍"), gateway.ErrTargetNotFound, ""},
		{"ReactAs from an unknown user", p.p.ReactAs(ctx(t), "+15559999999", p.a, mAlice, "👍"), gateway.ErrUnknownChat, ""},
		{"SendFileAs too large", second(p.p.SendFileAs(ctx(t), sandbox.Alice, p.a, "big.png", "image/png", over)),
			gateway.ErrNotAcceptable, "file of 1048577 bytes exceeds the 1 MiB limit"},
		{"SendFileAs type not allowed", second(p.p.SendFileAs(ctx(t), sandbox.Alice, p.a, "x.exe", "application/x-msdownload", []byte("MZ"))),
			gateway.ErrNotAcceptable, ""},
		{"SendFileAs empty", second(p.p.SendFileAs(ctx(t), sandbox.Alice, p.a, "e.txt", "text/plain", nil)), gateway.ErrBadRequest, ""},
		{"ReplyAs to an unknown message", second(p.p.ReplyAs(ctx(t), sandbox.Alice, p.a, "SB999", "re")), gateway.ErrTargetNotFound, ""},
		{"ReplyAs without a target", second(p.p.ReplyAs(ctx(t), sandbox.Alice, p.a, "", "re")), gateway.ErrBadRequest, ""},
	} {
		if !errors.Is(tc.err, tc.want) || (tc.text != "" && !strings.Contains(tc.err.Error(), tc.text)) {
			t.Errorf("%s: %v; want %v with %q", tc.name, tc.err, tc.want, tc.text)
		}
	}

	// Retractions have a window of their own.
	p.clk.Advance(sandbox.DefaultRetractWindow)
	if err := retract(B, mA); !errors.Is(err, gateway.ErrNotAcceptable) || !strings.Contains(err.Error(), "retraction window of 48h0m0s has passed") {
		t.Errorf("retraction after the window: %v", err)
	}

	// What was refused left no trace, on the platform or at B.
	if m := record(t, p.p, mA); m.Body != "A's, corrected" || len(m.Edits) != 1 || m.Retracted || len(m.Reactions) != 0 {
		t.Errorf("record of %s: %+v", mA, m)
	}
	if got := record(t, p.p, mB).Reactions; len(got) != 1 || !slices.Equal(got[A], []string{"👍"}) {
		t.Errorf("reactions on %s: %v", mB, got)
	}
	p.sync(t)
	for _, tc := range []struct {
		name  string
		match func(event.Event) bool
		want  int
	}{
		{"edits", of[*event.Edit](p.b, A), 1},
		{"retractions", of[*event.Retract](p.b, A), 1},
		{"reactions", of[*event.Reaction](p.b, A), 1},
		{"messages", of[*event.Message](p.b, A), 3}, // mA, mGone, sync
	} {
		if n := len(p.h.EventsFor(tc.match)); n != tc.want {
			t.Errorf("B got %d %s, want %d", n, tc.name, tc.want)
		}
	}
}

func TestRichDisconnected(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.session(t, acct)
	m := chatMeta(acct, sandbox.Alice)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"edit", s.EditMessage(ctx(t), &event.Edit{Meta: m, Target: "SB1", Body: "x"})},
		{"retract", s.RetractMessage(ctx(t), &event.Retract{Meta: m, Target: "SB1"})},
		{"react", s.SendReaction(ctx(t), &event.Reaction{Meta: m, Target: "SB1", Emojis: []string{"👍"}})},
		{"avatar", second(s.GetAvatar(ctx(t), sandbox.Alice))},
	} {
		if !errors.Is(tc.err, gateway.ErrUnavailable) {
			t.Errorf("%s while disconnected: %v", tc.name, tc.err)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"nil edit", s.EditMessage(ctx(t), nil)},
		{"nil retract", s.RetractMessage(ctx(t), nil)},
		{"nil reaction", s.SendReaction(ctx(t), nil)},
	} {
		if !errors.Is(tc.err, gateway.ErrBadRequest) {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
	}
}

func TestRichConfig(t *testing.T) {
	p := newPair(t, map[string]any{
		sandbox.ConfigEditWindow: "1m", sandbox.ConfigRetractWindow: "0s", sandbox.ConfigMaxFileSize: "2KiB",
	})
	caps := p.sa.Capabilities(ids.DirectChat(p.B()))
	if caps.EditWindow != time.Minute || caps.RetractWindow != 0 || caps.MaxFileSize != 2048 {
		t.Fatalf("Capabilities %+v", caps)
	}
	id := send(t, p.sa, p.B(), "x")
	p.clk.Advance(time.Minute + time.Second)
	if err := p.sa.EditMessage(ctx(t), &event.Edit{Meta: chatMeta(p.a, p.B()), Target: id, Body: "y"}); !errors.Is(err, gateway.ErrNotAcceptable) ||
		!strings.Contains(err.Error(), "edit window of 1m0s has passed") {
		t.Errorf("edit after a minute: %v", err)
	}
	// No retract window: a year later is fine.
	p.clk.Advance(365 * 24 * time.Hour)
	if err := p.sa.RetractMessage(ctx(t), &event.Retract{Meta: chatMeta(p.a, p.B()), Target: id}); err != nil {
		t.Errorf("retract a year later: %v", err)
	}
	if _, err := p.p.SendFileAs(ctx(t), sandbox.Alice, p.a, "b.txt", "text/plain", make([]byte, 2049)); err == nil ||
		!strings.Contains(err.Error(), "file of 2049 bytes exceeds the 2 KiB limit") {
		t.Errorf("SendFileAs over 2 KiB: %v", err)
	}

	// max_file_size 0: no files at all.
	q := newPair(t, map[string]any{sandbox.ConfigMaxFileSize: 0})
	if caps := q.sa.Capabilities(ids.DirectChat(q.B())); caps.MaxFileSize != 0 {
		t.Errorf("MaxFileSize %d", caps.MaxFileSize)
	}
	_, err := q.sa.SendMessage(ctx(t), &event.Message{Meta: chatMeta(q.a, q.B()), Attachments: []event.Attachment{file("a.txt", "text/plain", []byte("a"))}})
	if !errors.Is(err, gateway.ErrNotSupported) {
		t.Errorf("file with max_file_size 0: %v", err)
	}
}

func TestMediaTypes(t *testing.T) {
	caps := gateway.Capabilities{MediaTypes: sandbox.MediaTypes()}
	for typ, want := range map[string]bool{
		"image/png": true, "image/webp": true, "video/mp4": true, "audio/ogg": true,
		"application/pdf": true, "text/plain": true,
		"application/zip": false, "text/html": false, "application/x-msdownload": false,
	} {
		if caps.AllowsMediaType(typ) != want {
			t.Errorf("AllowsMediaType(%s) = %t", typ, !want)
		}
	}
	sandbox.MediaTypes()[0] = "changed"
	if sandbox.MediaTypes()[0] != "image/*" {
		t.Error("MediaTypes shares its slice")
	}
}

func TestRichWaitsForOfflineDevices(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	a, b := e.link(t, phoneA), e.link(t, phoneB)
	sa := e.connect(t, a)
	sb := e.session(t, b) // linked, not connected
	B := ids.UserID(b)
	id := send(t, sa, B, "first")
	if err := sa.EditMessage(ctx(t), &event.Edit{Meta: chatMeta(a, B), Target: id, Body: "first!"}); err != nil {
		t.Fatal(err)
	}
	if err := sa.SendReaction(ctx(t), &event.Reaction{Meta: chatMeta(a, B), Target: id, Emojis: []string{"👋"}}); err != nil {
		t.Fatal(err)
	}
	gone := send(t, sa, B, "second")
	if err := sa.RetractMessage(ctx(t), &event.Retract{Meta: chatMeta(a, B), Target: gone}); err != nil {
		t.Fatal(err)
	}
	sb.Connect(ctx(t))
	evs := e.h.WaitEvents(t, 5, gatewaytest.All(gatewaytest.InChat(b, ids.DirectChat(ids.UserID(a))), func(ev event.Event) bool {
		switch ev.(type) {
		case *event.Message, *event.Edit, *event.Reaction, *event.Retract:
			return true
		}
		return false
	}))
	want := []string{"*event.Message", "*event.Edit", "*event.Reaction", "*event.Message", "*event.Retract"}
	for i, ev := range evs {
		if got := strings.Fields(gatewaytest.Describe(ev))[0]; got != want[i] {
			t.Errorf("event %d = %s, want %s", i, gatewaytest.Describe(ev), want[i])
		}
	}
}
