package sandbox

import (
	"slices"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Message is a message as the platform recorded it.
type Message struct {
	ID          ids.MessageID
	From        ids.UserID
	To          ids.UserID
	Body        string
	Attachments []event.Attachment
	ReplyTo     ids.MessageID
	Mentions    []ids.UserID
	Time        time.Time
}

// event is the message as account acct sees it in its chat with peer.
func (m Message) event(acct ids.AccountID, peer ids.UserID) *event.Message {
	return &event.Message{
		Meta:        event.Meta{Account: acct, Chat: ids.DirectChat(peer), Sender: m.From, Time: m.Time, ID: m.ID},
		Body:        m.Body,
		Attachments: slices.Clone(m.Attachments),
		ReplyTo:     m.ReplyTo,
		Mentions:    slices.Clone(m.Mentions),
	}
}

func (m Message) clone() Message {
	m.Attachments = slices.Clone(m.Attachments)
	m.Mentions = slices.Clone(m.Mentions)
	return m
}

// Receipt is a receipt an account's owner sent, as the platform recorded it.
type Receipt struct {
	From    ids.UserID
	To      ids.UserID
	Kind    event.ReceiptKind
	Targets []ids.MessageID
	Time    time.Time
}

// ChatState is a chat state an account's owner sent, as the platform
// recorded it.
type ChatState struct {
	From  ids.UserID
	To    ids.UserID
	State event.ChatStateKind
	Time  time.Time
}

// Messages returns every message the account sent onto the platform
// (from any of its devices, or from its phone through SendAs), in the order
// the platform took them.
func (p *Platform) Messages(acct ids.AccountID) []Message {
	return p.messages(func(m Message) bool { return m.From == ids.UserID(acct) })
}

// Received returns every message that reached user (a bot, a scripted
// human or an account), with its sender and body, in the order the
// platform took them.
func (p *Platform) Received(id ids.UserID) []Message {
	return p.messages(func(m Message) bool { return m.To == id })
}

func (p *Platform) messages(keep func(Message) bool) []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Message
	for _, m := range p.log {
		if keep(m) {
			out = append(out, m.clone())
		}
	}
	return out
}

// Receipts returns the receipts the owner of acct sent, in order.
func (p *Platform) Receipts(acct ids.AccountID) []Receipt {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Receipt
	for _, r := range p.receipts {
		if r.From == ids.UserID(acct) {
			r.Targets = slices.Clone(r.Targets)
			out = append(out, r)
		}
	}
	return out
}

// ChatStates returns the chat states the owner of acct sent, in order.
func (p *Platform) ChatStates(acct ids.AccountID) []ChatState {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ChatState
	for _, s := range p.states {
		if s.From == ids.UserID(acct) {
			out = append(out, s)
		}
	}
	return out
}
