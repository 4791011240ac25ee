package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestOneToOneBothWays links an account by phone and code against the
// MTProto test server, receives Alice's message, answers it as a reply,
// edits and deletes the answer, marks Alice's message read and types, and
// sees Alice's read marker, typing, edit and deletion, all over MTProto.
func TestOneToOneBothWays(t *testing.T) {
	f := newFixture(t)
	acct, sess := f.connect(t)
	alice := convert.ChatID(aliceID)

	// Telegram → hub.
	in, err := f.srv.Send(aliceID, ownerID, "hello bold", &tg.MessageEntityBold{Offset: 6, Length: 4})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.host.WaitEvent(t, gatewaytest.Is[*event.Message]).(*event.Message)
	if ev.Body != "hello *bold*" || ev.Chat != alice || ev.Sender != "2002" || ev.FromMe || ev.ID != convert.MessageID(in.ID) {
		t.Errorf("inbound message = %s", gatewaytest.Describe(ev))
	}
	contact := f.host.WaitEvent(t, gatewaytest.Is[*event.ContactInfo]).(*event.ContactInfo)
	if contact.Name != "Alice" || contact.Phone != alicePhone {
		t.Errorf("contact = %+v", contact)
	}

	// Hub → Telegram, as a reply.
	id, err := sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: alice}, Body: "hi Alice", ReplyTo: ev.ID})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	got, ok := f.srv.Find(aliceID, "hi Alice")
	if !ok {
		t.Fatalf("Alice did not get the answer: %+v", f.srv.Box(aliceID))
	}
	if h, ok := got.ReplyTo.(*tg.MessageReplyHeader); !ok || h.ReplyToMsgID == 0 {
		t.Errorf("the answer is not a reply: %+v", got.ReplyTo)
	}

	// Edit and read marker and typing from XMPP.
	if err := sess.(gateway.Editor).EditMessage(f.ctx, &event.Edit{Meta: event.Meta{Account: acct, Chat: alice}, Target: id, Body: "hi Alice!"}); err != nil {
		t.Fatalf("EditMessage: %v", err)
	}
	if _, ok := f.srv.Find(aliceID, "hi Alice!"); !ok {
		t.Errorf("Alice's copy was not edited: %+v", f.srv.Box(aliceID))
	}
	if err := sess.(gateway.ReceiptSender).SendReceipt(f.ctx, &event.Receipt{Meta: event.Meta{Account: acct, Chat: alice}, Kind: event.Displayed, Targets: []ids.MessageID{ev.ID}}); err != nil {
		t.Fatalf("SendReceipt: %v", err)
	}
	if err := sess.(gateway.ChatStateSender).SendChatState(f.ctx, &event.ChatState{Meta: event.Meta{Account: acct, Chat: alice}, State: event.Composing}); err != nil {
		t.Fatalf("SendChatState: %v", err)
	}
	if n := f.srv.Calls("messages.readHistory") + f.srv.Calls("messages.setTyping"); n != 2 {
		t.Errorf("readHistory + setTyping calls = %d, want 2", n)
	}

	// Alice reads, types, edits and deletes.
	f.srv.Read(aliceID, ownerID, got.ID)
	rc := f.host.WaitEvent(t, gatewaytest.Is[*event.Receipt]).(*event.Receipt)
	if rc.Kind != event.Displayed || len(rc.Targets) != 1 || rc.Targets[0] != id {
		t.Errorf("read marker = %s, want displayed up to %s", gatewaytest.Describe(rc), id)
	}
	f.srv.Typing(aliceID, ownerID, &tg.SendMessageTypingAction{})
	cs := f.host.WaitEvent(t, gatewaytest.Is[*event.ChatState]).(*event.ChatState)
	if cs.State != event.Composing || cs.Chat != alice {
		t.Errorf("chat state = %s", gatewaytest.Describe(cs))
	}
	f.srv.DeleteFor(aliceID, 1) // Alice's first message, "hello bold"
	rt := f.host.WaitEvent(t, gatewaytest.Is[*event.Retract]).(*event.Retract)
	if rt.Target != ev.ID || rt.Sender != "2002" || rt.Chat != alice {
		t.Errorf("retraction = %s, want of %s by Alice", gatewaytest.Describe(rt), ev.ID)
	}

	// Retract the answer: gone from Alice's box too.
	if err := sess.(gateway.Retracter).RetractMessage(f.ctx, &event.Retract{Meta: event.Meta{Account: acct, Chat: alice}, Target: id}); err != nil {
		t.Fatalf("RetractMessage: %v", err)
	}
	if _, ok := f.srv.Find(aliceID, "hi Alice!"); ok {
		t.Error("the retracted answer is still in Alice's box")
	}
	// Our own sends never come back as news.
	for _, e := range f.host.Events() {
		if m, ok := e.(*event.Message); ok && m.FromMe {
			t.Errorf("own message echoed: %s", gatewaytest.Describe(m))
		}
	}
}

