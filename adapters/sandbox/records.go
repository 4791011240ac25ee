package sandbox

import (
	"bytes"
	"context"
	"io"
	"slices"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Message is a message as the platform recorded it, with what happened to
// it since: edits, retraction, reactions.
type Message struct {
	ID   ids.MessageID
	From ids.UserID
	To   ids.UserID
	// Group is the group the message was written in (To is then empty).
	Group ids.ChatID
	// Body is the text as it is now (after the edits in Edits).
	Body        string
	Attachments []File
	// ReplyTo is the message this one answers, in the same chat; then
	// ReplyToSender is its author and ReplyQuote an excerpt of it, as
	// the platform showed it when the reply was sent.
	ReplyTo       ids.MessageID
	ReplyToSender ids.UserID
	ReplyQuote    string
	Mentions      []ids.UserID
	// Time is when the platform took the message; the edit and retract
	// windows count from it.
	Time time.Time
	// Edits are the corrections of the message, oldest first.
	Edits []Revision
	// Retracted is set once the author withdrew the message, at
	// RetractedAt. The message stays in the record.
	Retracted   bool
	RetractedAt time.Time
	// Reactions maps each user who reacted to their reactions; a user
	// who removed theirs has no entry.
	Reactions map[ids.UserID][]string
}

// File is an attachment as the platform stored it.
type File struct {
	Name     string
	MIMEType string
	Kind     event.AttachmentKind
	Data     []byte
}

// Revision is one edit of a message.
type Revision struct {
	// ID is the platform's id of the edit itself.
	ID ids.MessageID
	// Previous is the body before the edit, Body the body it set.
	Previous string
	Body     string
	Time     time.Time
}

// event is the message as account acct sees it in its chat with peer.
func (m *Message) event(acct ids.AccountID, peer ids.UserID) *event.Message {
	ev := &event.Message{
		Meta:          event.Meta{Account: acct, Chat: ids.DirectChat(peer), Sender: m.From, Time: m.Time, ID: m.ID},
		Body:          m.Body,
		ReplyTo:       m.ReplyTo,
		ReplyToSender: m.ReplyToSender,
		ReplyQuote:    m.ReplyQuote,
		Mentions:      slices.Clone(m.Mentions),
	}
	for _, f := range m.Attachments {
		ev.Attachments = append(ev.Attachments, f.attachment())
	}
	return ev
}

// attachment describes f to the hub; Open reads the stored bytes.
func (f File) attachment() event.Attachment {
	data := f.Data
	return event.Attachment{
		Name:     f.Name,
		MIMEType: f.MIMEType,
		Size:     int64(len(data)),
		Kind:     f.Kind,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(data)), nil
		},
	}
}

// clone is a deep copy of m, safe to hand out.
func (m *Message) clone() Message {
	c := *m
	c.Attachments = make([]File, len(m.Attachments))
	for i, f := range m.Attachments {
		f.Data = slices.Clone(f.Data)
		c.Attachments[i] = f
	}
	if m.Attachments == nil {
		c.Attachments = nil
	}
	c.Mentions = slices.Clone(m.Mentions)
	c.Edits = slices.Clone(m.Edits)
	if m.Reactions != nil {
		c.Reactions = make(map[ids.UserID][]string, len(m.Reactions))
		for u, r := range m.Reactions {
			c.Reactions[u] = slices.Clone(r)
		}
	}
	return c
}

// between reports whether m belongs to the one-to-one chat of a and b, or
// to the group b.
func (m *Message) between(a, b ids.UserID) bool {
	if m.Group != "" {
		return ids.UserID(m.Group) == b
	}
	return (m.From == a && m.To == b) || (m.From == b && m.To == a)
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
	return p.messages(func(m *Message) bool { return m.From == ids.UserID(acct) })
}

// Received returns every message that reached user (a bot, a scripted
// human or an account), with its sender and body, in the order the
// platform took them.
func (p *Platform) Received(id ids.UserID) []Message {
	return p.messages(func(m *Message) bool { return m.To == id })
}

// MessageByID returns the platform's record of one message (an edit,
// retraction or reaction has no record of its own: it is part of the
// message it changed).
func (p *Platform) MessageByID(id ids.MessageID) (Message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.byID[id]
	if m == nil {
		return Message{}, false
	}
	return m.clone(), true
}

func (p *Platform) messages(keep func(*Message) bool) []Message {
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
