package sandbox

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// MaxBodyLength is the longest message body the sandbox takes, in bytes.
const MaxBodyLength = 4096

// ready refuses work unless the session is connected.
func (s *Session) ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.phase {
	case phaseConnected:
		return nil
	case phaseLoggedOut:
		return fmt.Errorf("sandbox: %s is logged out: %w", s.acct, gateway.ErrNotLinked)
	case phaseSuperseded:
		return fmt.Errorf("sandbox: this session of %s was replaced by a newer one: %w", s.acct, gateway.ErrUnavailable)
	}
	return fmt.Errorf("sandbox: %s is not connected: %w", s.acct, gateway.ErrUnavailable)
}

// checkMeta validates what the hub says about a 1:1 chat of this account.
func (s *Session) checkMeta(m *event.Meta) error {
	if m.Account != "" && m.Account != s.acct {
		return fmt.Errorf("sandbox: event for account %s given to the session of %s: %w", m.Account, s.acct, gateway.ErrBadRequest)
	}
	if m.Chat == "" {
		return fmt.Errorf("sandbox: no chat given: %w", gateway.ErrBadRequest)
	}
	if IsGroupID(m.Chat) {
		return nil // groups.go checks membership
	}
	if !phoneRE.MatchString(string(m.Chat)) {
		text := fmt.Sprintf("%s is not a phone number: write to + then the country code and the number, e.g. +15551234567.", m.Chat)
		if phone, ok := withoutPlus(string(m.Chat)); ok {
			text = fmt.Sprintf("%s needs a + in front: write to %s instead.", m.Chat, phone)
		}
		return gateway.Explain(text,
			fmt.Errorf("sandbox: no contact %q (contacts are phone numbers in E.164 form): %w", m.Chat, gateway.ErrUnknownChat))
	}
	return nil
}

// SendMessage implements gateway.Session. The recipient is msg.Chat. A
// message with neither body nor attachments, or a body that is not UTF-8,
// wraps gateway.ErrBadRequest; a body over MaxBodyLength bytes
// gateway.ErrNotSupported; a recipient that is not on the platform
// gateway.ErrUnknownChat; a session that is not connected
// gateway.ErrUnavailable.
//
// Each attachment is read through its Open function (at most
// MaxFileSize+1 bytes; an attachment without Open wraps
// gateway.ErrBadRequest) and stored with its name, MIME type (sniffed from
// the content if none is declared) and kind (derived from the type if not
// given). A file over the max_file_size limit, or of a type outside
// MediaTypes, wraps gateway.ErrNotSupported. ReplyTo must name a message
// of the same chat that was not retracted, else the error wraps
// gateway.ErrTargetNotFound; the platform fills in the reply's sender and
// quote itself. Mentions travel as they are. Bots answer later, from their
// own goroutine.
func (s *Session) SendMessage(ctx context.Context, msg *event.Message) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if msg == nil {
		return "", fmt.Errorf("sandbox: no message: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return "", err
	}
	if err := s.p.outageErr(s.acct); err != nil {
		return "", err
	}
	if IsGroupID(msg.Chat) {
		return s.sendGroup(ctx, msg) // groups_session.go
	}
	if err := s.checkMeta(&msg.Meta); err != nil {
		return "", err
	}
	if msg.Body == "" && len(msg.Attachments) == 0 {
		return "", fmt.Errorf("sandbox: empty message: %w", gateway.ErrBadRequest)
	}
	if err := checkBody(msg.Body); err != nil {
		return "", err
	}
	files, err := s.p.readAttachments(ctx, msg.Attachments)
	if err != nil {
		return "", err
	}
	id, err := s.p.route(outgoing{
		from: ids.UserID(s.acct), to: ids.UserID(msg.Chat), body: msg.Body,
		files: files, replyTo: msg.ReplyTo, mentions: msg.Mentions, fromDevice: s.dev,
	})
	if err != nil {
		return "", err
	}
	s.a.logger().Debug("sandbox: message sent", "account", s.acct, "chat", msg.Chat, "id", id, "files", len(files))
	return id, nil
}

