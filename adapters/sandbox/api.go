package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// This file is the Platform API that tests and the demo use to play the
// platform's users.

// SendAs makes platform user from write body to the linked account to, and
// returns the message's id. The account's devices get it at once if they
// are connected, else when they connect. from may be any user of the
// directory (a scripted human, a bot, another account).
func (p *Platform) SendAs(ctx context.Context, from ids.UserID, to ids.AccountID, body string) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if body == "" {
		return "", fmt.Errorf("sandbox: empty message from %s: %w", from, gateway.ErrBadRequest)
	}
	if err := p.checkAccount(to); err != nil {
		return "", err
	}
	return p.route(outgoing{from: from, to: ids.UserID(to), body: body})
}

// SendReceipt makes platform user from report to the account to that it
// received (event.Delivered) or read (event.Displayed) the messages
// targets.
func (p *Platform) SendReceipt(ctx context.Context, from ids.UserID, to ids.AccountID, kind event.ReceiptKind, targets ...ids.MessageID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if kind != event.Delivered && kind != event.Displayed {
		return fmt.Errorf("sandbox: receipt kind %d: %w", kind, gateway.ErrBadRequest)
	}
	if len(targets) == 0 {
		return fmt.Errorf("sandbox: receipt without messages: %w", gateway.ErrBadRequest)
	}
	if err := p.checkAccount(to); err != nil {
		return err
	}
	if err := p.checkUser(from); err != nil {
		return err
	}
	p.deliver(ids.UserID(to), true, func(acct ids.AccountID) event.Event {
		return &event.Receipt{
			Meta:    event.Meta{Account: acct, Chat: ids.DirectChat(from), Sender: from, Time: p.now()},
			Kind:    kind,
			Targets: slices.Clone(targets),
		}
	})
	return nil
}

// SendGroupReceipt makes member from of group gid report to the account
// to that it read (or received) the account's messages targets there.
func (p *Platform) SendGroupReceipt(ctx context.Context, from ids.UserID, gid ids.ChatID, to ids.AccountID, kind event.ReceiptKind, targets ...ids.MessageID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if kind != event.Delivered && kind != event.Displayed {
		return fmt.Errorf("sandbox: receipt kind %d: %w", kind, gateway.ErrBadRequest)
	}
	if len(targets) == 0 {
		return fmt.Errorf("sandbox: receipt without messages: %w", gateway.ErrBadRequest)
	}
	if !IsGroupID(gid) {
		return fmt.Errorf("sandbox: %s is not a group: %w", gid, gateway.ErrUnknownChat)
	}
	if err := p.checkAccount(to); err != nil {
		return err
	}
	if err := p.checkUser(from); err != nil {
		return err
	}
	p.deliver(ids.UserID(to), true, func(acct ids.AccountID) event.Event {
		return &event.Receipt{
			Meta:    event.Meta{Account: acct, Chat: gid, Sender: from, Time: p.now(), Group: true},
			Kind:    kind,
			Targets: slices.Clone(targets),
		}
	})
	return nil
}

// Typing makes platform user from send a chat state to the account to.
// Like on a real platform, it reaches only devices that are connected.
func (p *Platform) Typing(from ids.UserID, to ids.AccountID, state event.ChatStateKind) error {
	if !validChatState(state) {
		return fmt.Errorf("sandbox: chat state %q: %w", state, gateway.ErrBadRequest)
	}
	if err := p.checkAccount(to); err != nil {
		return err
	}
	if err := p.checkUser(from); err != nil {
		return err
	}
	p.deliver(ids.UserID(to), false, func(acct ids.AccountID) event.Event {
		return &event.ChatState{
			Meta:  event.Meta{Account: acct, Chat: ids.DirectChat(from), Sender: from, Time: p.now()},
			State: state,
		}
	})
	return nil
}

// SetPresence changes a user's availability and status text and tells
// every connected account that has the user as a contact. When the user
// goes unavailable, the platform's clock gives their last-seen time
// (event.Presence.LastSeen, sent while they stay unavailable). Bots are
// always available: making one unavailable wraps gateway.ErrBadRequest.
func (p *Platform) SetPresence(id ids.UserID, available bool, status string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[id]
	if u == nil {
		return fmt.Errorf("sandbox: no user %s on the platform: %w", id, gateway.ErrUnknownChat)
	}
	if u.kind == KindBot && !available {
		return fmt.Errorf("sandbox: %s is a bot, and bots are always available: %w", id, gateway.ErrBadRequest)
	}
	if u.available && !available {
		u.lastSeen = p.now()
	}
	u.available, u.status = available, status
	p.watch.bump()
	p.broadcastPresenceLocked(id)
	return nil
}