// TestGapRecovery drops the account's connection, has Alice write while
// it is away, and checks that the session catches up with
// updates.getDifference after reconnecting, in order and once.
func TestGapRecovery(t *testing.T) {
	f := newFixture(t)
	_, _ = f.connect(t)
	if _, err := f.srv.Send(aliceID, ownerID, "before"); err != nil {
		t.Fatal(err)
	}
	f.host.WaitEvent(t, func(e event.Event) bool { m, ok := e.(*event.Message); return ok && m.Body == "before" })
	diffs := f.srv.Calls("updates.getDifference")

	f.srv.Disconnect(ownerID)
	for _, text := range []string{"while away 1", "while away 2"} {
		if _, err := f.srv.Send(aliceID, ownerID, text); err != nil {
			t.Fatal(err)
		}
	}
	f.srv.Reconnectable(ownerID)
	msgs := f.host.WaitEvents(t, 3, gatewaytest.Is[*event.Message])
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, m.(*event.Message).Body)
	}
	if want := []string{"before", "while away 1", "while away 2"}; !equal(bodies, want) {
		t.Errorf("messages = %q, want %q", bodies, want)
	}
	if f.srv.Calls("updates.getDifference") <= diffs {
		t.Error("the catch-up did not use updates.getDifference")
	}
	// A later live message still arrives, once.
	if _, err := f.srv.Send(aliceID, ownerID, "after"); err != nil {
		t.Fatal(err)
	}
	f.host.WaitEvent(t, func(e event.Event) bool { m, ok := e.(*event.Message); return ok && m.Body == "after" })
	if n := len(f.host.EventsFor(gatewaytest.Is[*event.Message])); n != 4 {
		t.Errorf("%d messages emitted, want 4 (each once)", n)
	}
}

// TestFloodWait checks that a FLOOD_WAIT on a send is told to the user as
// a rate limit naming the wait, and that the next send within the wait is
// refused without asking Telegram.
func TestFloodWait(t *testing.T) {
	f := newFixture(t)
	acct, sess := f.connect(t)
	if _, err := f.srv.Send(aliceID, ownerID, "hi"); err != nil { // learn Alice's access hash
		t.Fatal(err)
	}
	f.host.WaitEvent(t, gatewaytest.Is[*event.Message])
	f.srv.FloodWait("messages.sendMessage", 30)
	msg := &event.Message{Meta: event.Meta{Account: acct, Chat: convert.ChatID(aliceID)}, Body: "too fast"}
	_, err := sess.SendMessage(f.ctx, msg)
	if !errors.Is(err, gateway.ErrRateLimited) || !containsText(err.Error(), "30s") {
		t.Fatalf("SendMessage under FLOOD_WAIT = %v, want ErrRateLimited naming 30s", err)
	}
	calls := f.srv.Calls("messages.sendMessage")
	if _, err := sess.SendMessage(f.ctx, msg); !errors.Is(err, gateway.ErrRateLimited) {
		t.Errorf("second SendMessage within the wait = %v, want ErrRateLimited", err)
	}
	if f.srv.Calls("messages.sendMessage") != calls {
		t.Error("the second send reached Telegram during the wait")
	}
}

