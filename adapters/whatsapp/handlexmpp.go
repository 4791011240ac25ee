package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// ready refuses work unless the session is connected.
func (s *Session) ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.phase {
	case sessConnected:
		return nil
	case sessLoggedOut:
		return fmt.Errorf("whatsapp: %s is logged out: %w", s.acct, gateway.ErrNotLinked)
	case sessSuperseded:
		return fmt.Errorf("whatsapp: this session of %s was replaced by a newer one: %w", s.acct, gateway.ErrUnavailable)
	}
	return fmt.Errorf("whatsapp: %s is not connected to WhatsApp: %w", s.acct, gateway.ErrUnavailable)
}

// chatJID checks what the hub says about a chat of this account and
// returns the chat's JID.
func (s *Session) chatJID(m *event.Meta) (types.JID, error) {
	if m.Account != "" && m.Account != s.acct {
		return types.EmptyJID, fmt.Errorf("whatsapp: event for account %s given to the session of %s: %w", m.Account, s.acct, gateway.ErrBadRequest)
	}
	if m.Chat == "" {
		return types.EmptyJID, fmt.Errorf("whatsapp: no chat given: %w", gateway.ErrBadRequest)
	}
	if waid.IsGroup(m.Chat) {
		return s.groupJID(m.Chat)
	}
	jid, err := waid.JID(string(m.Chat))
	if err != nil {
		return types.EmptyJID, fmt.Errorf("whatsapp: no WhatsApp contact %q: %w", m.Chat, err)
	}
	// Answer in the addressing WhatsApp uses for the chat (a LID or the
	// phone number), so that keys, receipts and typing match its messages.
	s.mu.Lock()
	addr, ok := s.chatAddr[m.Chat]
	s.mu.Unlock()
	if ok {
		return addr, nil
	}
	return jid, nil
}

// participantJID is the JID of a member of a group in the addressing
// WhatsApp last used for them there (a LID or the phone number), or else
// in the group's addressing mode (addressing.go).
func (s *Session) participantJID(ctx context.Context, chat ids.ChatID, user ids.UserID) (types.JID, error) {
	s.mu.Lock()
	addr, ok := s.memberAddr[memberKey{chat, user}]
	s.mu.Unlock()
	if ok {
		return addr, nil
	}
	jid, err := waid.JID(string(user))
	if err != nil {
		return jid, err
	}
	return s.memberAddress(ctx, chat, jid), nil
}

// rememberMember records the JID WhatsApp used for a member of a group.
func (s *Session) rememberMember(chat ids.ChatID, user ids.UserID, jid types.JID) {
	if user == "" || jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memberAddr == nil || len(s.memberAddr) >= chatAddrCap {
		s.memberAddr = map[memberKey]types.JID{}
	}
	s.memberAddr[memberKey{chat, user}] = jid.ToNonAD()
}

// memberKey names a member of a group.
type memberKey struct {
	chat ids.ChatID
	user ids.UserID
}

// ownFor is the owner's JID in the addressing of chat.
func (s *Session) ownFor(ctx context.Context, chat types.JID) types.JID {
	if s.users.OwnLID.IsEmpty() {
		return s.ownJID
	}
	if chat.Server == types.HiddenUserServer ||
		chat.Server == types.GroupServer && s.groupAddressing(ctx, chat) == types.AddressingModeLID {
		return s.users.OwnLID
	}
	return s.ownJID
}

// sendErr maps a whatsmeow send error to the hub's sentinels.
func sendErr(what string, err error) error {
	switch {
	case errors.Is(err, whatsmeow.ErrNotConnected), errors.Is(err, whatsmeow.ErrNotLoggedIn),
		errors.Is(err, whatsmeow.ErrIQDisconnected):
		return fmt.Errorf("whatsapp: %s: %w: %w", what, err, gateway.ErrUnavailable)
	case errors.Is(err, whatsmeow.ErrIQRateOverLimit):
		return fmt.Errorf("whatsapp: %s: %w: %w", what, err, gateway.ErrRateLimited)
	case errors.Is(err, whatsmeow.ErrUnknownServer), errors.Is(err, whatsmeow.ErrRecipientADJID),
		errors.Is(err, whatsmeow.ErrBroadcastListUnsupported):
		return fmt.Errorf("whatsapp: %s: %w: %w", what, err, gateway.ErrUnknownChat)
	}
	return fmt.Errorf("whatsapp: %s: %w", what, err)
}

