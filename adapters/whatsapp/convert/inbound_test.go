package convert_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The cast: the owner, Alice (phone number known), Bob (a LID whose
// number is unknown), Carol (a LID the LID map resolves).
var (
	owner    = wt.PN("+15550000100")
	ownerLID = wt.LID("900000000100")
	ownerDev = types.JID{User: owner.User, Server: types.DefaultUserServer, Device: 0}
	alice    = wt.PN("+15550001111")
	aliceLID = wt.LID("900000001111")
	bobLID   = wt.LID("900000002222")
	carol    = wt.PN("+15550003333")
	carolLID = wt.LID("900000003333")
	when     = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
)

type lidMap map[types.JID]types.JID

func (m lidMap) GetPNForLID(_ context.Context, lid types.JID) (types.JID, error) {
	if pn, ok := m[lid]; ok {
		return pn, nil
	}
	return types.EmptyJID, nil
}

// media holds the plaintext of the files the tests' messages point to.
var media = map[string][]byte{
	"/v/photo": []byte("JPEG DATA"), "/v/video": []byte("MP4 DATA"), "/v/voice": []byte("OGG OPUS DATA"),
	"/v/song": []byte("MP3 DATA"), "/v/doc": []byte("%PDF-1.7"), "/v/sticker": []byte("RIFF WEBP"),
}

func env() convert.Env {
	return convert.Env{
		Account: "+15550000100",
		Users:   &waid.Mapper{Own: owner, OwnLID: ownerLID, LIDs: lidMap{carolLID: carol, aliceLID: alice}},
		Name: func(_ context.Context, jid types.JID) string {
			if jid == alice || jid == aliceLID {
				return "Alice"
			}
			return ""
		},
		Open: func(m whatsmeow.DownloadableMessage) func(context.Context) (io.ReadCloser, error) {
			return func(context.Context) (io.ReadCloser, error) {
				data, ok := media[m.GetDirectPath()]
				if !ok {
					return nil, errors.New("no such media")
				}
				return io.NopCloser(bytes.NewReader(data)), nil
			}
		},
	}
}

// group is a WhatsApp group the owner, Alice, Bob and Carol are in.
var group = types.NewJID("120363000000000001", types.GroupServer)

func inGroup(sender types.JID, id string) wt.Msg {
	return wt.Msg{Chat: group, Sender: sender, ID: id, Time: when}
}

func fromAlice(id string) wt.Msg { return wt.Msg{Chat: alice, ID: id, Time: when, PushName: "Alice"} }
func fromPhone(id string) wt.Msg {
	return wt.Msg{Chat: alice, Sender: ownerDev, FromMe: true, ID: id, Time: when}
}

func text(s string) *waE2E.Message { return &waE2E.Message{Conversation: proto.String(s)} }

func mediaFields(path string) (url, dp *string, key, enc, sum []byte) {
	return proto.String("https://mmg.whatsapp.net" + path), proto.String(path), []byte("k"), []byte("e"), []byte("s")
}

func image(caption string) *waE2E.Message {
	u, dp, k, e, s := mediaFields("/v/photo")
	return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{URL: u, DirectPath: dp, MediaKey: k, FileEncSHA256: e, FileSHA256: s,
		Mimetype: proto.String("image/jpeg"), FileLength: proto.Uint64(9), Caption: proto.String(caption)}}
}

