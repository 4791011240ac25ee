package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The hub's side of the retry queue (delivery.RetryQueue): one attempt at
// a queued message, and the frontend told when the queue gives up.

// ErrQueued: SendMessage could not reach the platform right now (the
// adapter said ErrUnavailable) and the message waits in the retry queue.
// It is not a failure: the frontend treats it as accepted. If the message
// still cannot be sent by the deadline, the hub tells the frontend through
// FailureNotifier.
var ErrQueued = delivery.ErrQueued

// FailureNotifier is implemented by a Frontend that wants to hear about
// queued messages the hub gave up on (delivery.RetryQueue). msg is the
// message as queued, xmppIDs the stanza ids SendMessage was given, tag what
// SendMessage was given (SendOptions.Tag), so the frontend
// can answer the original request; err wraps ErrUnavailable when the
// deadline passed, or is the platform's refusal of a later attempt.
type FailureNotifier interface {
	SendFailed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, msg *event.Message, xmppIDs []string, tag string, err error)
}

// sendQueued makes one attempt at a queued message.
func (g *Gateway) sendQueued(ctx context.Context, owner ids.Owner, it *delivery.Queued) (err error) {
	defer func(t0 time.Time) { g.observe(it.Platform, ToPlatform, "message", t0, err) }(time.Now())
	l, err := g.session(owner, it.Platform)
	if err != nil {
		return err
	}
	msg := it.Message
	chatKey := delivery.ChatKey(it.Platform, msg.Chat)
	if it.Restored {
		// A previous process may have sent it and died before removing
		// it from the outbox: the id it recorded first tells.
		if _, sent := g.idmap.SentBefore(ctx, owner, chatKey, it.XMPPIDs); sent {
			g.log.Info("restored message was sent before the restart", "owner", owner, "chat", msg.Chat, "id", it.XMPPIDs)
			return nil
		}
	}
	// Files are neither stored nor kept in the queue with the message:
	// each attempt downloads them again and removes them after.
	release, err := g.fetchAttachments(ctx, owner, l.session.Capabilities(msg.Chat), msg)
	defer release()
	if err != nil {
		return err
	}
	msg.Account = l.account
	g.sending.Begin(owner, chatKey)
	defer g.sending.End(owner, chatKey)
	id, err := l.session.SendMessage(ctx, msg)
	if err != nil {
		return fmt.Errorf("send to %s: %w", msg.Chat, err)
	}
	g.sent.Put(owner, chatKey, id, msg.Time)
	// Recorded before the outbox forgets the message, so that a crash in
	// between does not send it twice.
	g.idmap.PutNow(ctx, owner, chatKey, id, it.Sum, it.XMPPIDs...)
	return nil
}

// sendFailed tells the frontend of the message's platform, if it listens, that a queued message was
// given up on.
func (g *Gateway) sendFailed(ctx context.Context, owner ids.Owner, it *delivery.Queued, err error) {
	g.mu.Lock()
	f := g.frontendLocked(it.Platform)
	g.mu.Unlock()
	if n, ok := f.(FailureNotifier); ok {
		n.SendFailed(ctx, owner, it.Platform, it.Message, it.XMPPIDs, it.Tag, err)
	}
}

// SendOptions are what SendMessage needs besides the message.
type SendOptions struct {
	// XMPPIDs are the stanza ids that name the message on the XMPP side
	// (its id, its origin-id): receipts, corrections and reactions coming
	// back from the platform name the first. Copies with an id already
	// sent are not sent again.
	XMPPIDs []string
	// Tag is handed back to the frontend (FailureNotifier.SendFailed) if
	// the message is queued for an unavailable platform and finally not
	// sent, even by a later process: what the frontend needs to answer
	// the message then.
	Tag string
	// NoQueue: an unavailable platform is an immediate error instead of a
	// wait in the retry queue (an operator's test message wants to know
	// now).
	NoQueue bool
	// Replayed marks a message the XMPP side handles again after a
	// restart (it was read, recorded in the intake and maybe sent before
	// the process died): if the store knows any of XMPPIDs as sent in the
	// chat, it is not sent again and that platform id is returned.
	Replayed bool
	// Admitted: the frontend made AdmitMessage's checks as the message
	// arrived, which took its token of the sender's message rate; the
	// rate is not checked again.
	Admitted bool
}
