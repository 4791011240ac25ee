// Package convert turns WhatsApp's messages (whatsmeow events and waE2E
// protobufs) into the hub's neutral events and back. It does no I/O: the
// session hands it what it needs through Env (the JID mapping, contact
// names, a way to download media later).
package convert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Env is what conversion needs from the session of one linked account.
type Env struct {
	// Account is the linked account.
	Account ids.AccountID
	// Users maps JIDs to UserIDs.
	Users *waid.Mapper
	// Name returns the best known display name of a user ("" if none).
	// Nil: notices name users by their UserID.
	Name func(ctx context.Context, jid types.JID) string
	// Open returns the Attachment.Open of a media message (it downloads
	// through the client). Nil leaves Open unset.
	Open func(media whatsmeow.DownloadableMessage) func(ctx context.Context) (io.ReadCloser, error)
}

// Skipped explains why an event produced nothing for the hub.
type Skipped struct{ Reason string }

// Error implements error.
func (s *Skipped) Error() string { return "skipped: " + s.Reason }

func skip(format string, args ...any) *Skipped {
	return &Skipped{Reason: fmt.Sprintf(format, args...)}
}

// DirectChat returns the one-to-one chat and the sender of a message
// source, or a *Skipped for other chats (groups: see Chat; status updates,
// newsletters).
func DirectChat(ctx context.Context, env Env, src types.MessageSource) (chat ids.ChatID, sender ids.UserID, err error) {
	switch {
	case src.Chat == types.StatusBroadcastJID:
		return "", "", skip("status update")
	case src.Chat.Server == types.GroupServer || (src.IsGroup && !src.Chat.IsBroadcastList()):
		return "", "", skip("a group, not a one-to-one chat")
	case src.Chat.Server == types.NewsletterServer:
		return "", "", skip("channels (newsletters) are not bridged")
	}
	own := ids.UserID(env.Account)
	if src.IsFromMe {
		sender = own
		if src.Chat.IsBroadcastList() {
			return "", "", skip("message to a broadcast list")
		}
		chat = env.Users.ChatID(ctx, src.Chat, src.RecipientAlt)
	} else {
		sender = env.Users.UserID(ctx, src.Sender, src.SenderAlt)
		if src.Chat.IsBroadcastList() {
			// An incoming broadcast shows in the direct chat with its sender.
			chat = ids.DirectChat(sender)
		} else {
			chat = env.Users.ChatID(ctx, src.Chat, src.SenderAlt)
		}
	}
	if chat == "" || chat == ids.ChatID(own) && !src.IsFromMe {
		return "", "", skip("message without a usable chat")
	}
	return chat, sender, nil
}

// Chat returns the chat and the sender of a message source: a group
// ("group-<id>", the sender being the participant who wrote) or a
// one-to-one chat as DirectChat gives it.
func Chat(ctx context.Context, env Env, src types.MessageSource) (chat ids.ChatID, sender ids.UserID, err error) {
	if src.Chat.Server != types.GroupServer {
		return DirectChat(ctx, env, src)
	}
	chat = GroupChat(ctx, env, src.Chat)
	if src.IsFromMe {
		sender = ids.UserID(env.Account)
	} else {
		sender = env.Users.UserID(ctx, src.Sender, src.SenderAlt)
	}
	if sender == "" {
		return "", "", skip("group message without a sender")
	}
	return chat, sender, nil
}

// meta builds the Meta of a message event.
func meta(ctx context.Context, env Env, info *types.MessageInfo) (event.Meta, error) {
	chat, sender, err := Chat(ctx, env, info.MessageSource)
	if err != nil {
		return event.Meta{}, err
	}
	ref := waid.MessageRef{ID: info.ID, FromMe: info.IsFromMe}
	if info.IsGroup && !info.IsFromMe {
		ref.Participant = sender
	}
	return event.Meta{
		Account: env.Account,
		Chat:    chat,
		Sender:  sender,
		FromMe:  info.IsFromMe,
		Time:    info.Timestamp,
		ID:      ref.MessageID(),
	}, nil
}