// send sends one message with an id chosen beforehand (so that receipts
// arriving before SendMessage returns already name it) and remembers when.
func (s *Session) send(ctx context.Context, to types.JID, msg *waE2E.Message, what string) (types.MessageID, error) {
	id := s.c.client.GenerateMessageID()
	msg = s.withTimer(ctx, to, msg) // disappearing.go
	resp, err := s.c.client.SendMessage(ctx, to, msg, whatsmeow.SendRequestExtra{ID: id})
	if err != nil {
		return "", sendErr(what, err)
	}
	at := resp.Timestamp
	if at.IsZero() {
		at = s.a.now()
	}
	s.mu.Lock()
	s.sent.put(id, at)
	s.mu.Unlock()
	return id, nil
}

// SendMessage implements gateway.Session. The body travels as text, or as
// the caption of the first attachment; each attachment is uploaded and sent
// as the WhatsApp message its kind and MIME type call for (a document when
// nothing else fits, see convert.PlanMedia). The returned id is that of
// the first message sent. A reply quotes msg.ReplyTo; mentions are passed
// on.
func (s *Session) SendMessage(ctx context.Context, msg *event.Message) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if msg == nil {
		return "", fmt.Errorf("whatsapp: no message: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return "", err
	}
	to, err := s.chatJID(&msg.Meta)
	if err != nil {
		return "", err
	}
	switch {
	case strings.TrimSpace(msg.Body) == "" && len(msg.Attachments) == 0:
		return "", fmt.Errorf("whatsapp: empty message: %w", gateway.ErrBadRequest)
	case !utf8.ValidString(msg.Body):
		return "", fmt.Errorf("whatsapp: message body is not valid UTF-8: %w", gateway.ErrBadRequest)
	case len(msg.Body) > MaxBodyLength:
		return "", fmt.Errorf("whatsapp: message body is %d bytes, WhatsApp takes at most %d: %w",
			len(msg.Body), MaxBodyLength, gateway.ErrNotAcceptable)
	}
	mentions, body := s.outboundMentions(ctx, msg, to) // mentions.go
	if body != msg.Body {
		cp := *msg
		cp.Body = body
		msg = &cp
	}
	ci, err := s.replyContext(ctx, msg, to, mentions)
	if err != nil {
		return "", err
	}
	if len(msg.Attachments) == 0 {
		id, err := s.send(ctx, to, convert.TextMessage(msg.Body, ci), "sending a message")
		if err != nil {
			return "", err
		}
		s.subscribePresence(to)
		return waid.OwnMessage(id), nil
	}
	var first types.MessageID
	caption := msg.Body
	for i, a := range msg.Attachments {
		wm, err := s.uploadAttachment(ctx, a, caption, ci)
		if err != nil {
			if i > 0 {
				// Some are sent; say which part failed.
				return "", fmt.Errorf("whatsapp: attachment %d of %d (%s): %w", i+1, len(msg.Attachments), a.Name, err)
			}
			return "", err
		}
		id, err := s.send(ctx, to, wm, "sending a file")
		if err != nil {
			return "", err
		}
		if first == "" {
			first = id
		}
		if hasCaption(wm) {
			caption = ""
		}
		ci = nil
	}
	if caption != "" {
		// Audio and stickers have no caption: the text follows them.
		if _, err := s.send(ctx, to, convert.TextMessage(caption, nil), "sending a message"); err != nil {
			return "", err
		}
	}
	return waid.OwnMessage(first), nil
}

func hasCaption(m *waE2E.Message) bool {
	return m.GetImageMessage() != nil || m.GetVideoMessage() != nil || m.GetDocumentMessage() != nil ||
		m.GetDocumentWithCaptionMessage() != nil
}

// replyContext builds the ContextInfo of a reply and mentions.
func (s *Session) replyContext(ctx context.Context, msg *event.Message, chat types.JID, mentions []types.JID) (*waE2E.ContextInfo, error) {
	if msg.ReplyTo == "" {
		return convert.ReplyContext("", types.EmptyJID, "", mentions), nil
	}
	ref, err := waid.ParseMessageID(msg.ReplyTo)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: reply: %w", err)
	}
	author := chat
	switch {
	case ref.FromMe:
		author = s.ownFor(ctx, chat)
	case ref.Participant != "":
		if jid, err := s.participantJID(ctx, msg.Chat, ref.Participant); err == nil {
			author = jid
		}
	case chat.Server == types.GroupServer:
		// A group message whose author is unknown: quote it without.
		author = types.EmptyJID
	}
	return convert.ReplyContext(ref.ID, author, msg.ReplyQuote, mentions), nil
}