// EditMessage implements gateway.Editor: it replaces the body of e.Target,
// one of the account's own messages in e.Chat. The platform refuses, with
// errors that wrap: gateway.ErrTargetNotFound for a message that is not in
// the chat or was retracted; gateway.ErrForbidden for someone else's
// message; gateway.ErrNotSupported once the edit window (edit_window) has
// passed, counted on the platform's clock from when it took the message,
// and for a body over MaxBodyLength; gateway.ErrBadRequest for an empty or
// non-UTF-8 body. The contact and the account's other devices get an
// event.Edit.
func (s *Session) EditMessage(ctx context.Context, e *event.Edit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e == nil || e.Target == "" {
		return fmt.Errorf("sandbox: an edit needs a target message: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.checkMeta(&e.Meta); err != nil {
		return err
	}
	if err := checkEditBody(e.Body); err != nil {
		return err
	}
	return s.p.edit(change{from: ids.UserID(s.acct), peer: ids.UserID(e.Chat), target: e.Target, body: e.Body, fromDevice: s.dev})
}

// RetractMessage implements gateway.Retracter: it withdraws r.Target, one
// of the account's own messages in r.Chat, for everyone. The refusals are
// those of EditMessage, with the retract window (retract_window); a
// message that is already retracted is not an error (nothing happens). The
// contact and the account's other devices get an event.Retract.
func (s *Session) RetractMessage(ctx context.Context, r *event.Retract) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r == nil || r.Target == "" {
		return fmt.Errorf("sandbox: a retraction needs a target message: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.checkMeta(&r.Meta); err != nil {
		return err
	}
	return s.p.retract(change{from: ids.UserID(s.acct), peer: ids.UserID(r.Chat), target: r.Target, fromDevice: s.dev})
}

// SendReaction implements gateway.Reactor with full-set semantics:
// r.Emojis becomes the account's whole set of reactions on r.Target (any
// message of r.Chat that was not retracted, else gateway.ErrTargetNotFound);
// empty removes them. Repeated emojis count once. The platform allows
// MaxReactionsPerUser (one) reaction per user on a message: a set of two
// different emojis, such as adding a second one while one is set, wraps
// gateway.ErrNotSupported; a set of one replaces the earlier reaction.
// Setting the set one already has does nothing. The contact and the
// account's other devices get an event.Reaction.
func (s *Session) SendReaction(ctx context.Context, r *event.Reaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r == nil || r.Target == "" {
		return fmt.Errorf("sandbox: a reaction needs a target message: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.checkMeta(&r.Meta); err != nil {
		return err
	}
	return s.p.react(change{from: ids.UserID(s.acct), peer: ids.UserID(r.Chat), target: r.Target, emojis: r.Emojis, fromDevice: s.dev})
}

// GetAvatar implements gateway.AvatarGetter: the PNG picture of any user
// of the platform, with its hash (SHA-1 of the bytes, in hex, as in
// ContactInfo.AvatarHash). A user without a picture gives a zero Avatar; a
// user not on the platform wraps gateway.ErrUnknownChat. Like a real
// platform it asks the server, so the session must be connected (else
// gateway.ErrUnavailable).
func (s *Session) GetAvatar(ctx context.Context, user ids.UserID) (gateway.Avatar, error) {
	if err := ctx.Err(); err != nil {
		return gateway.Avatar{}, err
	}
	if err := s.ready(); err != nil {
		return gateway.Avatar{}, err
	}
	return s.p.avatar(user)
}

// SendReceipt implements gateway.ReceiptSender. The platform records it
// (Platform.Receipts) and passes it on if the contact is a linked account.
func (s *Session) SendReceipt(ctx context.Context, r *event.Receipt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("sandbox: no receipt: %w", gateway.ErrBadRequest)
	}
	if r.Kind != event.Delivered && r.Kind != event.Displayed {
		return fmt.Errorf("sandbox: receipt kind %s: %w", r.Kind, gateway.ErrBadRequest)
	}
	if len(r.Targets) == 0 {
		return fmt.Errorf("sandbox: receipt without messages: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.checkMeta(&r.Meta); err != nil {
		return err
	}
	return s.p.ownerReceipt(s.acct, r)
}

// SendChatState implements gateway.ChatStateSender. The platform records
// it (Platform.ChatStates) and passes it on if the contact is a linked
// account with a connected device.
func (s *Session) SendChatState(ctx context.Context, cs *event.ChatState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if cs == nil || !validChatState(cs.State) {
		return fmt.Errorf("sandbox: invalid chat state: %w", gateway.ErrBadRequest)
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.checkMeta(&cs.Meta); err != nil {
		return err
	}
	return s.p.ownerChatState(s.acct, cs)
}

// ListContacts implements gateway.ContactLister: the seeded users, then
// the accounts this one exchanged messages with. Like a real device's
// contact store it works while disconnected, but not once logged out.
func (s *Session) ListContacts(ctx context.Context) ([]*event.ContactInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	out := s.phase == phaseLoggedOut
	s.mu.Unlock()
	if out {
		return nil, fmt.Errorf("sandbox: %s is logged out: %w", s.acct, gateway.ErrNotLinked)
	}
	return s.p.contactInfos(s.acct), nil
}

// ResolveUser implements gateway.UserResolver: a phone number (spaces and
// separators allowed) of a user on the platform gives its UserID.
// Malformed input wraps gateway.ErrBadRequest, a number nobody uses
// gateway.ErrUnknownChat. Like a real platform it asks the server, so the
// session must be connected (else gateway.ErrUnavailable).
func (s *Session) ResolveUser(ctx context.Context, input string) (ids.UserID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	phone, err := s.p.phoneOf(input)
	if err != nil {
		return "", err
	}
	if err := s.ready(); err != nil {
		return "", err
	}
	if _, ok := s.p.User(ids.UserID(phone)); !ok {
		return "", gateway.Explain(fmt.Sprintf("Nobody uses %s on the sandbox.", phone),
			fmt.Errorf("sandbox: %s is not on the platform: %w", phone, gateway.ErrUnknownChat))
	}
	return ids.UserID(phone), nil
}
