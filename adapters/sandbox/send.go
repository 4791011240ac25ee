package sandbox

import (
	"context"
	"fmt"
	"unicode/utf8"

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
	if !phoneRE.MatchString(string(m.Chat)) {
		return fmt.Errorf("sandbox: no contact %q (contacts are phone numbers in E.164 form): %w", m.Chat, gateway.ErrUnknownChat)
	}
	return nil
}

// SendMessage implements gateway.Session. The recipient is msg.Chat. A
// message with neither body nor attachments, or a body that is not UTF-8,
// wraps gateway.ErrBadRequest; a body over MaxBodyLength bytes
// gateway.ErrNotSupported; a recipient that is not on the platform
// gateway.ErrUnknownChat; a session that is not connected
// gateway.ErrUnavailable. Attachments, ReplyTo and Mentions travel as they
// are. Bots answer later, from their own goroutine.
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
	if err := s.checkMeta(&msg.Meta); err != nil {
		return "", err
	}
	switch {
	case msg.Body == "" && len(msg.Attachments) == 0:
		return "", fmt.Errorf("sandbox: empty message: %w", gateway.ErrBadRequest)
	case !utf8.ValidString(msg.Body):
		return "", fmt.Errorf("sandbox: message body is not valid UTF-8: %w", gateway.ErrBadRequest)
	case len(msg.Body) > MaxBodyLength:
		return "", fmt.Errorf("sandbox: message body is %d bytes, the platform allows at most %d: %w",
			len(msg.Body), MaxBodyLength, gateway.ErrNotSupported)
	}
	id, err := s.p.route(outgoing{
		from: ids.UserID(s.acct), to: ids.UserID(msg.Chat), body: msg.Body,
		attachments: msg.Attachments, replyTo: msg.ReplyTo, mentions: msg.Mentions, fromDevice: s.dev,
	})
	if err != nil {
		return "", err
	}
	s.a.logger().Debug("sandbox: message sent", "account", s.acct, "chat", msg.Chat, "id", id)
	return id, nil
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
	phone, err := NormalizePhone(input)
	if err != nil {
		return "", err
	}
	if err := s.ready(); err != nil {
		return "", err
	}
	if _, ok := s.p.User(ids.UserID(phone)); !ok {
		return "", fmt.Errorf("sandbox: %s is not on the platform: %w", phone, gateway.ErrUnknownChat)
	}
	return ids.UserID(phone), nil
}
