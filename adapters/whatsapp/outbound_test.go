package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func file(name, mime string, kind event.AttachmentKind, data []byte) event.Attachment {
	return event.Attachment{
		Name: name, MIMEType: mime, Kind: kind, Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// outboundGolden renders what the adapter handed to the client: uploads
// (their media type and size) and the protobufs sent, in order.
func outboundGolden(t *testing.T, c *wt.Client, sentBefore, uploadsBefore int, returned ids.MessageID) []byte {
	t.Helper()
	type up struct {
		Type string
		Size int
	}
	type sent struct {
		To      string
		ID      string
		Message json.RawMessage
	}
	out := struct {
		Returned string
		Uploads  []up
		Sent     []sent
	}{Returned: string(returned)}
	for _, u := range c.Uploads()[uploadsBefore:] {
		out.Uploads = append(out.Uploads, up{string(u.Type), len(u.Data)})
	}
	for _, s := range c.Sent()[sentBefore:] {
		pj, err := wt.ProtoJSON(s.Message)
		if err != nil {
			t.Fatal(err)
		}
		out.Sent = append(out.Sent, sent{To: s.To.String(), ID: s.ID, Message: json.RawMessage(pj)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	// The fake numbers message ids in sending order: name them by their
	// place in this case instead, so that a case's golden file does not
	// depend on the cases before it.
	golden := b.String()
	for i, s := range c.Sent()[sentBefore:] {
		golden = strings.ReplaceAll(golden, s.ID, fmt.Sprintf("<sent %d>", i+1))
	}
	return []byte(golden)
}

func TestOutboundGolden(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	meta := event.Meta{Account: acct, Chat: aliceChat, Sender: ids.UserID(acct), FromMe: true}
	big := bytes.Repeat([]byte{0xff}, convert.MaxMediaSize+1)

	type call func(ctx context.Context) (ids.MessageID, error)
	send := func(m *event.Message) call {
		return func(ctx context.Context) (ids.MessageID, error) {
			m.Meta = meta
			return s.SendMessage(ctx, m)
		}
	}
	noID := func(f func(ctx context.Context) error) call {
		return func(ctx context.Context) (ids.MessageID, error) { return "", f(ctx) }
	}
	cases := []struct {
		name string
		call call
	}{
		{"text", send(&event.Message{Body: "hello *from XMPP*"})},
		{"reply_to_contact", send(&event.Message{Body: "sure", ReplyTo: "A1", ReplyToSender: alicePhone, ReplyQuote: "coffee?"})},
		{"reply_to_own", send(&event.Message{Body: "as I said", ReplyTo: "me:3EB0OLD", ReplyQuote: "I said this"})},
		{"mention", send(&event.Message{Body: "hi @15550001111", Mentions: []ids.UserID{alicePhone, "lid-900000002222"}})},
		{"image", send(&event.Message{Body: "our cat", Attachments: []event.Attachment{file("cat.jpg", "image/jpeg", event.KindImage, []byte("JPEG"))}})},
		{"image_reply", send(&event.Message{Body: "this one", ReplyTo: "A2", ReplyQuote: "which?", Attachments: []event.Attachment{file("cat.png", "image/png", "", []byte("PNG"))}})},
		{"image_too_big_as_document", send(&event.Message{Attachments: []event.Attachment{file("huge.jpg", "image/jpeg", event.KindImage, big)}})},
		{"video", send(&event.Message{Attachments: []event.Attachment{file("clip.mp4", "video/mp4", event.KindVideo, []byte("MP4"))}})},
		{"voice", send(&event.Message{Attachments: []event.Attachment{file("voice.ogg", "audio/ogg", event.KindVoice, []byte("OPUS"))}})},
		{"audio_with_text", send(&event.Message{Body: "listen", Attachments: []event.Attachment{file("song.mp3", "audio/mpeg", event.KindAudio, []byte("MP3"))}})},
		{"document", send(&event.Message{Body: "the report", Attachments: []event.Attachment{file("report.pdf", "application/pdf", event.KindFile, []byte("%PDF"))}})},
		{"document_unknown_type", send(&event.Message{Attachments: []event.Attachment{file("notes", "", event.KindFile, []byte("plain words"))}})},
		{"sticker", send(&event.Message{Attachments: []event.Attachment{file("s.webp", "image/webp", event.KindSticker, []byte("RIFF"))}})},
		{"two_files", send(&event.Message{Body: "both", Attachments: []event.Attachment{
			file("a.jpg", "image/jpeg", event.KindImage, []byte("A")), file("b.pdf", "application/pdf", event.KindFile, []byte("B"))}})},
		{"edit", noID(func(ctx context.Context) error {
			id, err := s.SendMessage(ctx, &event.Message{Meta: meta, Body: "helo"})
			if err != nil {
				return err
			}
			return s.EditMessage(ctx, &event.Edit{Meta: meta, Target: id, Body: "hello"})
		})},
		{"retract", noID(func(ctx context.Context) error {
			return s.RetractMessage(ctx, &event.Retract{Meta: meta, Target: "me:3EB0OLD"})
		})},
		{"reaction_to_contact", noID(func(ctx context.Context) error {
			return s.SendReaction(ctx, &event.Reaction{Meta: meta, Target: "A1", Emojis: []string{"👍", "❤️"}})
		})},
		{"reaction_to_own", noID(func(ctx context.Context) error {
			return s.SendReaction(ctx, &event.Reaction{Meta: meta, Target: "me:3EB0OLD", Emojis: []string{"🎉"}})
		})},
		{"reaction_removed", noID(func(ctx context.Context) error {
			return s.SendReaction(ctx, &event.Reaction{Meta: meta, Target: "A1", Emojis: nil})
		})},
	}
	used := map[string]bool{}
	dir := filepath.Join("testdata", "outbound")
	for _, tc := range cases {
		used[tc.name+".golden"] = true
		t.Run(tc.name, func(t *testing.T) {
			sb, ub := len(c.Sent()), len(c.Uploads())
			id, err := tc.call(e.ctx)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			wt.Golden(t, filepath.Join(dir, tc.name+".golden"), outboundGolden(t, c, sb, ub, id), *update)
		})
	}
	if !*update {
		wt.UnusedGoldens(t, dir, used)
	}
	for _, u := range c.Uploads() {
		if len(u.Data) == convert.MaxMediaSize+1 && u.Type != "WhatsApp Document Keys" {
			t.Errorf("a 16 MB+ image was uploaded as %s", u.Type)
		}
	}
}

func TestSendRefusals(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	acct := s.Account()
	meta := event.Meta{Account: acct, Chat: aliceChat}
	for _, tc := range []struct {
		name string
		msg  *event.Message
		want error
	}{
		{"empty", &event.Message{Meta: meta, Body: "  "}, gateway.ErrBadRequest},
		{"bad utf8", &event.Message{Meta: meta, Body: "\xff"}, gateway.ErrBadRequest},
		{"too long", &event.Message{Meta: meta, Body: strings.Repeat("x", whatsapp.MaxBodyLength+1)}, gateway.ErrNotAcceptable},
		{"malformed group", &event.Message{Meta: event.Meta{Account: acct, Chat: "group-"}, Body: "hi"}, gateway.ErrUnknownChat},
		{"not whatsapp", &event.Message{Meta: event.Meta{Account: acct, Chat: "alice"}, Body: "hi"}, gateway.ErrUnknownChat},
		{"other account", &event.Message{Meta: event.Meta{Account: "+15559999999", Chat: aliceChat}, Body: "hi"}, gateway.ErrBadRequest},
		{"bad reply", &event.Message{Meta: meta, Body: "hi", ReplyTo: "me:"}, gateway.ErrTargetNotFound},
		{"file too big", &event.Message{Meta: meta, Attachments: []event.Attachment{{Name: "x", Size: 3_000_000_000, Open: func(context.Context) (io.ReadCloser, error) { return nil, errors.New("unused") }}}}, gateway.ErrNotAcceptable},
		{"file without content", &event.Message{Meta: meta, Attachments: []event.Attachment{{Name: "x"}}}, gateway.ErrBadRequest},
	} {
		if _, err := s.SendMessage(e.ctx, tc.msg); !errors.Is(err, tc.want) {
			t.Errorf("%s: SendMessage = %v, want %v", tc.name, err, tc.want)
		}
	}
	c.Lock()
	c.SendErr = errors.New("server returned error 479")
	c.Unlock()
	if _, err := s.SendMessage(e.ctx, text(s, "hi")); err == nil || !strings.Contains(err.Error(), "479") {
		t.Errorf("SendMessage with a failing server = %v", err)
	}
}

func TestFileSizeLimitConfig(t *testing.T) {
	e := newEnv(t, map[string]any{whatsapp.ConfigMaxFileSize: "1KB"})
	s, _ := e.connected()
	if got := s.Capabilities(aliceChat).MaxFileSize; got != 1000 {
		t.Errorf("MaxFileSize = %d", got)
	}
	// A file whose size was unknown is measured while it is fetched.
	att := file("big.bin", "application/octet-stream", event.KindFile, make([]byte, 2000))
	att.Size = 0
	if _, err := s.SendMessage(e.ctx, &event.Message{Meta: event.Meta{Chat: aliceChat}, Attachments: []event.Attachment{att}}); !errors.Is(err, gateway.ErrNotAcceptable) {
		t.Errorf("SendMessage of 2000 bytes = %v, want ErrNotAcceptable", err)
	}
}

func TestEditAndRetractRules(t *testing.T) {
	e := newEnv(t, nil)
	s, _ := e.connected()
	meta := event.Meta{Account: s.Account(), Chat: aliceChat}
	id, err := s.SendMessage(e.ctx, &event.Message{Meta: meta, Body: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EditMessage(e.ctx, &event.Edit{Meta: meta, Target: "A1", Body: "theirs"}); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("edit of a contact's message = %v, want ErrForbidden", err)
	}
	if err := s.RetractMessage(e.ctx, &event.Retract{Meta: meta, Target: "A1"}); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("retraction of a contact's message = %v, want ErrForbidden", err)
	}
	if err := s.EditMessage(e.ctx, &event.Edit{Meta: meta, Target: id, Body: ""}); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("empty edit = %v, want ErrBadRequest", err)
	}
	e.clock.Add(whatsapp.EditWindow + time.Minute)
	if err := s.EditMessage(e.ctx, &event.Edit{Meta: meta, Target: id, Body: "late"}); !errors.Is(err, gateway.ErrNotAcceptable) {
		t.Errorf("edit after the window = %v, want ErrNotAcceptable", err)
	}
	if err := s.RetractMessage(e.ctx, &event.Retract{Meta: meta, Target: id}); err != nil {
		t.Errorf("retraction within the window = %v", err)
	}
	e.clock.Add(whatsapp.RetractWindow)
	if err := s.RetractMessage(e.ctx, &event.Retract{Meta: meta, Target: id}); !errors.Is(err, gateway.ErrNotAcceptable) {
		t.Errorf("retraction after the window = %v, want ErrNotAcceptable", err)
	}
	// Messages the session does not know the age of are left to WhatsApp.
	if err := s.EditMessage(e.ctx, &event.Edit{Meta: meta, Target: "me:3EB0UNKNOWN", Body: "x"}); err != nil {
		t.Errorf("edit of an unknown own message = %v", err)
	}
	caps := s.Capabilities(aliceChat)
	if !caps.Edits || caps.EditWindow != 15*time.Minute || !caps.Retractions || caps.RetractWindow != 48*time.Hour ||
		!caps.Reactions || caps.MaxReactionsPerUser != 1 || !caps.Replies || caps.MaxFileSize != convert.MaxDocumentSize ||
		!caps.Receipts || !caps.ReadMarkers || !caps.ChatStates || caps.MaxBodyLength != 65536 || len(caps.MediaTypes) != 0 {
		t.Errorf("Capabilities = %+v", caps)
	}
}

func TestReceiptsAndChatStates(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	meta := event.Meta{Account: s.Account(), Chat: aliceChat}
	if err := s.SendReceipt(e.ctx, &event.Receipt{Meta: meta, Kind: event.Displayed, Targets: []ids.MessageID{"A1", "me:3EB0X", "A2"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendReceipt(e.ctx, &event.Receipt{Meta: meta, Kind: event.Delivered, Targets: []ids.MessageID{"A3"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendReceipt(e.ctx, &event.Receipt{Meta: meta, Kind: event.Displayed, Targets: []ids.MessageID{"me:3EB0X"}}); err != nil {
		t.Fatal(err)
	}
	reads := c.Reads()
	if len(reads) != 1 || strings.Join(reads[0].IDs, ",") != "A1,A2" || reads[0].Chat != alice || !reads[0].Sender.IsEmpty() {
		t.Errorf("MarkRead calls = %+v", reads)
	}
	if err := s.SendReceipt(e.ctx, &event.Receipt{Meta: meta, Kind: event.Displayed}); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("receipt without targets = %v", err)
	}
	for _, st := range []event.ChatStateKind{event.Composing, event.Paused, event.Active, event.Gone} {
		if err := s.SendChatState(e.ctx, &event.ChatState{Meta: meta, State: st}); err != nil {
			t.Fatal(err)
		}
	}
	want := []types.ChatPresence{types.ChatPresenceComposing, types.ChatPresencePaused, types.ChatPresencePaused, types.ChatPresencePaused}
	got := c.ChatPresences()
	if len(got) != len(want) {
		t.Fatalf("chat presences = %+v", got)
	}
	for i := range want {
		if got[i].State != want[i] || got[i].To != alice {
			t.Errorf("chat presence %d = %+v, want %s to %s", i, got[i], want[i], alice)
		}
	}
}

func TestResolveUser(t *testing.T) {
	e := newEnv(t, nil)
	e.f.Configure = func(c *wt.Client) {
		c.OnWhatsApp = map[string]types.JID{
			alicePhone:      alice,
			"+525550001111": wt.PN("+5215550001111"), // WhatsApp's canonical form differs
		}
	}
	s, c := e.connected()
	for input, want := range map[string]ids.UserID{
		"+1 (555) 000-1111": alicePhone,
		"0015550001111":     alicePhone,
		"+52 555 000 1111":  "+5215550001111",
	} {
		if got, err := s.ResolveUser(e.ctx, input); err != nil || got != want {
			t.Errorf("ResolveUser(%q) = %q, %v; want %q", input, got, err, want)
		}
	}
	if _, err := s.ResolveUser(e.ctx, "+15550009999"); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("ResolveUser(not on WhatsApp) = %v, want ErrUnknownChat", err)
	}
	if _, err := s.ResolveUser(e.ctx, "call me"); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("ResolveUser(garbage) = %v, want ErrBadRequest", err)
	}
	if n := strings.Count(strings.Join(c.Calls(), ","), "IsOnWhatsApp"); n != 4 {
		t.Errorf("IsOnWhatsApp called %d times", n)
	}
}

func TestGetAvatar(t *testing.T) {
	e := newEnv(t, nil)
	e.f.Configure = func(c *wt.Client) {
		c.Pictures = map[types.JID]*types.ProfilePictureInfo{alice: {ID: "1700000000", URL: "https://pps.whatsapp.net/alice.jpg"}}
	}
	s, _ := e.connected()
	av, err := s.GetAvatar(e.ctx, alicePhone)
	if err != nil || av.Hash != "1700000000" || av.MIMEType != "image/jpeg" || !bytes.Contains(av.Data, []byte("alice.jpg")) {
		t.Errorf("GetAvatar = %+v, %v", av, err)
	}
	if av, err := s.GetAvatar(e.ctx, "+15550002222"); err != nil || av.Hash != "" || av.Data != nil {
		t.Errorf("GetAvatar(no picture) = %+v, %v", av, err)
	}
	if _, err := s.GetAvatar(e.ctx, "nobody"); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("GetAvatar(nobody) = %v", err)
	}
}

func TestListContacts(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	ctx := e.ctx
	carol := wt.PN("+15550003333")
	carolLID := wt.LID("900000003333")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := c.Device.Contacts.PutPushName(ctx, alice, "Ally")
	must(err)
	// whatsmeow's implementation takes the first name first (its interface says otherwise).
	must(c.Device.Contacts.PutContactName(ctx, alice, "Alice", "Alice Liddell"))
	must(c.Device.LIDs.PutLIDMapping(ctx, carolLID, carol))
	_, _, err = c.Device.Contacts.PutPushName(ctx, carolLID, "Carol")
	must(err)
	_, _, err = c.Device.Contacts.PutPushName(ctx, wt.LID("900000002222"), "Bob")
	must(err)
	list, err := s.ListContacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ci := range list {
		got = append(got, string(ci.Sender)+"="+ci.Name+"/"+ci.Phone)
	}
	want := "+15550001111=Alice Liddell/+15550001111,+15550003333=Carol/+15550003333,lid-900000002222=Bob/"
	if strings.Join(got, ",") != want {
		t.Errorf("ListContacts = %v\nwant %s", got, want)
	}
}

// TestLIDAddressing: once WhatsApp writes in a chat by LID, the gateway
// answers, replies and reacts in that addressing too.
func TestLIDAddressing(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	aliceLID := wt.LID("900000001111")
	c.Dispatch(wt.Msg{Chat: aliceLID, SenderAlt: alice, ID: "L1", Time: time.Now()}.Event(textMsg("via LID")))
	in := e.h.WaitEvent(t, gatewaytest.Is[*event.Message]).(*event.Message)
	if in.Chat != aliceChat {
		t.Fatalf("chat = %s, want the phone number", in.Chat)
	}
	meta := event.Meta{Account: s.Account(), Chat: aliceChat}
	if _, err := s.SendMessage(e.ctx, &event.Message{Meta: meta, Body: "answer", ReplyTo: "me:3EB0MINE"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendReaction(e.ctx, &event.Reaction{Meta: meta, Target: "L1", Emojis: []string{"👍"}}); err != nil {
		t.Fatal(err)
	}
	sent := c.Sent()
	if len(sent) != 2 || sent[0].To != aliceLID || sent[1].To != aliceLID {
		t.Fatalf("sent to %v", sent)
	}
	if p := sent[0].Message.GetExtendedTextMessage().GetContextInfo().GetParticipant(); p != "900000000100@lid" {
		t.Errorf("reply participant = %q, want the owner's LID", p)
	}
	if k := sent[1].Message.GetReactionMessage().GetKey(); k.GetRemoteJID() != aliceLID.String() || k.GetFromMe() {
		t.Errorf("reaction key = %v", k)
	}
}