// uploadAttachment fetches a file (Attachment.Open), chooses its WhatsApp
// message kind, uploads it encrypted and returns the message to send.
func (s *Session) uploadAttachment(ctx context.Context, a event.Attachment, caption string, ci *waE2E.ContextInfo) (*waE2E.Message, error) {
	if a.Open == nil {
		return nil, fmt.Errorf("whatsapp: attachment %q has no content: %w", a.Name, gateway.ErrBadRequest)
	}
	limit := s.cfg.maxFileSize
	if a.Size > limit {
		return nil, fmt.Errorf("whatsapp: file of %d bytes, WhatsApp takes at most %d: %w", a.Size, limit, gateway.ErrNotAcceptable)
	}
	r, err := a.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: fetching %q: %w", a.Name, err)
	}
	defer r.Close()
	// Spool to a file: the size decides the kind, and whatsmeow encrypts
	// from a file in place.
	f, err := os.CreateTemp("", "drawbridge-wa-up-*")
	if err != nil {
		return nil, fmt.Errorf("whatsapp: upload: %w", err)
	}
	tf := &tempFile{File: f}
	defer tf.Close()
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("whatsapp: fetching %q: %w", a.Name, err)
	}
	if n > limit {
		return nil, fmt.Errorf("whatsapp: file larger than %d bytes: %w", limit, gateway.ErrNotAcceptable)
	}
	if n == 0 {
		return nil, fmt.Errorf("whatsapp: attachment %q is empty: %w", a.Name, gateway.ErrBadRequest)
	}
	if a.MIMEType == "" {
		head := make([]byte, 512)
		k, _ := f.ReadAt(head, 0)
		a.MIMEType = http.DetectContentType(head[:k])
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("whatsapp: upload: %w", err)
	}
	kind := convert.PlanMedia(a, n)
	kind, info, err := s.prepareMedia(f, n, kind, &a) // media_out.go
	if err != nil {
		return nil, err
	}
	// One file serves as plaintext and as encryption buffer.
	up, err := s.c.client.UploadReader(ctx, f, f, kind.UploadType())
	if err != nil {
		return nil, sendErr("uploading a file", err)
	}
	wm := convert.MediaMessage(kind, up, a, caption, ci)
	convert.Decorate(wm, info)
	return convert.WrapDocumentCaption(wm), nil
}

// ownTarget reads the id of a message of the owner that an edit or a
// retraction names, and checks that it is at most window old when the
// session knows when the message was sent.
func (s *Session) ownTarget(target ids.MessageID, what string, window time.Duration) (types.MessageID, error) {
	ref, err := waid.ParseMessageID(target)
	if err != nil {
		return "", err
	}
	if !ref.FromMe {
		return "", fmt.Errorf("whatsapp: only your own messages can be %s: %w", what, gateway.ErrForbidden)
	}
	s.mu.Lock()
	at, ok := s.sent.get(ref.ID)
	s.mu.Unlock()
	if ok && s.a.now().Sub(at) > window {
		return "", fmt.Errorf("whatsapp: messages can be %s only within %s of sending: %w", what, window, gateway.ErrNotAcceptable)
	}
	return ref.ID, nil
}

// EditMessage implements gateway.Editor: the owner's own message, within
// EditWindow, gets a new text.
func (s *Session) EditMessage(ctx context.Context, e *event.Edit) error {
	if e == nil || strings.TrimSpace(e.Body) == "" {
		return fmt.Errorf("whatsapp: an edit needs a text: %w", gateway.ErrBadRequest)
	}
	if !utf8.ValidString(e.Body) {
		return fmt.Errorf("whatsapp: edit is not valid UTF-8: %w", gateway.ErrBadRequest)
	}
	if len(e.Body) > MaxBodyLength {
		return fmt.Errorf("whatsapp: edit is %d bytes, WhatsApp takes at most %d: %w", len(e.Body), MaxBodyLength, gateway.ErrNotAcceptable)
	}
	if err := s.ready(); err != nil {
		return err
	}
	chat, err := s.chatJID(&e.Meta)
	if err != nil {
		return err
	}
	id, err := s.ownTarget(e.Target, "edited", EditWindow)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, chat, s.c.client.BuildEdit(chat, id, convert.EditContent(e.Body)), "editing a message")
	return err
}

