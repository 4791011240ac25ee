package sandbox

import (
	"context"
	"fmt"
	"slices"

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
// every connected account that has the user as a contact.
func (p *Platform) SetPresence(id ids.UserID, available bool, status string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[id]
	if u == nil {
		return fmt.Errorf("sandbox: no user %s on the platform: %w", id, gateway.ErrUnknownChat)
	}
	if u.available && !available {
		u.lastSeen = p.now()
	}
	u.available, u.status = available, status
	p.broadcastPresenceLocked(id)
	return nil
}

// broadcastPresenceLocked tells every connected account that has user id
// as a contact about id's presence. The caller holds p.mu.
func (p *Platform) broadcastPresenceLocked(id ids.UserID) {
	accts := make([]ids.AccountID, 0, len(p.accounts))
	for acct := range p.accounts {
		accts = append(accts, acct)
	}
	slices.Sort(accts)
	for _, acct := range accts {
		a := p.accounts[acct]
		if slices.Contains(p.contactsLocked(a), id) {
			p.deliverLocked(a, nil, false, nil, func() event.Event { return p.presenceLocked(a.id, id) })
		}
	}
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
