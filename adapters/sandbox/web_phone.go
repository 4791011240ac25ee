package sandbox

import (
	"context"
	"slices"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// readBy makes person me report that it read targets of its chat with
// peer: an account gets the Displayed receipt (SendReceipt); the platform
// records it either way, for the page of a peer that is a person.
func (p *Platform) readBy(ctx context.Context, me, peer ids.UserID, targets []ids.MessageID) error {
	if err := p.checkAccount(ids.AccountID(peer)); err == nil {
		if err := p.SendReceipt(ctx, me, ids.AccountID(peer), event.Displayed, targets...); err != nil {
			return err
		}
	} else if err := p.checkUser(peer); err != nil {
		return err
	} else if len(targets) == 0 {
		return badRequest("a read receipt without messages")
	}
	p.mu.Lock()
	p.receipts = append(p.receipts, Receipt{From: me, To: peer, Kind: event.Displayed, Targets: slices.Clone(targets), Time: p.now()})
	p.mu.Unlock()
	p.watch.bump()
	return nil
}

// typingBy makes person me send a chat state to peer: an account's
// connected devices get it (Typing); the platform records it either way,
// for the page of a peer that is a person.
func (p *Platform) typingBy(me, peer ids.UserID, state event.ChatStateKind) error {
	if err := p.checkAccount(ids.AccountID(peer)); err == nil {
		if err := p.Typing(me, ids.AccountID(peer), state); err != nil {
			return err
		}
	} else if err := p.checkUser(peer); err != nil {
		return err
	} else if !validChatState(state) {
		return badRequest("chat state %q", state)
	}
	p.mu.Lock()
	p.states = append(p.states, ChatState{From: me, To: peer, State: state, Time: p.now()})
	p.mu.Unlock()
	p.watch.bump()
	return nil
}