// TestLoginErrors: a wrong code is refused and may be tried again; an
// unknown phone number and refused application credentials are clear.
func TestLoginErrors(t *testing.T) {
	f := newFixture(t)
	l, err := f.a.NewLogin(f.ctx, "owner@example.org", "phone")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Cancel()
	if _, err := l.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Submit(f.ctx, map[string]string{"phone": "+15559999999"}); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("unknown phone: %v, want ErrBadRequest", err)
	}
	if _, err := l.Submit(f.ctx, map[string]string{"phone": ownerPhone}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Submit(f.ctx, map[string]string{"code": "00000"}); !errors.Is(err, gateway.ErrBadRequest) || !containsText(err.Error(), "wrong code") {
		t.Errorf("wrong code: %v", err)
	}
	code, err := f.srv.LastCode(f.ctx, ownerPhone)
	if err != nil {
		t.Fatal(err)
	}
	step, err := l.Submit(f.ctx, map[string]string{"code": code})
	if err != nil || step.Kind != gateway.StepDone {
		t.Fatalf("right code after a wrong one: %+v, %v", step, err)
	}

	// Credentials Telegram refuses.
	bad := telegram.New(telegram.WithClientOptions(f.srv.Options))
	if err := bad.Init(f.host, map[string]any{"api_id": 1, "api_hash": "wrong"}); err != nil {
		t.Fatal(err)
	}
	l2, err := bad.NewLogin(f.ctx, "owner@example.org", "phone")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Cancel()
	_, _ = l2.Start(f.ctx)
	if _, err := l2.Submit(f.ctx, map[string]string{"phone": ownerPhone}); !errors.Is(err, gateway.ErrUnavailable) || !containsText(err.Error(), "api_id") {
		t.Errorf("refused credentials: %v, want ErrUnavailable naming api_id", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsText(s, sub string) bool { return strings.Contains(s, sub) }

// TestResolveUser: the XEP-0100 prompt takes an @username, looked up on
// Telegram (and then writable), or the id of a user already seen.
func TestResolveUser(t *testing.T) {
	f := newFixture(t)
	f.srv.AddUser(3003, "", "Bob", "bob_the_builder") // no phone number
	acct, sess := f.connect(t)
	r := sess.(gateway.UserResolver)
	cases := []struct {
		input string
		want  ids.UserID
		err   error
	}{
		{"@bob_the_builder", "3003", nil},
		{"bob_the_builder", "3003", nil},
		{"3003", "3003", nil}, // seen by now
		{"@nobody_here", "", gateway.ErrUnknownChat},
		{"9999", "", gateway.ErrUnknownChat},
		{"not a name!", "", gateway.ErrBadRequest},
	}
	for _, tc := range cases {
		got, err := r.ResolveUser(f.ctx, tc.input)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ResolveUser(%q) = %q, %v; want %q, %v", tc.input, got, err, tc.want, tc.err)
		}
	}
	if _, err := sess.SendMessage(f.ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: "3003"}, Body: "hi Bob"}); err != nil {
		t.Fatalf("writing to a resolved user: %v", err)
	}
	if _, ok := f.srv.Find(3003, "hi Bob"); !ok {
		t.Error("Bob did not get the message")
	}
}

