package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The hub's side of the retry queue (retry.go): one attempt at a queued
// message, and the frontend told when the queue gives up.

// ErrQueued: SendMessage could not reach the platform right now (the
// adapter said ErrUnavailable) and the message waits in the retry queue.
// It is not a failure: the frontend treats it as accepted. If the message
// still cannot be sent by the deadline, the hub tells the frontend through
// FailureNotifier.
var ErrQueued = errors.New("queued: the platform is unavailable; the message will be retried")

// FailureNotifier is implemented by a Frontend that wants to hear about
// queued messages the hub gave up on (retry.go). msg is the message as
// queued, xmppIDs the stanza ids SendMessage was given, tag what the
// context given to SendMessage carried (WithSendTag), so the frontend can
// answer the original request; err wraps ErrUnavailable when the deadline
// passed, or is the platform's refusal of a later attempt.
type FailureNotifier interface {
	SendFailed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, msg *event.Message, xmppIDs []string, tag string, err error)
}

// sendQueued makes one attempt at a queued message.
func (g *Gateway) sendQueued(ctx context.Context, owner ids.Owner, it *retryItem) (err error) {
	defer func(t0 time.Time) { g.observe(it.platform, ToPlatform, "message", t0, err) }(time.Now())
	l, err := g.session(owner, it.platform)
	if err != nil {
		return err
	}
	if it.restored {
		// A previous process may have sent it and died before removing
		// it from the outbox: the id it recorded first tells.
		if _, sent := g.idmap.SentBefore(ctx, owner, it.msg.Chat, it.xmppIDs); sent {
			g.log.Info("restored message was sent before the restart", "owner", owner, "chat", it.msg.Chat, "id", it.xmppIDs)
			return nil
		}
		caps := l.session.Capabilities(it.msg.Chat)
		if err := g.fetchAttachments(ctx, caps, it.msg); err != nil {
			return err // files are not stored with the message: fetched again
		}
	}
	it.msg.Account = l.account
	g.sending.Begin(owner, it.msg.Chat)
	defer g.sending.End(owner, it.msg.Chat)
	id, err := l.session.SendMessage(ctx, it.msg)
	if err != nil {
		return fmt.Errorf("send to %s: %w", it.msg.Chat, err)
	}
	g.sent.Put(owner, it.msg.Chat, id, it.msg.Time)
	// Recorded before the outbox forgets the message, so that a crash in
	// between does not send it twice.
	g.idmap.PutNow(ctx, owner, it.msg.Chat, id, it.sum, it.xmppIDs...)
	return nil
}

// sendFailed tells the frontend, if it listens, that a queued message was
// given up on.
func (g *Gateway) sendFailed(ctx context.Context, owner ids.Owner, it *retryItem, err error) {
	g.log.Warn("queued message not sent", "owner", owner, "platform", it.platform, "chat", it.msg.Chat, "id", it.xmppIDs, "err", err)
	g.mu.Lock()
	f := g.frontend
	g.mu.Unlock()
	if n, ok := f.(FailureNotifier); ok {
		n.SendFailed(ctx, owner, it.platform, it.msg, it.xmppIDs, it.tag, err)
	}
}
