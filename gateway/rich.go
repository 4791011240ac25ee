package gateway

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// platformID maps a stanza id the owner's client used to the platform's
// message id; chat is the chat's delivery.ChatKey, as in remember and
// checkWindow. Messages from the platform carry the platform id as their
// stanza id, so an unknown id is taken as a platform id.
func (g *Gateway) platformID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string) ids.MessageID {
	if id, ok := g.idmap.PlatformID(ctx, owner, chat, xmppID); ok {
		return id
	}
	// A platform message the frontend showed as several stanzas: each
	// part's id names the message (ids.PartID).
	id, _ := ids.SplitPart(ids.MessageID(xmppID))
	return id
}

// remember records the stanza ids that name a platform message, for
// receipts, corrections and reactions that come back later. Every id maps
// to the platform id; the platform id maps back to xmppIDs[0], the id the
// user's clients know the message by (written last: the store keeps the
// last pair in that direction).
func (g *Gateway) remember(ctx context.Context, owner ids.Owner, chat ids.ChatID, id ids.MessageID, xmppIDs ...string) {
	g.idmap.Put(ctx, owner, chat, id, 0, xmppIDs...)
}

// checkWindow refuses an edit or retraction of a message older than window,
// when the hub remembers when it was sent.
func (g *Gateway) checkWindow(owner ids.Owner, chat ids.ChatID, target ids.MessageID, window time.Duration, what string) error {
	if window <= 0 {
		return nil
	}
	at, ok := g.sent.Get(owner, chat, target)
	if !ok {
		return nil
	}
	if age := now().Sub(at); age > window {
		return fmt.Errorf("the %s window of %s has passed (the message is %s old): %w", what, window, age.Round(time.Second), ErrNotAcceptable)
	}
	return nil
}

// EditMessage corrects one of owner's messages (XEP-0308). targetXMPPID
// names the original as the client knows it; xmppID is the correction's own
// stanza id, remembered so that later corrections may name it instead.
func (g *Gateway) EditMessage(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, targetXMPPID, body, xmppID string) (err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "edit", t0, err) }(time.Now())
	l, err := g.session(owner, platform)
	if err != nil {
		return err
	}
	if err := CheckStanzaIDs(targetXMPPID, xmppID); err != nil { // limits.go
		return err
	}
	caps := l.session.Capabilities(chat)
	ed, ok := l.session.(Editor)
	if !ok || !caps.Edits {
		return fmt.Errorf("corrections: %w", ErrNotSupported)
	}
	if err := g.checkMessage(owner, caps, &event.Message{Body: body}, true); err != nil { // limits.go
		return err
	}
	key := delivery.ChatKey(platform, chat)
	target := g.platformID(ctx, owner, key, targetXMPPID)
	if err := g.checkWindow(owner, key, target, caps.EditWindow, "edit"); err != nil {
		return err
	}
	e := &event.Edit{Meta: event.Meta{Account: l.account, Chat: chat, FromMe: true, Time: now()}, Target: target, Body: body}
	if err := ed.EditMessage(ctx, e); err != nil {
		return fmt.Errorf("edit %s: %w", target, err)
	}
	g.remember(ctx, owner, key, target, targetXMPPID, xmppID)
	return nil
}

// RetractMessage withdraws one of owner's messages for everyone (XEP-0424).
func (g *Gateway) RetractMessage(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, targetXMPPID string) (err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "retract", t0, err) }(time.Now())
	l, err := g.session(owner, platform)
	if err != nil {
		return err
	}
	caps := l.session.Capabilities(chat)
	rt, ok := l.session.(Retracter)
	if !ok || !caps.Retractions {
		return fmt.Errorf("retractions: %w", ErrNotSupported)
	}
	key := delivery.ChatKey(platform, chat)
	target := g.platformID(ctx, owner, key, targetXMPPID)
	if err := g.checkWindow(owner, key, target, caps.RetractWindow, "retraction"); err != nil {
		return err
	}
	r := &event.Retract{Meta: event.Meta{Account: l.account, Chat: chat, FromMe: true, Time: now()}, Target: target}
	if err := rt.RetractMessage(ctx, r); err != nil {
		return fmt.Errorf("retract %s: %w", target, err)
	}
	return nil
}

// React sets owner's full set of reactions on a message (XEP-0444).
func (g *Gateway) React(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, targetXMPPID string, emojis []string) (err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "reaction", t0, err) }(time.Now())
	l, err := g.session(owner, platform)
	if err != nil {
		return err
	}
	if err := g.checkMessageRate(owner); err != nil { // limits.go
		return err
	}
	caps := l.session.Capabilities(chat)
	rc, ok := l.session.(Reactor)
	if !ok || !caps.Reactions {
		return fmt.Errorf("reactions: %w", ErrNotSupported)
	}
	emojis = dedupe(emojis)
	if caps.MaxReactionsPerUser > 0 && len(emojis) > caps.MaxReactionsPerUser {
		return fmt.Errorf("the platform allows %d reaction(s) per person on a message, not %d: %w", caps.MaxReactionsPerUser, len(emojis), ErrNotAcceptable)
	}
	for _, e := range emojis {
		if len(caps.AllowedReactions) > 0 && !slices.Contains(caps.AllowedReactions, e) {
			return fmt.Errorf("the platform does not accept the reaction %q: %w", e, ErrNotAcceptable)
		}
	}
	r := &event.Reaction{Meta: event.Meta{Account: l.account, Chat: chat, FromMe: true, Time: now()},
		Target: g.platformID(ctx, owner, delivery.ChatKey(platform, chat), targetXMPPID), Emojis: emojis}
	if err := rc.SendReaction(ctx, r); err != nil {
		return fmt.Errorf("react to %s: %w", r.Target, err)
	}
	return nil
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkCapabilities applies a chat's capabilities to an outbound message
// (part of checkMessage).
func checkCapabilities(caps Capabilities, msg *event.Message) error {
	if caps.MaxBodyLength > 0 && len(msg.Body) > caps.MaxBodyLength {
		return fmt.Errorf("message of %d bytes exceeds the platform's limit of %d: %w", len(msg.Body), caps.MaxBodyLength, ErrNotSupported)
	}
	if msg.ReplyTo != "" && !caps.Replies {
		return fmt.Errorf("replies: %w", ErrNotSupported)
	}
	return checkAttachments(caps, msg.Attachments)
}

// checkAttachments applies a chat's capabilities to the files of an
// outbound message: whether it takes files, their size and type.
func checkAttachments(caps Capabilities, attachments []event.Attachment) error {
	for _, a := range attachments {
		if caps.MaxFileSize == 0 {
			return fmt.Errorf("files: %w", ErrNotSupported)
		}
		if a.Size > caps.MaxFileSize {
			return fmt.Errorf("file of %d bytes exceeds the platform's limit of %d bytes: %w", a.Size, caps.MaxFileSize, ErrNotAcceptable)
		}
		if a.MIMEType != "" && !caps.AllowsMediaType(a.MIMEType) {
			return fmt.Errorf("the platform does not accept files of type %s: %w", a.MIMEType, ErrNotAcceptable)
		}
	}
	return nil
}