// MessageID is the MessageID of a received message of a one-to-one chat
// (in a group, the id also names the participant who wrote it).
func MessageID(info *types.MessageInfo) ids.MessageID {
	return waid.MessageRef{ID: info.ID, FromMe: info.IsFromMe}.MessageID()
}

// keyRef is the message a key of a revocation, edit or reaction names. In
// a group, a key without participant that its writer marked FromMe is the
// writer's own message.
func keyRef(ctx context.Context, env Env, key interface {
	GetID() string
	GetFromMe() bool
	GetParticipant() string
}, info *types.MessageInfo, sender ids.UserID) waid.MessageRef {
	ref := env.Users.KeyRef(ctx, key, info.IsFromMe, info.IsGroup)
	if info.IsGroup && !ref.FromMe && ref.Participant == "" && key.GetFromMe() && !info.IsFromMe {
		ref.Participant = sender
	}
	return ref
}

// Message converts a message event (unwrapped: evt.Message set, see
// events.Message.UnwrapRaw) into one neutral event: *event.Message,
// *event.Edit, *event.Retract or *event.Reaction. Messages that carry
// nothing to show (key distribution, history sync notifications, ...)
// and chats the gateway does not bridge give a *Skipped error.
func Message(ctx context.Context, env Env, evt *events.Message) (event.Event, error) {
	if evt == nil || evt.Message == nil {
		return nil, skip("empty message")
	}
	m, err := meta(ctx, env, &evt.Info)
	if err != nil {
		return nil, err
	}
	msg := evt.Message
	group := evt.Info.IsGroup

	// ProtocolMessage_REVOKE is the enum's zero value: GetType() is REVOKE
	// for every message without a ProtocolMessage. Check presence first.
	if pm := msg.GetProtocolMessage(); pm != nil {
		switch pm.GetType() {
		case waE2E.ProtocolMessage_REVOKE:
			if pm.GetKey() == nil {
				return nil, skip("revocation without a key")
			}
			target := keyRef(ctx, env, pm.GetKey(), &evt.Info, m.Sender)
			return &event.Retract{Meta: m, Target: target.MessageID()}, nil
		case waE2E.ProtocolMessage_MESSAGE_EDIT:
			if pm.GetKey() == nil || pm.GetEditedMessage() == nil {
				return nil, skip("edit without a key or content")
			}
			target := keyRef(ctx, env, pm.GetKey(), &evt.Info, m.Sender)
			return &event.Edit{Meta: m, Target: target.MessageID(), Body: Text(pm.GetEditedMessage())}, nil
		}
		return nil, skip("protocol message %s", pm.GetType())
	}
	if r := msg.GetReactionMessage(); r != nil {
		if r.GetKey() == nil {
			return nil, skip("reaction without a key")
		}
		target := keyRef(ctx, env, r.GetKey(), &evt.Info, m.Sender)
		emojis := []string{}
		if t := r.GetText(); t != "" {
			emojis = append(emojis, t)
		}
		return &event.Reaction{Meta: m, Target: target.MessageID(), Emojis: emojis}, nil
	}

	out := &event.Message{Meta: m}
	if evt.IsViewOnce {
		out.Body = fmt.Sprintf("[%s a view-once %s. View-once media is only shown on the phone.]",
			sentVerb(evt.Info.IsFromMe), mediaNoun(msg))
		return out, nil
	}
	if err := body(ctx, env, evt, out); err != nil {
		return nil, err
	}
	if ci := ContextInfoOf(msg); ci != nil {
		if id := ci.GetStanzaID(); id != "" {
			ref := env.Users.QuoteRef(ctx, id, ci.GetParticipant(), group)
			out.ReplyTo = ref.MessageID()
			switch {
			case ref.FromMe:
				out.ReplyToSender = ids.UserID(env.Account)
			case ci.GetParticipant() != "":
				if jid, err := types.ParseJID(ci.GetParticipant()); err == nil {
					out.ReplyToSender = env.Users.UserID(ctx, jid, types.EmptyJID)
				}
			case !group:
				out.ReplyToSender = ids.UserID(m.Chat)
			}
			if q := ci.GetQuotedMessage(); q != nil {
				out.ReplyQuote = Summary(q)
			}
		}
		out.Body, out.Mentions = Mentions(ctx, env, out.Body, ci.GetMentionedJID()) // mentions.go
	}
	return out, nil
}

