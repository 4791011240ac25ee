package gateway

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// SendMessage sends owner's message to msg.Chat and remembers which platform
// id answers the XMPP stanza ids (id, origin-id) for receipts, corrections
// and reactions coming back. msg.ReplyTo, if set, is the stanza id of the
// message answered, as the client knows it. The hub refuses what the chat's
// capabilities exclude before calling the adapter. While the platform is
// unavailable the message may wait in the retry queue (ErrQueued; see
// SendOptions).
func (g *Gateway) SendMessage(ctx context.Context, owner ids.Owner, platform ids.PlatformID, msg *event.Message, opts SendOptions) (id ids.MessageID, err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "message", t0, err) }(time.Now())
	xmppIDs := opts.XMPPIDs
	mayQueue := g.retry.Enabled() && !opts.NoQueue
	l, err := g.session(owner, platform)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(msg.Body) == "" && len(msg.Attachments) == 0 {
		return "", fmt.Errorf("empty message: %w", ErrBadRequest)
	}
	if err := CheckStanzaIDs(xmppIDs...); err != nil { // limits.go
		return "", err
	}
	// A copy of a message already sent (a client re-sending after its
	// stream broke) is not sent again: the user sees it once.
	sum := g.idmap.Sum(msg)
	// The chat as the id map and the queues know it (delivery.ChatKey).
	chatKey := delivery.ChatKey(platform, msg.Chat)
	var fetched []bool // which attachments the hub downloaded
	queue := func() bool {
		// Downloaded files go when SendMessage returns: the queued copy
		// downloads them again when it is sent (sendQueued).
		q := *msg
		q.Attachments = slices.Clone(msg.Attachments)
		for i, f := range fetched {
			if f {
				q.Attachments[i].Open = nil
			}
		}
		return g.retry.Add(ctx, owner, delivery.Queued{Platform: platform, Message: &q, Sum: sum, XMPPIDs: xmppIDs, Tag: opts.Tag})
	}
	if opts.Replayed {
		if id, sent := g.idmap.SentBefore(ctx, owner, chatKey, xmppIDs); sent {
			g.log.Info("replayed message was sent before the restart; not again", "owner", owner, "chat", msg.Chat, "id", xmppIDs)
			return id, nil
		}
	}
	if id, dup := g.idmap.Duplicate(ctx, owner, chatKey, sum, xmppIDs); dup {
		g.log.Info("duplicate message not sent again", "owner", owner, "chat", msg.Chat, "id", xmppIDs)
		return id, nil
	}
	if g.retry.Holds(owner, chatKey, sum, xmppIDs) {
		return "", ErrQueued
	}
	caps := l.session.Capabilities(msg.Chat)
	if err := g.checkMessage(owner, caps, msg, !opts.Admitted); err != nil { // limits.go
		return "", err
	}
	for _, a := range msg.Attachments {
		fetched = append(fetched, a.Open == nil && a.URL != "")
	}
	release, err := g.fetchAttachments(ctx, owner, caps, msg)
	defer release()
	if err != nil {
		return "", err
	}
	if msg.ReplyTo != "" {
		msg.ReplyTo = g.platformID(ctx, owner, chatKey, string(msg.ReplyTo))
	}
	msg.Account, msg.FromMe = l.account, true
	if msg.Time.IsZero() {
		msg.Time = now()
	}
	if mayQueue && g.retry.Waiting(owner, chatKey) {
		// Earlier messages of this chat wait for the platform: this one
		// goes behind them, to keep the order.
		if queue() {
			return "", ErrQueued
		}
		return "", fmt.Errorf("send to %s: too many messages waiting for the platform: %w", msg.Chat, ErrUnavailable)
	}
	g.sending.Begin(owner, chatKey)
	defer g.sending.End(owner, chatKey)
	id, err = l.session.SendMessage(ctx, msg)
	if err != nil {
		if errors.Is(err, ErrUnavailable) && mayQueue && queue() {
			return "", ErrQueued
		}
		return "", fmt.Errorf("send to %s: %w", msg.Chat, err)
	}
	g.sent.Put(owner, chatKey, id, msg.Time)
	g.idmap.Put(ctx, owner, chatKey, id, sum, xmppIDs...)
	return id, nil
}

// SendReceipt tells the platform that owner received or read messages.
// xmppIDs are stanza ids as the XMPP client saw them. Without ReceiptSender
// support the receipt is dropped (a receipt never needs an error reply).
func (g *Gateway) SendReceipt(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, kind event.ReceiptKind, xmppIDs []string) (err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "receipt", t0, err) }(time.Now())
	l, err := g.session(owner, platform)
	if err != nil {
		return err
	}
	rs, ok := l.session.(ReceiptSender)
	caps := l.session.Capabilities(chat)
	if !ok || (kind == event.Delivered && !caps.Receipts) || (kind == event.Displayed && !caps.ReadMarkers) {
		return ErrNotSupported
	}
	r := &event.Receipt{Meta: event.Meta{Account: l.account, Chat: chat, FromMe: true, Time: now()}, Kind: kind}
	for _, x := range xmppIDs {
		// Inbound messages carry the platform id as their stanza id; the
		// parts of one message are one target.
		if id := g.platformID(ctx, owner, delivery.ChatKey(platform, chat), x); !slices.Contains(r.Targets, id) {
			r.Targets = append(r.Targets, id)
		}
	}
	return rs.SendReceipt(ctx, r)
}

// SendChatState forwards a typing notification.
func (g *Gateway) SendChatState(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, state event.ChatStateKind) (err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "chatstate", t0, err) }(time.Now())
	l, err := g.session(owner, platform)
	if err != nil {
		return err
	}
	cs, ok := l.session.(ChatStateSender)
	if !ok || !l.session.Capabilities(chat).ChatStates {
		return ErrNotSupported
	}
	return cs.SendChatState(ctx, &event.ChatState{Meta: event.Meta{Account: l.account, Chat: chat, FromMe: true, Time: now()}, State: state})
}

// Capabilities returns the limits of a chat for owner, or the zero value if
// owner has no linked session.
func (g *Gateway) Capabilities(owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) (Capabilities, bool) {
	l, err := g.session(owner, platform)
	if err != nil {
		return Capabilities{}, false
	}
	return l.session.Capabilities(chat), true
}

var phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// NormalizePhone turns "+1 (555) 000-1111" or "0015550001111" into E.164
// "+15550001111". ErrBadRequest if it cannot.
func NormalizePhone(input string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(input) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", fmt.Errorf("%q is not a phone number: %w", input, ErrBadRequest)
		}
	}
	s := b.String()
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !phoneRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a phone number in international format (+15550001111): %w", input, ErrBadRequest)
	}
	return s, nil
}

// ResolveUser turns what owner typed (a phone number) into a platform user,
// asking the platform when it can (UserResolver).
func (g *Gateway) ResolveUser(ctx context.Context, owner ids.Owner, platform ids.PlatformID, input string) (ids.UserID, error) {
	l, err := g.session(owner, platform)
	if err == nil {
		if r, ok := l.session.(UserResolver); ok {
			return r.ResolveUser(ctx, input)
		}
	}
	if a, ok := g.adapters[platform]; ok {
		if r, ok := a.(UserResolver); ok {
			return r.ResolveUser(ctx, input)
		}
	}
	p, err := NormalizePhone(input)
	if err != nil {
		return "", err
	}
	return ids.UserID(p), nil
}