// messageCases are whatsmeow message events and the golden file of what
// they become.
func messageCases() map[string]*events.Message {
	aliceBuilder := wt.Builder(alice)
	ownerBuilder := wt.Builder(owner)
	u, dp, k, e, s := mediaFields("/v/video")
	video := &waE2E.Message{VideoMessage: &waE2E.VideoMessage{URL: u, DirectPath: dp, MediaKey: k, FileEncSHA256: e, FileSHA256: s,
		Mimetype: proto.String("video/mp4"), FileLength: proto.Uint64(8), Caption: proto.String("look")}}
	u, dp, k, e, s = mediaFields("/v/voice")
	voice := &waE2E.Message{AudioMessage: &waE2E.AudioMessage{URL: u, DirectPath: dp, MediaKey: k, FileEncSHA256: e, FileSHA256: s,
		Mimetype: proto.String("audio/ogg; codecs=opus"), FileLength: proto.Uint64(13), PTT: proto.Bool(true), Seconds: proto.Uint32(3)}}
	u, dp, k, e, s = mediaFields("/v/song")
	song := &waE2E.Message{AudioMessage: &waE2E.AudioMessage{URL: u, DirectPath: dp, MediaKey: k, FileEncSHA256: e, FileSHA256: s,
		Mimetype: proto.String("audio/mpeg"), FileLength: proto.Uint64(8)}}
	u, dp, k, e, s = mediaFields("/v/doc")
	doc := &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{URL: u, DirectPath: dp, MediaKey: k, FileEncSHA256: e, FileSHA256: s,
		Mimetype: proto.String("application/pdf"), FileLength: proto.Uint64(8), FileName: proto.String("report 2026.pdf"),
		Caption: proto.String("the report")}}
	u, dp, k, e, s = mediaFields("/v/sticker")
	sticker := &waE2E.Message{StickerMessage: &waE2E.StickerMessage{URL: u, DirectPath: dp, MediaKey: k, FileEncSHA256: e, FileSHA256: s,
		Mimetype: proto.String("image/webp"), FileLength: proto.Uint64(9)}}
	vcard := "BEGIN:VCARD\nVERSION:3.0\nFN:Dave\nTEL;type=CELL;waid=15550004444:+1 555 000 4444\nEND:VCARD"

	return map[string]*events.Message{
		"text":                         fromAlice("A1").Event(text("hello *world*")),
		"text_lid_with_alt":            wt.Msg{Chat: aliceLID, SenderAlt: alice, ID: "A2", Time: when}.Event(text("from a LID")),
		"text_lid_unknown":             wt.Msg{Chat: bobLID, ID: "B1", Time: when}.Event(text("who am I")),
		"text_lid_mapped":              wt.Msg{Chat: carolLID, ID: "C1", Time: when}.Event(text("mapped")),
		"text_ephemeral":               fromAlice("A3").Event(&waE2E.Message{EphemeralMessage: &waE2E.FutureProofMessage{Message: text("disappearing")}}),
		"text_from_phone":              fromPhone("P1").Event(text("sent from my phone")),
		"text_from_phone_lid":          wt.Msg{Chat: aliceLID, RecipientAlt: alice, Sender: ownerLID, FromMe: true, ID: "P2", Time: when}.Event(text("via LID")),
		"text_device_sent":             fromPhone("P3").Event(&waE2E.Message{DeviceSentMessage: &waE2E.DeviceSentMessage{DestinationJID: proto.String(alice.String()), Message: text("device sent")}}),
		"reply_to_mine":                fromAlice("A4").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("yes!"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("3EB0MINE"), Participant: proto.String(owner.String()), QuotedMessage: text("coffee?")}}}),
		"reply_to_theirs":              fromPhone("P4").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("agreed"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("A1"), Participant: proto.String(alice.String()), QuotedMessage: text("hello *world*")}}}),
		"reply_to_media":               fromAlice("A5").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("nice"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("3EB0PIC"), Participant: proto.String(ownerLID.String()), QuotedMessage: &waE2E.Message{ImageMessage: &waE2E.ImageMessage{}}}}}),
		"mention":                      fromAlice("A6").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("hi @15550000100"), ContextInfo: &waE2E.ContextInfo{MentionedJID: []string{owner.String()}}}}),
		"edit_by_contact":              fromAlice("A7").Event(aliceBuilder.BuildEdit(alice, "A1", text("hello world (edited)"))),
		"edit_from_phone":              fromPhone("P5").Event(ownerBuilder.BuildEdit(alice, "P1", text("fixed typo"))),
		"revoke_by_contact":            fromAlice("A8").Event(aliceBuilder.BuildRevoke(owner, types.EmptyJID, "A1")),
		"revoke_from_phone":            fromPhone("P6").Event(ownerBuilder.BuildRevoke(alice, types.EmptyJID, "P1")),
		"reaction_to_mine":             fromAlice("A9").Event(aliceBuilder.BuildReaction(owner, owner, "3EB0MINE", "👍")),
		"reaction_to_theirs":           fromAlice("A10").Event(aliceBuilder.BuildReaction(owner, alice, "A1", "❤️")),
		"reaction_removed":             fromAlice("A11").Event(aliceBuilder.BuildReaction(owner, owner, "3EB0MINE", "")),
		"reaction_from_phone":          fromPhone("P7").Event(ownerBuilder.BuildReaction(alice, alice, "A1", "😂")),
		"image":                        fromAlice("A12").Event(image("our cat")),
		"image_reply":                  fromAlice("A13").Event(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/v/photo"), Mimetype: proto.String("image/png"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("3EB0MINE"), Participant: proto.String(owner.String()), QuotedMessage: text("send a picture")}}}),
		"video":                        fromAlice("A14").Event(video),
		"voice":                        fromAlice("A15").Event(voice),
		"audio":                        fromAlice("A16").Event(song),
		"document":                     fromAlice("A17").Event(&waE2E.Message{DocumentWithCaptionMessage: &waE2E.FutureProofMessage{Message: doc}}),
		"sticker":                      fromAlice("A18").Event(sticker),
		"media_expired":                fromAlice("A19").Event(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/v/gone"), Mimetype: proto.String("image/jpeg")}}),
		"location":                     fromAlice("A20").Event(&waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(52.520008), DegreesLongitude: proto.Float64(13.404954), Name: proto.String("Fernsehturm"), Address: proto.String("Panoramastraße 1A, Berlin")}}),
		"location_live":                fromAlice("A21").Event(&waE2E.Message{LiveLocationMessage: &waE2E.LiveLocationMessage{DegreesLatitude: proto.Float64(-33.8568), DegreesLongitude: proto.Float64(151.2153), Caption: proto.String("on my way")}}),
		"contact_card":                 fromAlice("A22").Event(&waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String("Dave"), Vcard: proto.String(vcard)}}),
		"contact_cards":                fromAlice("A23").Event(&waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{Contacts: []*waE2E.ContactMessage{{DisplayName: proto.String("Dave"), Vcard: proto.String(vcard)}, {DisplayName: proto.String("Eve/Work"), Vcard: proto.String("BEGIN:VCARD\nFN:Eve\nEND:VCARD")}}}}),
		"poll":                         fromAlice("A24").Event(&waE2E.Message{PollCreationMessageV3: &waE2E.PollCreationMessage{Name: proto.String("Lunch?"), Options: []*waE2E.PollCreationMessage_Option{{OptionName: proto.String("Pizza")}, {OptionName: proto.String("Sushi")}}, SelectableOptionsCount: proto.Uint32(1)}}),
		"poll_multi":                   fromAlice("A25").Event(&waE2E.Message{PollCreationMessage: &waE2E.PollCreationMessage{Name: proto.String("Which days?"), Options: []*waE2E.PollCreationMessage_Option{{OptionName: proto.String("Mon")}, {OptionName: proto.String("Tue")}, {OptionName: proto.String("Wed")}}}}),
		"poll_vote":                    fromAlice("A26").Event(&waE2E.Message{PollUpdateMessage: &waE2E.PollUpdateMessage{PollCreationMessageKey: &waCommon.MessageKey{ID: proto.String("A24")}}}),
		"view_once":                    fromAlice("A27").Event(&waE2E.Message{ViewOnceMessageV2: &waE2E.FutureProofMessage{Message: image("secret")}}),
		"buttons_content_only":         fromAlice("A28").Event(&waE2E.Message{ButtonsMessage: &waE2E.ButtonsMessage{ContentText: proto.String("pick one")}}),
		"key_distribution":             fromAlice("A29").Event(&waE2E.Message{SenderKeyDistributionMessage: &waE2E.SenderKeyDistributionMessage{GroupID: proto.String("x")}}),
		"protocol_ephemeral":           fromAlice("A30").Event(&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_EPHEMERAL_SETTING.Enum(), EphemeralExpiration: proto.Uint32(86400)}}),
		"protocol_revoke_default_type": fromAlice("A31").Event(&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Key: &waCommon.MessageKey{ID: proto.String("A1"), FromMe: proto.Bool(true), RemoteJID: proto.String(owner.String())}}}),
		"group":                        wt.Msg{Chat: group, Sender: alice, ID: "G1", Time: when}.Event(text("group chat")),
		"group_lid_sender":             inGroup(aliceLID, "G2").Event(text("from a LID")),
		"group_lid_unknown":            inGroup(bobLID, "G3").Event(text("who am I")),
		"group_from_phone":             wt.Msg{Chat: group, Sender: ownerDev, FromMe: true, ID: "P20", Time: when}.Event(text("mine")),
		"group_reply_to_member":        inGroup(alice, "G4").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("right"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("G3"), Participant: proto.String(bobLID.String()), QuotedMessage: text("who am I")}}}),
		"group_reply_to_mine":          inGroup(alice, "G5").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("yes"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("P20"), Participant: proto.String(ownerLID.String()), QuotedMessage: text("mine")}}}),
		"group_mention_lids": inGroup(aliceLID, "G7").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
			Text:        proto.String("@900000000100 and @900000002222: ask @9000000033334 or @900000003333, @900000003333!"),
			ContextInfo: &waE2E.ContextInfo{MentionedJID: []string{ownerLID.String(), bobLID.String(), carolLID.String()}}}}),
		"image_caption_mention": inGroup(aliceLID, "G8").Event(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			Caption: proto.String("@900000003333 in the photo"), Mimetype: proto.String("image/jpeg"),
			ContextInfo: &waE2E.ContextInfo{MentionedJID: []string{carolLID.String()}}}}),
		"group_mention":             inGroup(alice, "G6").Event(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("@900000003333 look"), ContextInfo: &waE2E.ContextInfo{MentionedJID: []string{carolLID.String()}}}}),
		"group_edit_by_member":      inGroup(alice, "G7").Event(aliceBuilder.BuildEdit(group, "G1", text("group chat (edited)"))),
		"group_revoke_by_member":    inGroup(alice, "G8").Event(aliceBuilder.BuildRevoke(group, types.EmptyJID, "G1")),
		"group_revoke_by_admin":     inGroup(alice, "G9").Event(aliceBuilder.BuildRevoke(group, bobLID, "G3")),
		"group_revoke_from_phone":   wt.Msg{Chat: group, Sender: ownerDev, FromMe: true, ID: "P21", Time: when}.Event(ownerBuilder.BuildRevoke(group, types.EmptyJID, "P20")),
		"group_reaction_to_member":  inGroup(alice, "G10").Event(aliceBuilder.BuildReaction(group, carolLID, "C1", "👍")),
		"group_reaction_to_mine":    inGroup(alice, "G11").Event(aliceBuilder.BuildReaction(group, owner, "P20", "❤️")),
		"group_reaction_from_phone": wt.Msg{Chat: group, Sender: ownerDev, FromMe: true, ID: "P22", Time: when}.Event(ownerBuilder.BuildReaction(group, alice, "G1", "😂")),
		"status":                    wt.Msg{Chat: types.StatusBroadcastJID, Sender: alice, ID: "S1", Time: when}.Event(text("my status")),
		"broadcast_list":            wt.Msg{Chat: types.NewJID("1234567890", types.BroadcastServer), Sender: alice, ID: "BC1", Time: when}.Event(text("to my list")),
	}
}