// body fills the body and attachments of a content message.
func body(ctx context.Context, env Env, evt *events.Message, out *event.Message) error {
	msg := evt.Message
	id := evt.Info.ID
	switch {
	case msg.Conversation != nil:
		out.Body = msg.GetConversation()
	case msg.GetExtendedTextMessage() != nil:
		out.Body = msg.GetExtendedTextMessage().GetText()
	case msg.GetImageMessage() != nil:
		im := msg.GetImageMessage()
		out.Body = im.GetCaption()
		out.Attachments = append(out.Attachments, attachment(env, im, event.KindImage, im.GetMimetype(), "", im.GetFileLength(), id))
	case msg.GetVideoMessage() != nil || msg.GetPtvMessage() != nil:
		vm := msg.GetVideoMessage()
		if vm == nil {
			vm = msg.GetPtvMessage()
		}
		out.Body = vm.GetCaption()
		out.Attachments = append(out.Attachments, attachment(env, vm, event.KindVideo, vm.GetMimetype(), "", vm.GetFileLength(), id))
	case msg.GetAudioMessage() != nil:
		am := msg.GetAudioMessage()
		kind := event.KindAudio
		if am.GetPTT() {
			kind = event.KindVoice
		}
		out.Attachments = append(out.Attachments, attachment(env, am, kind, am.GetMimetype(), "", am.GetFileLength(), id))
	case msg.GetDocumentMessage() != nil:
		dm := msg.GetDocumentMessage()
		out.Body = dm.GetCaption()
		name := dm.GetFileName()
		if name == "" {
			name = dm.GetTitle()
		}
		out.Attachments = append(out.Attachments, attachment(env, dm, event.KindFile, dm.GetMimetype(), name, dm.GetFileLength(), id))
	case msg.GetStickerMessage() != nil:
		sm := msg.GetStickerMessage()
		out.Attachments = append(out.Attachments, attachment(env, sm, event.KindSticker, sm.GetMimetype(), "", sm.GetFileLength(), id))
	case msg.GetLocationMessage() != nil:
		lm := msg.GetLocationMessage()
		out.Body = Location(lm.GetName(), lm.GetAddress(), lm.GetDegreesLatitude(), lm.GetDegreesLongitude(), false)
		if c := lm.GetComment(); c != "" {
			out.Body = c + "\n" + out.Body
		}
	case msg.GetLiveLocationMessage() != nil:
		lm := msg.GetLiveLocationMessage()
		out.Body = Location("", "", lm.GetDegreesLatitude(), lm.GetDegreesLongitude(), true)
		if c := lm.GetCaption(); c != "" {
			out.Body = c + "\n" + out.Body
		}
	case msg.GetContactMessage() != nil:
		cm := msg.GetContactMessage()
		out.Body = "Contact: " + cm.GetDisplayName()
		out.Attachments = append(out.Attachments, VCard(cm.GetDisplayName(), cm.GetVcard()))
	case msg.GetContactsArrayMessage() != nil:
		ca := msg.GetContactsArrayMessage()
		names := make([]string, 0, len(ca.GetContacts()))
		for _, cm := range ca.GetContacts() {
			names = append(names, cm.GetDisplayName())
			out.Attachments = append(out.Attachments, VCard(cm.GetDisplayName(), cm.GetVcard()))
		}
		out.Body = "Contacts: " + strings.Join(names, ", ")
	case poll(msg) != nil:
		out.Body = Poll(poll(msg))
	case msg.GetPollUpdateMessage() != nil:
		return skip("poll vote (votes are encrypted and not shown)")
	case msg.GetAlbumMessage() != nil:
		return skip("album header (its photos and videos follow as messages of their own)")
	default:
		if text := BusinessText(msg); text != "" { // richmsg.go
			out.Body = text
			return nil
		}
		if kind := unsupportedKind(msg); kind != "" {
			out.Body = fmt.Sprintf("[%s a WhatsApp %s, which the gateway cannot show. Open WhatsApp on your phone to see it.]",
				sentVerb(evt.Info.IsFromMe), kind)
			return nil
		}
		return skip("nothing to show")
	}
	return nil
}