// TestReactions: the owner's reaction reaches Alice's copy of her
// message; Alice's reaction on the owner's message, and its removal,
// arrive as her full set; a second emoji is refused as Telegram does.
func TestReactions(t *testing.T) {
	f := newFixture(t)
	acct, sess := f.connect(t)
	alice := convert.ChatID(aliceID)
	if _, err := f.srv.Send(aliceID, ownerID, "react to me"); err != nil {
		t.Fatal(err)
	}
	in := f.host.WaitEvent(t, gatewaytest.Is[*event.Message]).(*event.Message)
	rc := sess.(gateway.Reactor)
	meta := event.Meta{Account: acct, Chat: alice}
	if err := rc.SendReaction(f.ctx, &event.Reaction{Meta: meta, Target: in.ID, Emojis: []string{"👍"}}); err != nil {
		t.Fatalf("SendReaction: %v", err)
	}
	if err := rc.SendReaction(f.ctx, &event.Reaction{Meta: meta, Target: in.ID, Emojis: []string{"👍", "🔥"}}); !errors.Is(err, gateway.ErrNotAcceptable) {
		t.Errorf("two reactions = %v, want ErrNotAcceptable", err)
	}
	if n := f.srv.Calls("messages.sendReaction"); n != 2 {
		t.Errorf("sendReaction calls = %d, want 2", n)
	}

	id, err := sess.SendMessage(f.ctx, &event.Message{Meta: meta, Body: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := f.srv.Find(aliceID, "mine")
	if err := f.srv.React(aliceID, ownerID, theirs.ID, "❤"); err != nil {
		t.Fatal(err)
	}
	r := f.host.WaitEvent(t, gatewaytest.Is[*event.Reaction]).(*event.Reaction)
	if r.Target != id || r.Sender != "2002" || r.FromMe || len(r.Emojis) != 1 || r.Emojis[0] != "❤" {
		t.Errorf("Alice's reaction = %s, want ❤ on %s", gatewaytest.Describe(r), id)
	}
	if err := f.srv.React(aliceID, ownerID, theirs.ID); err != nil {
		t.Fatal(err)
	}
	evs := f.host.WaitEvents(t, 2, gatewaytest.Is[*event.Reaction])
	if r := evs[1].(*event.Reaction); r.Target != id || len(r.Emojis) != 0 {
		t.Errorf("Alice's removal = %s, want an empty set on %s", gatewaytest.Describe(r), id)
	}
}

// TestPresence: a contact's status arrives with the address book and
// when it changes: online is available, offline carries the last-seen
// time.
func TestPresence(t *testing.T) {
	f := newFixture(t)
	f.srv.AddContact(ownerID, aliceID)
	f.srv.SetStatus(aliceID, &tg.UserStatusOnline{Expires: int(time.Now().Add(time.Minute).Unix())})
	_, _ = f.connect(t)
	p := f.host.WaitEvent(t, gatewaytest.Is[*event.Presence]).(*event.Presence)
	if !p.Available || p.Sender != "2002" {
		t.Errorf("first presence = %s, want Alice available", gatewaytest.Describe(p))
	}
	seen := time.Now().Add(-time.Minute).Truncate(time.Second).UTC()
	f.srv.SetStatus(aliceID, &tg.UserStatusOffline{WasOnline: int(seen.Unix())})
	evs := f.host.WaitEvents(t, 2, gatewaytest.Is[*event.Presence])
	if p := evs[1].(*event.Presence); p.Available || !p.LastSeen.Equal(seen) {
		t.Errorf("second presence = %+v, want unavailable, last seen %s", p, seen)
	}
}

// TestInboundMedia: a photo and a large document from Alice arrive as
// attachments whose content is downloaded over MTProto (upload.getFile,
// several parts for the document).
func TestInboundMedia(t *testing.T) {
	f := newFixture(t)
	_, _ = f.connect(t)
	jpeg := []byte("\xff\xd8\xff\xe0 a small JPEG")
	doc := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB: four parts
	if _, err := f.srv.SendPhoto(aliceID, ownerID, "a photo", jpeg); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.SendDocument(aliceID, ownerID, "", "big.bin", "application/octet-stream", doc); err != nil {
		t.Fatal(err)
	}
	msgs := f.host.WaitEvents(t, 2, gatewaytest.Is[*event.Message])
	for i, want := range []struct {
		body, name, mime string
		kind             event.AttachmentKind
		data             []byte
	}{
		{"a photo", "", "image/jpeg", event.KindImage, jpeg},
		{"", "big.bin", "application/octet-stream", event.KindFile, doc},
	} {
		m := msgs[i].(*event.Message)
		if m.Body != want.body || len(m.Attachments) != 1 {
			t.Fatalf("message %d = %s, want body %q and one attachment", i, gatewaytest.Describe(m), want.body)
		}
		a := m.Attachments[0]
		if a.MIMEType != want.mime || a.Kind != want.kind || a.Size != int64(len(want.data)) || (want.name != "" && a.Name != want.name) {
			t.Errorf("attachment %d = %+v", i, a)
		}
		rc, err := a.Open(f.ctx)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want.data) {
			t.Errorf("attachment %d: read %d bytes (%v), want %d", i, len(got), err, len(want.data))
		}
	}
	if n := f.srv.Calls("upload.getFile"); n < 5 {
		t.Errorf("upload.getFile calls = %d, want the photo's and the document's parts", n)
	}
}

// TestOutboundMedia: files from XMPP are uploaded in parts
// (upload.saveFilePart) and sent with messages.sendMedia, a JPEG as a
// photo with the body as its caption, a PDF as a named document.
func TestOutboundMedia(t *testing.T) {
	f := newFixture(t)
	f.srv.AddContact(ownerID, aliceID)
	acct, sess := f.connect(t)
	open := func(b []byte) func(context.Context) (io.ReadCloser, error) {
		return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	jpeg := []byte("\xff\xd8\xff\xe0 a JPEG from XMPP")
	pdf := bytes.Repeat([]byte("%PDF-1.7 "), 200_000) // 1.8 MB: several parts
	meta := event.Meta{Account: acct, Chat: convert.ChatID(aliceID)}
	if caps := sess.Capabilities(meta.Chat); caps.MaxFileSize < int64(len(pdf)) {
		t.Fatalf("MaxFileSize = %d", caps.MaxFileSize)
	}
	if _, err := sess.SendMessage(f.ctx, &event.Message{Meta: meta, Body: "look", Attachments: []event.Attachment{
		{Name: "cat.jpg", MIMEType: "image/jpeg", Size: int64(len(jpeg)), Kind: event.KindImage, Open: open(jpeg)},
	}}); err != nil {
		t.Fatalf("SendMessage(photo): %v", err)
	}
	if _, err := sess.SendMessage(f.ctx, &event.Message{Meta: meta, Attachments: []event.Attachment{
		{Name: "paper.pdf", MIMEType: "application/pdf", Size: int64(len(pdf)), Kind: event.KindFile, Open: open(pdf)},
	}}); err != nil {
		t.Fatalf("SendMessage(document): %v", err)
	}
	box := f.srv.Box(aliceID)
	if len(box) != 2 {
		t.Fatalf("Alice has %d messages, want 2", len(box))
	}
	if _, ok := box[0].Media.(*tg.MessageMediaPhoto); !ok || box[0].Message != "look" {
		t.Errorf("first message = %T %q, want a photo captioned look", box[0].Media, box[0].Message)
	}
	if got, _ := f.srv.File(box[0]); !bytes.Equal(got, jpeg) {
		t.Errorf("the photo has %d bytes, want %d", len(got), len(jpeg))
	}
	doc, ok := box[1].Media.(*tg.MessageMediaDocument)
	if !ok {
		t.Fatalf("second message = %T, want a document", box[1].Media)
	}
	if d := doc.Document.(*tg.Document); d.MimeType != "application/pdf" || d.Attributes[0].(*tg.DocumentAttributeFilename).FileName != "paper.pdf" {
		t.Errorf("document = %+v", d)
	}
	if got, _ := f.srv.File(box[1]); !bytes.Equal(got, pdf) {
		t.Errorf("the document has %d bytes, want %d", len(got), len(pdf))
	}
	if n := f.srv.Calls("upload.saveFilePart"); n < 3 {
		t.Errorf("saveFilePart calls = %d, want the parts of both files", n)
	}
}

// TestRevokedElsewhere: when the session is terminated from the phone,
// the reconnected client is refused and the account is reported logged
// out, not retried for ever.
func TestRevokedElsewhere(t *testing.T) {
	f := newFixture(t)
	acct, _ := f.connect(t)
	f.srv.Revoke(ownerID)
	f.host.WaitState(t, acct, event.StateLoggedOut)
}

// TestSentFromPhone: a message the owner sends from their phone reaches
// the gateway as FromMe (a carbon on XMPP), in the chat with its
// recipient.
func TestSentFromPhone(t *testing.T) {
	f := newFixture(t)
	f.srv.AddContact(ownerID, aliceID)
	_, _ = f.connect(t)
	if _, err := f.srv.Send(ownerID, aliceID, "typed on my phone"); err != nil {
		t.Fatal(err)
	}
	m := f.host.WaitEvent(t, gatewaytest.Is[*event.Message]).(*event.Message)
	if !m.FromMe || m.Chat != convert.ChatID(aliceID) || m.Sender != "1001" || m.Body != "typed on my phone" {
		t.Errorf("message from the phone = %s, want FromMe in the chat with Alice", gatewaytest.Describe(m))
	}
}

// TestAvatar: a contact's profile photo is announced by its hash and
// downloaded on request; a contact without one has none; an unseen user
// is unknown.
func TestAvatar(t *testing.T) {
	f := newFixture(t)
	jpeg := []byte("\xff\xd8\xff\xe0 Alice's face")
	f.srv.SetAvatar(aliceID, jpeg)
	f.srv.AddUser(3003, "", "Bob", "bobby")
	f.srv.AddContact(ownerID, aliceID)
	f.srv.AddContact(ownerID, 3003)
	_, sess := f.connect(t)
	contacts := f.host.WaitEvents(t, 2, gatewaytest.Is[*event.ContactInfo])
	var aliceHash string
	for _, c := range contacts {
		if c.(*event.ContactInfo).Sender == "2002" {
			aliceHash = c.(*event.ContactInfo).AvatarHash
		}
	}
	if aliceHash == "" {
		t.Fatalf("Alice announced without an avatar hash: %v", contacts)
	}
	ag := sess.(gateway.AvatarGetter)
	av, err := ag.GetAvatar(f.ctx, "2002")
	if err != nil || av.Hash != aliceHash || !bytes.Equal(av.Data, jpeg) || av.MIMEType != "image/jpeg" {
		t.Errorf("GetAvatar(Alice) = %q %q %d bytes, %v", av.Hash, av.MIMEType, len(av.Data), err)
	}
	if av, err := ag.GetAvatar(f.ctx, "3003"); err != nil || av.Hash != "" || len(av.Data) != 0 {
		t.Errorf("GetAvatar(Bob, no photo) = %+v, %v; want none", av, err)
	}
	if _, err := ag.GetAvatar(f.ctx, "4004"); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("GetAvatar(unseen) = %v, want ErrUnknownChat", err)
	}
}

// TestRestartCatchesUp: the gateway stops, Alice writes, and a new
// adapter on the same store loads the session (auth key and update state
// from the KV), connects without logging in again, and delivers what
// was missed.
func TestRestartCatchesUp(t *testing.T) {
	f := newFixture(t)
	acct, sess := f.connect(t)
	sess.Disconnect()
	if err := f.a.Stop(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Send(aliceID, ownerID, "while the gateway was down"); err != nil {
		t.Fatal(err)
	}
	signIns := f.srv.Calls("auth.signIn")

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
	m := f.host.WaitEvent(t, func(e event.Event) bool {
		m, ok := e.(*event.Message)
		return ok && m.Body == "while the gateway was down"
	}).(*event.Message)
	if m.Sender != "2002" {
		t.Errorf("missed message = %s", gatewaytest.Describe(m))
	}
	if f.srv.Calls("auth.signIn") != signIns {
		t.Error("the restarted session signed in again instead of using the stored auth key")
	}
}
