package remote

import (
	"context"
	"fmt"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// session is the host side of one linked account. The messaging features
// (receipts, chat states, edits, retractions, reactions) are always
// methods of it: Capabilities say whether the platform has them, and the
// adapter answers ErrNotSupported otherwise. The other optional features
// (groups, avatars, contacts, resolver) are part of the Go type only when
// the adapter declared them (typed), because the hub discovers those by
// type assertion.
type session struct {
	a    *Adapter
	acct ids.AccountID

	mu        sync.Mutex
	handle    string
	features  map[adapterv1.Feature]bool
	direct    gateway.Capabilities
	connected bool
	chats     map[ids.ChatID]chatKind
}

type chatKind struct {
	caps  gateway.Capabilities
	group bool
}

var (
	_ gateway.Session         = (*session)(nil)
	_ gateway.Editor          = (*session)(nil)
	_ gateway.Retracter       = (*session)(nil)
	_ gateway.Reactor         = (*session)(nil)
	_ gateway.ReceiptSender   = (*session)(nil)
	_ gateway.ChatStateSender = (*session)(nil)
)

// reload asks the adapter for the session again (after a restart too).
func (s *session) reload(ctx context.Context) error {
	if err := s.a.waitReady(ctx); err != nil && s.a.isStarted() {
		return err
	}
	d, err := s.a.client().LoadSession(ctx, &adapterv1.LoadSessionRequest{Account: string(s.acct)})
	if err != nil {
		return fmt.Errorf("remote adapter %s: LoadSession(%s): %w", s.a.info.ID, s.acct, fromRPC(err))
	}
	caps, err := capsFromProto(d.GetDirectCapabilities())
	if err != nil {
		return fmt.Errorf("remote adapter %s: LoadSession(%s): %w", s.a.info.ID, s.acct, err)
	}
	f := map[adapterv1.Feature]bool{}
	for _, v := range d.GetFeatures() {
		f[v] = true
	}
	s.mu.Lock()
	s.handle, s.features, s.direct, s.chats = d.GetSession(), f, caps, map[ids.ChatID]chatKind{}
	s.mu.Unlock()
	return nil
}

func (a *Adapter) isStarted() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.started
}

func (s *session) has(f adapterv1.Feature) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.features[f]
}

func (s *session) wantConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// id is the session's handle on the adapter's side.
func (s *session) id() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handle
}

func (s *session) req() *adapterv1.SessionRequest {
	return &adapterv1.SessionRequest{Account: string(s.acct), Session: s.id()}
}

// Connect implements gateway.Session; a failure to reach the adapter is
// reported as a state, as the contract asks.
func (s *session) Connect(ctx context.Context) {
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	if _, err := s.a.client().Connect(ctx, s.req()); err != nil {
		s.a.host.SetState(ctx, s.acct, event.StateDisconnected, fmt.Sprintf("the platform adapter is unreachable: %v", fromRPC(err)))
	}
}

// Disconnect implements gateway.Session.
func (s *session) Disconnect() {
	s.mu.Lock()
	s.connected = false
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := s.a.client().Disconnect(ctx, s.req()); err != nil {
		s.a.log.Warn("remote adapter: Disconnect failed", "account", s.acct, "err", fromRPC(err))
	}
}

// Logout implements gateway.Session.
func (s *session) Logout(ctx context.Context) error {
	if _, err := s.a.client().Logout(ctx, s.req()); err != nil {
		return fmt.Errorf("remote adapter %s: Logout(%s): %w", s.a.info.ID, s.acct, fromRPC(err))
	}
	s.a.mu.Lock()
	if s.a.sessions[s.acct] == s {
		delete(s.a.sessions, s.acct)
	}
	s.a.mu.Unlock()
	return nil
}

// chat returns chat's capabilities and kind, asking the adapter once per
// chat (and again after a restart). Without an answer: the one-to-one
// capabilities the session declared.
func (s *session) chat(chat ids.ChatID) chatKind {
	s.mu.Lock()
	k, ok := s.chats[chat]
	direct := s.direct
	s.mu.Unlock()
	if ok {
		return k
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	r, err := s.a.client().Capabilities(ctx, &adapterv1.ChatRequest{Account: string(s.acct), Chat: string(chat), Session: s.id()})
	if err != nil {
		s.a.log.Warn("remote adapter: Capabilities failed", "account", s.acct, "chat", chat, "err", fromRPC(err))
		return chatKind{caps: direct}
	}
	caps, err := capsFromProto(r.GetCapabilities())
	if err != nil {
		s.a.log.Warn("remote adapter: Capabilities refused", "account", s.acct, "chat", chat, "err", err)
		return chatKind{caps: direct}
	}
	k = chatKind{caps: caps, group: r.GetGroup()}
	s.mu.Lock()
	if s.chats != nil {
		s.chats[chat] = k
	}
	s.mu.Unlock()
	return k
}

// Capabilities implements gateway.Session.
func (s *session) Capabilities(chat ids.ChatID) gateway.Capabilities { return s.chat(chat).caps }

// SendMessage implements gateway.Session. Files the hub attached are
// served to the adapter by reference while the call runs.
func (s *session) SendMessage(ctx context.Context, msg *event.Message) (ids.MessageID, error) {
	var refs []string
	defer func() {
		for _, r := range refs {
			s.a.dropFile(r)
		}
	}()
	pe, err := eventToProto(msg, func(at event.Attachment) string {
		r := s.a.files.put(at.Open)
		refs = append(refs, r)
		return r
	})
	if err != nil {
		return "", err
	}
	r, err := s.a.client().SendMessage(ctx, &adapterv1.SendMessageRequest{Event: pe, Session: s.id()})
	if err != nil {
		return "", fromRPC(err)
	}
	if r.GetId() == "" {
		return "", fmt.Errorf("remote adapter %s: SendMessage returned no id: %w", s.a.info.ID, errMalformed)
	}
	return ids.MessageID(r.GetId()), nil
}

func (s *session) sendEvent(ctx context.Context, ev event.Event) error {
	pe, err := eventToProto(ev, nil)
	if err != nil {
		return err
	}
	if _, err := s.a.client().SendEvent(ctx, &adapterv1.SendEventRequest{Event: pe, Session: s.id()}); err != nil {
		return fromRPC(err)
	}
	return nil
}

// EditMessage implements gateway.Editor.
func (s *session) EditMessage(ctx context.Context, e *event.Edit) error { return s.sendEvent(ctx, e) }

// RetractMessage implements gateway.Retracter.
func (s *session) RetractMessage(ctx context.Context, r *event.Retract) error {
	return s.sendEvent(ctx, r)
}

// SendReaction implements gateway.Reactor.
func (s *session) SendReaction(ctx context.Context, r *event.Reaction) error {
	return s.sendEvent(ctx, r)
}

// SendReceipt implements gateway.ReceiptSender.
func (s *session) SendReceipt(ctx context.Context, r *event.Receipt) error {
	return s.sendEvent(ctx, r)
}

// SendChatState implements gateway.ChatStateSender.
func (s *session) SendChatState(ctx context.Context, c *event.ChatState) error {
	return s.sendEvent(ctx, c)
}