func TestMessageGolden(t *testing.T) {
	ctx := context.Background()
	used := map[string]bool{}
	dir := filepath.Join("testdata", "inbound")
	for name, evt := range messageCases() {
		t.Run(name, func(t *testing.T) {
			ev, err := convert.Message(ctx, env(), evt)
			used[name+".golden"] = true
			wt.Golden(t, filepath.Join(dir, name+".golden"), render(t, ev, err), *update)
		})
	}
	for name, got := range otherCases(t) {
		used[name+".golden"] = true
		t.Run(name, func(t *testing.T) {
			wt.Golden(t, filepath.Join(dir, name+".golden"), got, *update)
		})
	}
	if !*update {
		wt.UnusedGoldens(t, dir, used)
	}
}

// render shows a conversion result: the event, or why it was skipped.
func render(t *testing.T, ev event.Event, err error) []byte {
	t.Helper()
	var sk *convert.Skipped
	switch {
	case errors.As(err, &sk):
		return []byte(fmt.Sprintf("skipped: %s\n", sk.Reason))
	case err != nil:
		t.Fatalf("conversion failed: %v", err)
	case ev == nil:
		t.Fatal("no event and no error")
	}
	out, err := wt.EventJSON(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// otherCases convert receipts, typing, presence, calls and undecryptable
// messages.
func otherCases(t *testing.T) map[string][]byte {
	ctx := context.Background()
	out := map[string][]byte{}
	receipt := func(name string, src types.MessageSource, typ types.ReceiptType, ids ...types.MessageID) {
		r, err := convert.Receipt(ctx, env(), &events.Receipt{MessageSource: src, MessageIDs: ids, Timestamp: when, Type: typ})
		out[name] = render(t, eventOrNil(r), err)
	}
	receipt("receipt_delivered", fromAlice("").Source(), types.ReceiptTypeDelivered, "3EB0MINE1", "3EB0MINE2")
	receipt("receipt_read", fromAlice("").Source(), types.ReceiptTypeRead, "3EB0MINE1")
	receipt("receipt_read_lid", wt.Msg{Chat: aliceLID, SenderAlt: alice}.Source(), types.ReceiptTypeRead, "3EB0MINE3")
	receipt("receipt_played", fromAlice("").Source(), types.ReceiptTypePlayed, "3EB0VOICE")
	receipt("receipt_read_self", fromPhone("").Source(), types.ReceiptTypeReadSelf, "A1", "A2")
	receipt("receipt_read_on_phone", fromPhone("").Source(), types.ReceiptTypeRead, "A1")
	receipt("receipt_sender", fromPhone("").Source(), types.ReceiptTypeSender, "3EB0MINE1")
	receipt("receipt_retry", fromAlice("").Source(), types.ReceiptTypeRetry, "3EB0MINE1")
	receipt("receipt_group", inGroup(alice, "").Source(), types.ReceiptTypeRead, "3EB0MINE1")
	receipt("receipt_group_delivered", inGroup(aliceLID, "").Source(), types.ReceiptTypeDelivered, "3EB0MINE1")
	receipt("receipt_group_own", wt.Msg{Chat: group, Sender: ownerDev, FromMe: true}.Source(), types.ReceiptTypeRead, "G1")

	typing := func(name string, src types.MessageSource, state types.ChatPresence, m types.ChatPresenceMedia) {
		cs, err := convert.ChatPresence(ctx, env(), &events.ChatPresence{MessageSource: src, State: state, Media: m})
		if cs != nil {
			cs.Time = when
		}
		out[name] = render(t, eventOrNil(cs), err)
	}
	typing("chatpresence_composing", fromAlice("").Source(), types.ChatPresenceComposing, types.ChatPresenceMediaText)
	typing("chatpresence_recording", fromAlice("").Source(), types.ChatPresenceComposing, types.ChatPresenceMediaAudio)
	typing("chatpresence_paused", wt.Msg{Chat: aliceLID, SenderAlt: alice}.Source(), types.ChatPresencePaused, "")
	typing("chatpresence_group", inGroup(alice, "").Source(), types.ChatPresenceComposing, types.ChatPresenceMediaText)
	typing("chatpresence_group_own", wt.Msg{Chat: group, Sender: ownerDev, FromMe: true}.Source(), types.ChatPresenceComposing, types.ChatPresenceMediaText)

	presence := func(name string, evt *events.Presence) {
		p, err := convert.Presence(ctx, env(), evt, when)
		out[name] = render(t, eventOrNil(p), err)
	}
	presence("presence_online", &events.Presence{From: alice})
	presence("presence_last_seen_lid", &events.Presence{From: aliceLID, Unavailable: true, LastSeen: when.Add(-90 * time.Minute)})
	presence("presence_hidden_last_seen", &events.Presence{From: alice, Unavailable: true})
	presence("presence_lid_unknown", &events.Presence{From: bobLID})

	call := func(name string, meta types.BasicCallMeta, media string) {
		m, err := convert.CallNotice(ctx, env(), meta, media)
		out[name] = render(t, eventOrNil(m), err)
	}
	call("call_offer", types.BasicCallMeta{From: alice, CallCreator: alice, CallID: "CALL1", Timestamp: when}, "")
	call("call_offer_video_lid", types.BasicCallMeta{From: bobLID, CallCreator: bobLID, CallID: "CALL2", Timestamp: when}, "video")
	call("call_offer_group", types.BasicCallMeta{From: aliceLID, CallCreator: aliceLID, CallCreatorAlt: alice, CallID: "CALL3",
		Timestamp: when, GroupJID: types.NewJID("120363000000000001", types.GroupServer)}, "audio")

	undec := func(name string, evt *events.UndecryptableMessage) {
		m, err := convert.UndecryptableNotice(ctx, env(), evt)
		out[name] = render(t, eventOrNil(m), err)
	}
	undec("undecryptable", &events.UndecryptableMessage{Info: fromAlice("A40").Info()})
	undec("undecryptable_hidden", &events.UndecryptableMessage{Info: fromAlice("A41").Info(), DecryptFailMode: events.DecryptFailHide})
	undec("undecryptable_view_once", &events.UndecryptableMessage{Info: fromAlice("A42").Info(), IsUnavailable: true, UnavailableType: events.UnavailableTypeViewOnce})
	undec("undecryptable_from_phone", &events.UndecryptableMessage{Info: fromPhone("P40").Info(), IsUnavailable: true})
	return out
}

// eventOrNil turns a typed nil into a nil interface.
func eventOrNil[T interface {
	*event.Receipt | *event.ChatState | *event.Presence | *event.Message
	event.Event
}](e T) event.Event {
	if e == nil {
		return nil
	}
	return e
}