func sentVerb(fromMe bool) string {
	if fromMe {
		return "You sent"
	}
	return "This contact sent"
}

// poll returns the poll a message creates, of any version.
func poll(msg *waE2E.Message) *waE2E.PollCreationMessage {
	for _, p := range []*waE2E.PollCreationMessage{
		msg.GetPollCreationMessage(), msg.GetPollCreationMessageV2(),
		msg.GetPollCreationMessageV3(), msg.GetPollCreationMessageV5(),
	} {
		if p != nil {
			return p
		}
	}
	if p := msg.GetPollCreationMessageV4().GetMessage(); p != nil {
		return poll(p)
	}
	return nil
}

// Poll renders a poll as text.
func Poll(p *waE2E.PollCreationMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Poll: %s\n", p.GetName())
	for i, o := range p.GetOptions() {
		fmt.Fprintf(&b, "%d. %s\n", i+1, o.GetOptionName())
	}
	switch n := p.GetSelectableOptionsCount(); n {
	case 0:
		b.WriteString("(Vote on your phone; several choices allowed.)")
	case 1:
		b.WriteString("(Vote on your phone; one choice.)")
	default:
		fmt.Fprintf(&b, "(Vote on your phone; up to %d choices.)", n)
	}
	return b.String()
}

// Location renders a place as text ending with a geo: URI (RFC 5870).
func Location(name, address string, lat, lon float64, live bool) string {
	var lines []string
	if live {
		lines = append(lines, "Live location (follow it on your phone):")
	}
	for _, s := range []string{name, address} {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	lines = append(lines, GeoURI(lat, lon))
	return strings.Join(lines, "\n")
}

// GeoURI is the geo: URI of a point.
func GeoURI(lat, lon float64) string {
	return "geo:" + strconv.FormatFloat(lat, 'f', -1, 64) + "," + strconv.FormatFloat(lon, 'f', -1, 64)
}

// VCard is a contact card as a file attachment.
func VCard(name, card string) event.Attachment {
	data := []byte(card)
	file := fileSafe(name)
	if file == "" {
		file = "contact"
	}
	return event.Attachment{
		Name:     file + ".vcf",
		MIMEType: "text/vcard",
		Size:     int64(len(data)),
		Kind:     event.KindFile,
		Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		},
	}
}

// fileSafe keeps a name usable as a file name.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, strings.ContainsRune(`/\:*?"<>|`, r):
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
}

// attachment describes a media message as an Attachment.
func attachment(env Env, media whatsmeow.DownloadableMessage, kind event.AttachmentKind, mimeType, name string, size uint64, id types.MessageID) event.Attachment {
	if mimeType == "" {
		mimeType = defaultMIME[kind]
	}
	if name == "" {
		name = string(kind) + "-" + id + Extension(mimeType)
	}
	a := event.Attachment{Name: fileSafe(name), MIMEType: mimeType, Size: int64(size), Kind: kind}
	if env.Open != nil {
		a.Open = env.Open(media)
	}
	return a
}

var defaultMIME = map[event.AttachmentKind]string{
	event.KindImage:   "image/jpeg",
	event.KindVideo:   "video/mp4",
	event.KindAudio:   "audio/mpeg",
	event.KindVoice:   "audio/ogg; codecs=opus",
	event.KindSticker: "image/webp",
	event.KindFile:    "application/octet-stream",
}