// broadcastPresenceLocked tells every connected account that has user id
// as a contact about id's presence. The caller holds p.mu.
func (p *Platform) broadcastPresenceLocked(id ids.UserID) {
	for _, a := range p.accountsWithContactLocked(id) {
		p.deliverLocked(a, nil, false, nil, func() event.Event { return p.presenceLocked(a.id, id) })
	}
}

// accountsWithContactLocked lists the accounts, by number, that have user
// id as a contact. The caller holds p.mu.
//
// It is called each time an account comes online or goes offline, which
// with many accounts happens many times at start-up: a user that is not
// seeded is the contact of the accounts that learned it (contactOf, kept
// by learnLocked), so only those are looked at. A seeded user is everyone's
// contact but its own account's.
func (p *Platform) accountsWithContactLocked(id ids.UserID) []*account {
	var out []*account
	if slices.Contains(p.seeded, id) {
		out = make([]*account, 0, len(p.accounts))
		for acct, a := range p.accounts {
			if ids.UserID(acct) != id {
				out = append(out, a)
			}
		}
	} else {
		out = slices.Clone(p.contactOf[id])
	}
	slices.SortFunc(out, func(a, b *account) int { return strings.Compare(string(a.id), string(b.id)) })
	return out
}

// SendFileAs makes platform user from send a file to the linked account
// to, and returns the message's id. The file obeys the platform's rules
// (max_file_size, MediaTypes; an empty mimeType is sniffed from data);
// its kind follows from the type. The account gets an event.Message whose
// only attachment opens to data.
func (p *Platform) SendFileAs(ctx context.Context, from ids.UserID, to ids.AccountID, name, mimeType string, data []byte) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := p.checkAccount(to); err != nil {
		return "", err
	}
	f, err := p.newFile(name, mimeType, "", data)
	if err != nil {
		return "", err
	}
	return p.route(outgoing{from: from, to: ids.UserID(to), files: []File{f}})
}

// ReplyAs makes platform user from answer message replyTo (of its chat
// with the linked account to) with body, and returns the reply's id. The
// account gets an event.Message with ReplyTo, ReplyToSender and
// ReplyQuote set. A replyTo that is not in the chat, or was retracted,
// wraps gateway.ErrTargetNotFound.
func (p *Platform) ReplyAs(ctx context.Context, from ids.UserID, to ids.AccountID, replyTo ids.MessageID, body string) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if body == "" {
		return "", fmt.Errorf("sandbox: empty reply from %s: %w", from, gateway.ErrBadRequest)
	}
	if replyTo == "" {
		return "", fmt.Errorf("sandbox: a reply needs the message it answers: %w", gateway.ErrBadRequest)
	}
	if err := checkBody(body); err != nil {
		return "", err
	}
	if err := p.checkAccount(to); err != nil {
		return "", err
	}
	return p.route(outgoing{from: from, to: ids.UserID(to), body: body, replyTo: replyTo})
}

// EditAs makes platform user from edit its message target in its chat
// with the linked account to, under the platform's rules (see
// Session.EditMessage). The account gets an event.Edit.
func (p *Platform) EditAs(ctx context.Context, from ids.UserID, to ids.AccountID, target ids.MessageID, body string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkEditBody(body); err != nil {
		return err
	}
	if err := p.checkAccount(to); err != nil {
		return err
	}
	return p.edit(change{from: from, peer: ids.UserID(to), target: target, body: body})
}

// RetractAs makes platform user from withdraw its message target in its
// chat with the linked account to, under the platform's rules (see
// Session.RetractMessage). The account gets an event.Retract.
func (p *Platform) RetractAs(ctx context.Context, from ids.UserID, to ids.AccountID, target ids.MessageID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.checkAccount(to); err != nil {
		return err
	}
	return p.retract(change{from: from, peer: ids.UserID(to), target: target})
}

// ReactAs sets platform user from's reactions on message target of its
// chat with the linked account to: emojis is the full set, none removes
// them, and the platform allows one (see Session.SendReaction). The
// account gets an event.Reaction.
func (p *Platform) ReactAs(ctx context.Context, from ids.UserID, to ids.AccountID, target ids.MessageID, emojis ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.checkAccount(to); err != nil {
		return err
	}
	return p.react(change{from: from, peer: ids.UserID(to), target: target, emojis: emojis})
}

func (p *Platform) checkAccount(acct ids.AccountID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.accounts[acct] == nil {
		return fmt.Errorf("sandbox: %s has not linked an account: %w", acct, gateway.ErrUnknownChat)
	}
	return nil
}

func (p *Platform) checkUser(id ids.UserID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users[id] == nil {
		return fmt.Errorf("sandbox: no user %s on the platform: %w", id, gateway.ErrUnknownChat)
	}
	return nil
}

func validChatState(s event.ChatStateKind) bool {
	switch s {
	case event.Active, event.Composing, event.Paused, event.Inactive, event.Gone:
		return true
	}
	return false
}
