package sandbox

import (
	"fmt"
	"slices"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// outgoing is a message handed to the platform.
type outgoing struct {
	from     ids.UserID
	to       ids.UserID
	body     string
	files    []File
	replyTo  ids.MessageID
	mentions []ids.UserID
	// fromDevice is the device that sent it, if any: it gets no copy.
	fromDevice *device
	// id, if set, was taken earlier (a bot's reply); else route takes one.
	id ids.MessageID
}

// route records a message and delivers it: a copy (FromMe) to the sender's
// other devices, the message to every device of the recipient if it is an
// account, and the message to the bot if the recipient is one. A message
// to oneself is only recorded and copied to one's other devices. A reply
// must answer a message of the same chat that was not retracted (else
// gateway.ErrTargetNotFound).
func (p *Platform) route(o outgoing) (ids.MessageID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users[o.to] == nil {
		return "", gateway.Explain(fmt.Sprintf("Nobody uses %s on the sandbox.", o.to),
			fmt.Errorf("sandbox: no user %s on the platform: %w", o.to, gateway.ErrUnknownChat))
	}
	if p.users[o.from] == nil {
		return "", fmt.Errorf("sandbox: no user %s on the platform: %w", o.from, gateway.ErrUnknownChat)
	}
	rec := &Message{
		From: o.from, To: o.to, Body: o.body, Time: p.now(),
		Attachments: slices.Clone(o.files), Mentions: slices.Clone(o.mentions),
	}
	if o.replyTo != "" {
		orig, err := p.targetLocked(o.from, o.to, o.replyTo)
		if err != nil {
			return "", fmt.Errorf("sandbox: cannot reply: %w", err)
		}
		rec.ReplyTo, rec.ReplyToSender, rec.ReplyQuote = orig.ID, orig.From, quote(orig)
	}
	rec.ID = o.id
	if rec.ID == "" {
		rec.ID = p.mintIDLocked()
	}
	id := rec.ID
	p.log = append(p.log, rec)
	p.byID[id] = rec
	p.watch.bump()
	snap := *rec

	sender := p.accounts[ids.AccountID(o.from)]
	if sender != nil {
		p.deliverLocked(sender, o.fromDevice, true, nil, func() event.Event {
			ev := snap.event(sender.id, o.to)
			ev.FromMe = true
			return ev
		})
		p.learnLocked(sender, o.to)
	}
	if o.to == o.from {
		return id, nil
	}
	if rcpt := p.accounts[ids.AccountID(o.to)]; rcpt != nil {
		if p.learnLocked(rcpt, o.from) {
			p.deliverLocked(rcpt, nil, true, nil, func() event.Event { return p.contactInfoLocked(rcpt.id, o.from) })
		}
		var ack func()
		if sender != nil {
			ack = func() { p.ackDelivered(id, sender.id, o.to) }
		}
		p.deliverLocked(rcpt, nil, true, ack, func() event.Event { return snap.event(rcpt.id, o.from) })
	}
	if bot := p.users[o.to]; bot.kind == KindBot && sender != nil {
		p.botReceiveLocked(bot, sender.id, snap)
	}
	return id, nil
}

// spreadLocked delivers an event about the chat of from and to (an edit,
// a retraction, a reaction of from): a copy (FromMe) to from's devices
// except skip, and the event to to's devices, each built by mk for the
// account and the other party of the chat. The caller holds p.mu.
func (p *Platform) spreadLocked(from, to ids.UserID, skip *device, mk func(acct ids.AccountID, peer ids.UserID) event.Event) {
	if IsGroupID(ids.ChatID(to)) {
		p.groupSpreadLocked(from, ids.ChatID(to), skip, mk) // groups.go
		return
	}
	if a := p.accounts[ids.AccountID(from)]; a != nil {
		p.deliverLocked(a, skip, true, nil, func() event.Event {
			ev := mk(a.id, to)
			ev.EventMeta().FromMe = true
			return ev
		})
	}
	if to == from {
		return
	}
	if b := p.accounts[ids.AccountID(to)]; b != nil {
		p.deliverLocked(b, nil, true, nil, func() event.Event { return mk(b.id, from) })
	}
}

// deliverLocked queues an event built by mk on every device of a except
// skip. The caller holds p.mu.
func (p *Platform) deliverLocked(a *account, skip *device, persistent bool, onEmitted func(), mk func() event.Event) {
	for _, d := range a.devices {
		if d != skip {
			d.pushLocked(queued{ev: mk(), persistent: persistent, onEmitted: onEmitted})
		}
	}
}

// deliver is deliverLocked for callers that do not hold p.mu. It is a
// no-op for users that are not accounts.
func (p *Platform) deliver(to ids.UserID, persistent bool, mk func(acct ids.AccountID) event.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accounts[ids.AccountID(to)]
	if a == nil {
		return
	}
	p.deliverLocked(a, nil, persistent, nil, func() event.Event { return mk(a.id) })
}

// ackDelivered sends the sender of message id a Delivered receipt from its
// recipient, once, when the first device of the recipient got the message.
func (p *Platform) ackDelivered(id ids.MessageID, sender ids.AccountID, rcpt ids.UserID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.acked[id] {
		return
	}
	p.acked[id] = true
	if a := p.accounts[sender]; a != nil {
		p.deliverLocked(a, nil, true, nil, func() event.Event {
			return &event.Receipt{
				Meta:    event.Meta{Account: a.id, Chat: ids.DirectChat(rcpt), Sender: rcpt, Time: p.now()},
				Kind:    event.Delivered,
				Targets: []ids.MessageID{id},
			}
		})
	}
}

// ownerReceipt records a receipt the owner of acct sent and forwards it to
// the contact if the contact is a linked account.
func (p *Platform) ownerReceipt(acct ids.AccountID, r *event.Receipt) error {
	to := ids.UserID(r.Chat)
	if err := p.checkUser(to); err != nil {
		return err
	}
	p.mu.Lock()
	p.receipts = append(p.receipts, Receipt{
		From: ids.UserID(acct), To: to, Kind: r.Kind, Targets: slices.Clone(r.Targets), Time: p.now(),
	})
	p.watch.bump()
	p.mu.Unlock()
	if to == ids.UserID(acct) {
		return nil
	}
	p.deliver(to, true, func(rcpt ids.AccountID) event.Event {
		return &event.Receipt{
			Meta:    event.Meta{Account: rcpt, Chat: ids.DirectChat(ids.UserID(acct)), Sender: ids.UserID(acct), Time: p.now()},
			Kind:    r.Kind,
			Targets: slices.Clone(r.Targets),
		}
	})
	return nil
}

// ownerChatState records a chat state the owner of acct sent and forwards
// it to the contact's connected devices if the contact is a linked account.
func (p *Platform) ownerChatState(acct ids.AccountID, s *event.ChatState) error {
	to := ids.UserID(s.Chat)
	if err := p.checkUser(to); err != nil {
		return err
	}
	p.mu.Lock()
	p.states = append(p.states, ChatState{From: ids.UserID(acct), To: to, State: s.State, Time: p.now()})
	p.watch.bump()
	p.mu.Unlock()
	if to == ids.UserID(acct) {
		return nil
	}
	p.deliver(to, false, func(rcpt ids.AccountID) event.Event {
		return &event.ChatState{
			Meta:  event.Meta{Account: rcpt, Chat: ids.DirectChat(ids.UserID(acct)), Sender: ids.UserID(acct), Time: p.now()},
			State: s.State,
		}
	})
	return nil
}