var extensions = map[string]string{
	"image/jpeg":       ".jpg",
	"image/png":        ".png",
	"image/webp":       ".webp",
	"image/gif":        ".gif",
	"video/mp4":        ".mp4",
	"video/3gpp":       ".3gp",
	"audio/ogg":        ".ogg",
	"audio/mpeg":       ".mp3",
	"audio/mp4":        ".m4a",
	"audio/aac":        ".aac",
	"audio/amr":        ".amr",
	"application/pdf":  ".pdf",
	"text/vcard":       ".vcf",
	"text/plain":       ".txt",
	"application/zip":  ".zip",
	"application/json": ".json",
}

// Extension returns a file extension for a MIME type (".bin" if unknown).
func Extension(mimeType string) string {
	base, _, _ := strings.Cut(mimeType, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	if ext, ok := extensions[base]; ok {
		return ext
	}
	if exts, err := mime.ExtensionsByType(base); err == nil && len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

// ContextInfoOf returns the ContextInfo of a message's content, if any.
func ContextInfoOf(msg *waE2E.Message) *waE2E.ContextInfo {
	for _, ci := range []*waE2E.ContextInfo{
		msg.GetExtendedTextMessage().GetContextInfo(),
		msg.GetImageMessage().GetContextInfo(),
		msg.GetVideoMessage().GetContextInfo(),
		msg.GetPtvMessage().GetContextInfo(),
		msg.GetAudioMessage().GetContextInfo(),
		msg.GetDocumentMessage().GetContextInfo(),
		msg.GetStickerMessage().GetContextInfo(),
		msg.GetLocationMessage().GetContextInfo(),
		msg.GetLiveLocationMessage().GetContextInfo(),
		msg.GetContactMessage().GetContextInfo(),
		msg.GetContactsArrayMessage().GetContextInfo(),
		poll(msg).GetContextInfo(),
		msg.GetTemplateMessage().GetContextInfo(),
		msg.GetButtonsMessage().GetContextInfo(),
		msg.GetListMessage().GetContextInfo(),
		msg.GetInteractiveMessage().GetContextInfo(),
		msg.GetButtonsResponseMessage().GetContextInfo(),
		msg.GetTemplateButtonReplyMessage().GetContextInfo(),
		msg.GetListResponseMessage().GetContextInfo(),
		msg.GetInteractiveResponseMessage().GetContextInfo(),
	} {
		if ci != nil {
			return ci
		}
	}
	return nil
}

// Text returns the text of a message: its body or caption ("" if none).
func Text(msg *waE2E.Message) string {
	switch {
	case msg.Conversation != nil:
		return msg.GetConversation()
	case msg.GetExtendedTextMessage() != nil:
		return msg.GetExtendedTextMessage().GetText()
	case msg.GetImageMessage() != nil:
		return msg.GetImageMessage().GetCaption()
	case msg.GetVideoMessage() != nil:
		return msg.GetVideoMessage().GetCaption()
	case msg.GetDocumentMessage() != nil:
		return msg.GetDocumentMessage().GetCaption()
	}
	return ""
}

// Summary is a short text standing for a message, for reply fallbacks.
func Summary(msg *waE2E.Message) string {
	if t := Text(msg); t != "" {
		return t
	}
	switch {
	case msg.GetImageMessage() != nil:
		return "[photo]"
	case msg.GetVideoMessage() != nil, msg.GetPtvMessage() != nil:
		return "[video]"
	case msg.GetAudioMessage() != nil:
		if msg.GetAudioMessage().GetPTT() {
			return "[voice message]"
		}
		return "[audio]"
	case msg.GetDocumentMessage() != nil:
		return "[file " + msg.GetDocumentMessage().GetFileName() + "]"
	case msg.GetStickerMessage() != nil:
		return "[sticker]"
	case msg.GetLocationMessage() != nil, msg.GetLiveLocationMessage() != nil:
		return "[location]"
	case msg.GetContactMessage() != nil, msg.GetContactsArrayMessage() != nil:
		return "[contact]"
	case poll(msg) != nil:
		return "[poll " + poll(msg).GetName() + "]"
	}
	if t := BusinessText(msg); t != "" {
		return t
	}
	return "[message]"
}

// mediaNoun names the media of a view-once message.
func mediaNoun(msg *waE2E.Message) string {
	switch {
	case msg.GetImageMessage() != nil:
		return "photo"
	case msg.GetVideoMessage() != nil:
		return "video"
	case msg.GetAudioMessage() != nil:
		return "voice message"
	}
	return "message"
}

// unsupportedKind names visible message kinds the gateway cannot render;
// "" for messages that carry nothing to show.
func unsupportedKind(msg *waE2E.Message) string {
	switch {
	case msg.GetButtonsMessage() != nil, msg.GetTemplateMessage() != nil,
		msg.GetInteractiveMessage() != nil, msg.GetHighlyStructuredMessage() != nil:
		return "message with buttons"
	case msg.GetListMessage() != nil:
		return "list message"
	case msg.GetButtonsResponseMessage() != nil, msg.GetListResponseMessage() != nil,
		msg.GetTemplateButtonReplyMessage() != nil, msg.GetInteractiveResponseMessage() != nil:
		return "button reply"
	case msg.GetSendPaymentMessage() != nil, msg.GetRequestPaymentMessage() != nil,
		msg.GetPaymentInviteMessage() != nil, msg.GetInvoiceMessage() != nil:
		return "payment"
	case msg.GetOrderMessage() != nil, msg.GetProductMessage() != nil:
		return "order or product"
	case msg.GetGroupInviteMessage() != nil:
		return "group invitation"
	case msg.GetEventMessage() != nil:
		return "event"
	case msg.GetScheduledCallCreationMessage() != nil:
		return "scheduled call"
	case msg.GetStickerPackMessage() != nil:
		return "sticker pack"
	}
	return ""
}

// Receipt converts a receipt about messages of a one-to-one chat or a
// member's receipt of the owner's messages in a group. Receipts the hub
// has no use for (retries, "sender" receipts of the owner's own devices,
// the owner's own in groups) give a *Skipped error.
func Receipt(ctx context.Context, env Env, evt *events.Receipt) (*event.Receipt, error) {
	var kind event.ReceiptKind
	switch evt.Type {
	case types.ReceiptTypeDelivered:
		if evt.IsFromMe {
			return nil, skip("delivery to another device of the owner")
		}
		kind = event.Delivered
	case types.ReceiptTypeRead, types.ReceiptTypeReadSelf, types.ReceiptTypePlayed:
		kind = event.Displayed
	default:
		return nil, skip("receipt of type %q", evt.Type)
	}
	chat, sender, group, err := receiptChat(ctx, env, evt.MessageSource)
	if err != nil {
		return nil, err
	}
	r := &event.Receipt{
		Meta: event.Meta{Account: env.Account, Chat: chat, Sender: sender, FromMe: evt.IsFromMe, Time: evt.Timestamp, Group: group},
		Kind: kind,
	}
	for _, id := range evt.MessageIDs {
		// A contact's receipt is about the owner's messages; the owner's
		// own (read on the phone) about the contact's.
		r.Targets = append(r.Targets, waid.MessageRef{ID: id, FromMe: !evt.IsFromMe}.MessageID())
	}
	if len(r.Targets) == 0 {
		return nil, skip("receipt without messages")
	}
	return r, nil
}

// ChatPresence converts a typing notification, of a contact or of a group
// member.
func ChatPresence(ctx context.Context, env Env, evt *events.ChatPresence) (*event.ChatState, error) {
	if evt.IsFromMe {
		return nil, skip("the owner's own typing")
	}
	chat, sender, group, err := receiptChat(ctx, env, evt.MessageSource)
	if err != nil {
		return nil, err
	}
	state := event.Paused
	if evt.State == types.ChatPresenceComposing {
		state = event.Composing
	}
	return &event.ChatState{Meta: event.Meta{Account: env.Account, Chat: chat, Sender: sender, Time: time.Now(), Group: group}, State: state}, nil
}

// receiptChat is the chat and sender of a receipt or typing notification:
// DirectChat's, or in a group the group and the member (group reports
// whether it is one). The owner's own in a group are skipped: read on the
// phone is handled apart, and the owner does not type to themselves.
func receiptChat(ctx context.Context, env Env, src types.MessageSource) (chat ids.ChatID, sender ids.UserID, group bool, err error) {
	if src.Chat.Server != types.GroupServer {
		chat, sender, err = DirectChat(ctx, env, src)
		return chat, sender, false, err
	}
	if src.IsFromMe {
		return "", "", false, skip("the owner's own receipt or typing in a group")
	}
	chat = GroupChat(ctx, env, src.Chat)
	sender = env.Users.UserID(ctx, src.Sender, src.SenderAlt)
	if chat == "" || sender == "" {
		return "", "", false, skip("group receipt or typing without a usable chat or member")
	}
	return chat, sender, true, nil
}

// Presence converts a contact's availability ("last seen").
func Presence(ctx context.Context, env Env, evt *events.Presence, now time.Time) (*event.Presence, error) {
	if evt.From.Server == types.GroupServer {
		return nil, skip("group presence")
	}
	user := env.Users.UserID(ctx, evt.From, types.EmptyJID)
	if user == ids.UserID(env.Account) {
		return nil, skip("the owner's own presence")
	}
	p := &event.Presence{
		Meta:      event.Meta{Account: env.Account, Chat: ids.DirectChat(user), Sender: user, Time: now},
		Available: !evt.Unavailable,
		LastSeen:  evt.LastSeen,
	}
	if evt.Unavailable {
		p.Show = "away"
	}
	return p, nil
}

// CallNotice is the message that tells the owner about a call offer.
func CallNotice(ctx context.Context, env Env, meta types.BasicCallMeta, media string) (*event.Message, error) {
	from := meta.From
	if !meta.CallCreator.IsEmpty() {
		from = meta.CallCreator
	}
	if from.Server == types.GroupServer {
		return nil, skip("call without a caller")
	}
	user := env.Users.UserID(ctx, from, meta.CallCreatorAlt)
	who := string(user)
	if env.Name != nil {
		if n := env.Name(ctx, from); n != "" {
			who = n + " (" + string(user) + ")"
		}
	}
	kind := "call"
	if media == "video" {
		kind = "video call"
	}
	if !meta.GroupJID.IsEmpty() {
		kind = "group " + kind
	}
	return &event.Message{
		Meta: event.Meta{Account: env.Account, Chat: ids.DirectChat(user), Sender: user, Time: meta.Timestamp,
			ID: ids.MessageID("call-" + meta.CallID)},
		Body: fmt.Sprintf("Incoming WhatsApp %s from %s. Calls cannot be answered through the gateway; pick up on your phone.", kind, who),
	}, nil
}

// UndecryptableNotice is the message that tells the owner that a message
// could not be decrypted (whatsmeow has asked the sender and the phone to
// send it again). It has the message's own id, so that the message, when
// it arrives, corrects it. Messages WhatsApp marks as not worth showing
// give a *Skipped.
func UndecryptableNotice(ctx context.Context, env Env, evt *events.UndecryptableMessage) (*event.Message, error) {
	if evt.DecryptFailMode == events.DecryptFailHide {
		return nil, skip("undecryptable message WhatsApp hides")
	}
	m, err := meta(ctx, env, &evt.Info)
	if err != nil {
		return nil, err
	}
	body := "[A message could not be decrypted. WhatsApp has been asked to send it again; if it does not arrive, read it on your phone.]"
	if evt.IsUnavailable {
		if evt.UnavailableType == events.UnavailableTypeViewOnce {
			body = "[A view-once message was sent. View-once media is only shown on the phone.]"
		} else {
			body = "[A message is not available on this device yet; it may arrive later, or read it on your phone.]"
		}
	}
	return &event.Message{Meta: m, Body: body}, nil
}