// RetractMessage implements gateway.Retracter: the owner's own message,
// within RetractWindow, is deleted for everyone; in a group where the
// owner is an admin, another member's message too (revoke.go).
func (s *Session) RetractMessage(ctx context.Context, r *event.Retract) error {
	if r == nil {
		return fmt.Errorf("whatsapp: no retraction: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	chat, err := s.chatJID(&r.Meta)
	if err != nil {
		return err
	}
	if ref, err := waid.ParseMessageID(r.Target); err == nil && !ref.FromMe && ref.Participant != "" && chat.Server == types.GroupServer {
		return s.adminRevoke(ctx, r, chat, ref) // revoke.go
	}
	id, err := s.ownTarget(r.Target, "deleted for everyone", RetractWindow)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, chat, s.c.client.BuildRevoke(chat, types.EmptyJID, id), "deleting a message")
	return err
}

// SendReaction implements gateway.Reactor. WhatsApp keeps one reaction per
// person and message: the last emoji of the set replaces the owner's
// reaction, an empty set removes it.
func (s *Session) SendReaction(ctx context.Context, r *event.Reaction) error {
	if r == nil {
		return fmt.Errorf("whatsapp: no reaction: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	chat, err := s.chatJID(&r.Meta)
	if err != nil {
		return err
	}
	ref, err := waid.ParseMessageID(r.Target)
	if err != nil {
		return err
	}
	sender := chat
	switch {
	case ref.FromMe:
		sender = s.ownFor(ctx, chat)
	case ref.Participant != "":
		if sender, err = s.participantJID(ctx, r.Chat, ref.Participant); err != nil {
			return fmt.Errorf("whatsapp: reaction target: %w", gateway.ErrTargetNotFound)
		}
	case chat.Server == types.GroupServer:
		return fmt.Errorf("whatsapp: reaction target %q names no group member: %w", r.Target, gateway.ErrTargetNotFound)
	}
	emojis := slices.DeleteFunc(slices.Clone(r.Emojis), func(e string) bool { return strings.TrimSpace(e) == "" })
	emoji := ""
	if len(emojis) > 0 {
		emoji = emojis[len(emojis)-1]
	}
	_, err = s.send(ctx, chat, s.c.client.BuildReaction(chat, sender, ref.ID, emoji), "reacting")
	return err
}

// SendReceipt implements gateway.ReceiptSender. "Displayed" marks the
// contact's messages read on WhatsApp up to the one named, as XEP-0333
// means it (blue ticks, unless the owner turned read receipts off on the
// phone). Delivery receipts are sent by whatsmeow
// itself when a message arrives, so "delivered" is accepted and dropped.
func (s *Session) SendReceipt(ctx context.Context, r *event.Receipt) error {
	if r == nil || len(r.Targets) == 0 {
		return fmt.Errorf("whatsapp: receipt without messages: %w", gateway.ErrBadRequest)
	}
	switch r.Kind {
	case event.Delivered:
		return nil
	case event.Displayed:
	default:
		return fmt.Errorf("whatsapp: receipt kind %s: %w", r.Kind, gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	chat, err := s.chatJID(&r.Meta)
	if err != nil {
		return err
	}
	return s.markDisplayed(ctx, r, chat) // markers.go
}

// SendChatState implements gateway.ChatStateSender: "composing" shows the
// owner typing; every other state stops it.
func (s *Session) SendChatState(ctx context.Context, cs *event.ChatState) error {
	if cs == nil {
		return fmt.Errorf("whatsapp: no chat state: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	chat, err := s.chatJID(&cs.Meta)
	if err != nil {
		return err
	}
	state := types.ChatPresencePaused
	if cs.State == event.Composing {
		state = types.ChatPresenceComposing
	}
	s.ownerTyping(ctx, cs.Chat, state == types.ChatPresenceComposing)
	if err := s.c.client.SendChatPresence(ctx, chat, state, types.ChatPresenceMediaText); err != nil {
		return sendErr("sending a typing notification", err)
	}
	return nil
}

// ResolveUser implements gateway.UserResolver: WhatsApp says whether a
// phone number uses WhatsApp (IsOnWhatsApp) and under which canonical
// number. Malformed input wraps gateway.ErrBadRequest, a number without
// WhatsApp gateway.ErrUnknownChat.
func (s *Session) ResolveUser(ctx context.Context, input string) (ids.UserID, error) {
	phone, err := gateway.NormalizePhone(input)
	if err != nil {
		return "", err
	}
	if err := s.ready(); err != nil {
		return "", err
	}
	resp, err := s.c.client.IsOnWhatsApp(ctx, []string{phone})
	if err != nil {
		return "", sendErr("checking "+phone, err)
	}
	for _, r := range resp {
		if r.IsIn && r.JID.Server == types.DefaultUserServer {
			return waid.PhoneUser(r.JID), nil
		}
	}
	return "", fmt.Errorf("whatsapp: %s does not use WhatsApp: %w", phone, gateway.ErrUnknownChat)
}

// ListContacts implements gateway.ContactLister: the contacts in the
// device store (the phone's address book entries and the push names seen),
// one per person, sorted.
func (s *Session) ListContacts(ctx context.Context) ([]*event.ContactInfo, error) {
	s.mu.Lock()
	out := s.phase == sessLoggedOut
	s.mu.Unlock()
	if out {
		return nil, fmt.Errorf("whatsapp: %s is logged out: %w", s.acct, gateway.ErrNotLinked)
	}
	if s.contacts == nil {
		return nil, nil
	}
	all, err := s.contacts.GetAllContacts(ctx)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: reading contacts: %w", err)
	}
	seen := map[ids.UserID]*event.ContactInfo{}
	for jid := range all {
		if jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer {
			continue
		}
		user := s.users.UserID(ctx, jid, types.EmptyJID)
		if user == ids.UserID(s.acct) {
			continue
		}
		ci := s.contactInfo(ctx, user, jid)
		if ci.Name == "" {
			continue
		}
		if old, ok := seen[user]; !ok || (old.Name == "" && ci.Name != "") {
			seen[user] = ci
		}
	}
	list := make([]*event.ContactInfo, 0, len(seen))
	for _, ci := range seen {
		list = append(list, ci)
	}
	slices.SortFunc(list, func(a, b *event.ContactInfo) int { return strings.Compare(string(a.Sender), string(b.Sender)) })
	return list, nil
}

// GetAvatar implements gateway.AvatarGetter: the contact's profile
// picture, or a zero Avatar if they have none or hide it from the owner.
func (s *Session) GetAvatar(ctx context.Context, user ids.UserID) (gateway.Avatar, error) {
	jid, err := waid.JID(string(user))
	if err != nil {
		return gateway.Avatar{}, err
	}
	return s.picture(ctx, jid, "profile picture of "+string(user), sendErr, func(hash string) { s.rememberAvatar(user, hash) })
}

// picture downloads the profile picture of jid (a contact or a group),
// named in errors by what (errOf wraps WhatsApp's refusals); remember is
// told its id, "" when there is none or the account may not see it, in
// which case the Avatar is zero.
func (s *Session) picture(ctx context.Context, jid types.JID, what string, errOf func(string, error) error, remember func(hash string)) (gateway.Avatar, error) {
	if err := s.ready(); err != nil {
		return gateway.Avatar{}, err
	}
	info, err := s.c.client.GetProfilePictureInfo(ctx, jid, &whatsmeow.GetProfilePictureParams{})
	switch {
	case errors.Is(err, whatsmeow.ErrProfilePictureNotSet), errors.Is(err, whatsmeow.ErrProfilePictureUnauthorized):
		remember("")
		return gateway.Avatar{}, nil
	case err != nil:
		return gateway.Avatar{}, errOf("getting the "+what, err)
	case info == nil || info.URL == "":
		return gateway.Avatar{}, nil
	}
	data, err := s.a.fetch(ctx, info.URL)
	if err != nil {
		return gateway.Avatar{}, fmt.Errorf("whatsapp: downloading the %s: %w", what, err)
	}
	remember(info.ID)
	return gateway.Avatar{Hash: info.ID, MIMEType: http.DetectContentType(data), Data: data}, nil
}

func (s *Session) rememberAvatar(user ids.UserID, hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.avatars[user] = hash
}
