package sandbox

import (
	"slices"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// botKind is the behaviour of a bot user.
type botKind int

const (
	notBot botKind = iota
	echoBot
	quietBot
)

// echoPrefix starts every answer of the Echo Bot.
const echoPrefix = "echo: "

// botKey names the serial queue of a bot's chat with an account.
func botKey(bot ids.UserID, acct ids.AccountID) string {
	return string(bot) + "|" + string(acct)
}

// botReceiveLocked is called (with p.mu held) when bot got message rec
// from the account acct. What the bot will do is decided here, including
// the id of its reply, so ids do not depend on scheduling; doing it runs
// on the bot's own goroutine for this chat, in order.
func (p *Platform) botReceiveLocked(bot *user, acct ids.AccountID, rec Message) {
	key := botKey(bot.id, acct)
	switch bot.bot {
	case echoBot:
		// Every message has a body or files, so every message gets an echo.
		reply := p.mintIDLocked()
		p.echoes[rec.ID] = reply
		p.echoed[reply] = rec.ID
		p.scheduleLocked(key, func() { p.runEcho(bot.id, acct, rec, reply) })
	case quietBot:
		p.scheduleLocked(key, func() {
			p.botReceipt(bot.id, acct, event.Delivered, rec.ID)
			p.botReceipt(bot.id, acct, event.Displayed, rec.ID)
		})
	}
}

// echoBody is the Echo Bot's text for a message with body.
func echoBody(body string) string {
	if body == "" {
		return ""
	}
	return echoPrefix + body
}

// runEcho is the Echo Bot's answer to rec: Delivered receipt, Composing,
// (echo_delay), the reply ("echo: <body>", with the same files), Displayed
// receipt; with echo_reply_only, the reply alone.
func (p *Platform) runEcho(bot ids.UserID, acct ids.AccountID, rec Message, reply ids.MessageID) {
	p.mu.Lock()
	replyOnly := p.echoReplyOnly
	p.mu.Unlock()
	if replyOnly {
		_, _ = p.route(outgoing{from: bot, to: ids.UserID(acct), body: echoBody(rec.Body), files: rec.Attachments, id: reply})
		return
	}
	p.botReceipt(bot, acct, event.Delivered, rec.ID)
	p.deliver(ids.UserID(acct), false, func(a ids.AccountID) event.Event {
		return &event.ChatState{
			Meta:  event.Meta{Account: a, Chat: ids.DirectChat(bot), Sender: bot, Time: p.now()},
			State: event.Composing,
		}
	})
	p.pause()
	// The account may have vanished meanwhile; then there is no one to
	// answer and the error is of no interest.
	_, _ = p.route(outgoing{from: bot, to: ids.UserID(acct), body: echoBody(rec.Body), files: rec.Attachments, id: reply})
	p.botReceipt(bot, acct, event.Displayed, rec.ID)
}

// isEchoChatLocked reports whether c is something an account did in its
// chat with the Echo Bot, and returns the bot. The caller holds p.mu.
func (p *Platform) isEchoChatLocked(c change) (*user, bool) {
	bot := p.users[c.peer]
	if bot == nil || bot.bot != echoBot || p.accounts[ids.AccountID(c.from)] == nil {
		return nil, false
	}
	return bot, true
}

// botEditLocked: when an account edits a message it sent to the Echo Bot,
// the bot edits its echo of it to "echo: <new body>". The caller holds
// p.mu.
func (p *Platform) botEditLocked(c change, m *Message) {
	bot, ok := p.isEchoChatLocked(c)
	reply, echoed := p.echoes[m.ID]
	if !ok || !echoed {
		return
	}
	acct, id, body := ids.AccountID(c.from), p.mintIDLocked(), echoBody(c.body)
	p.scheduleLocked(botKey(bot.id, acct), func() {
		// The echo may be gone (retracted); then there is nothing to edit.
		_ = p.edit(change{from: bot.id, peer: ids.UserID(acct), target: reply, body: body, id: id})
	})
}

// botRetractLocked: when an account retracts a message it sent to the
// Echo Bot, the bot retracts its echo of it. The caller holds p.mu.
func (p *Platform) botRetractLocked(c change, m *Message) {
	bot, ok := p.isEchoChatLocked(c)
	reply, echoed := p.echoes[m.ID]
	if !ok || !echoed {
		return
	}
	acct, id := ids.AccountID(c.from), p.mintIDLocked()
	p.scheduleLocked(botKey(bot.id, acct), func() {
		_ = p.retract(change{from: bot.id, peer: ids.UserID(acct), target: reply, id: id})
	})
}

// botReactLocked: when an account sets its reactions on one of the Echo
// Bot's echoes, the bot sets the same reactions (or none) on the message
// the echo answered. The caller holds p.mu.
func (p *Platform) botReactLocked(c change, m *Message, emojis []string) {
	bot, ok := p.isEchoChatLocked(c)
	orig, isEcho := p.echoed[m.ID]
	if !ok || !isEcho {
		return
	}
	acct, id, emojis := ids.AccountID(c.from), p.mintIDLocked(), slices.Clone(emojis)
	p.scheduleLocked(botKey(bot.id, acct), func() {
		// The original may have been retracted meanwhile.
		_ = p.react(change{from: bot.id, peer: ids.UserID(acct), target: orig, emojis: emojis, id: id})
	})
}

func (p *Platform) botReceipt(bot ids.UserID, acct ids.AccountID, kind event.ReceiptKind, target ids.MessageID) {
	p.deliver(ids.UserID(acct), true, func(a ids.AccountID) event.Event {
		return &event.Receipt{
			Meta:    event.Meta{Account: a, Chat: ids.DirectChat(bot), Sender: bot, Time: p.now()},
			Kind:    kind,
			Targets: []ids.MessageID{target},
		}
	})
}

// pause waits echo_delay, or less if the platform is closed.
func (p *Platform) pause() {
	p.mu.Lock()
	d := p.echoDelay
	p.mu.Unlock()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.done:
	}
}

// serialQueue runs the jobs of one chat one after another.
type serialQueue struct {
	jobs    []func()
	running bool
}

// scheduleLocked queues job on the goroutine of key, starting it if needed.
// The goroutine ends when its queue is empty. The caller holds p.mu.
func (p *Platform) scheduleLocked(key string, job func()) {
	q := p.serial[key]
	if q == nil {
		q = &serialQueue{}
		p.serial[key] = q
	}
	q.jobs = append(q.jobs, job)
	if q.running {
		return
	}
	q.running = true
	p.wg.Add(1)
	go p.runSerial(key, q)
}

func (p *Platform) runSerial(key string, q *serialQueue) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			delete(p.serial, key)
			p.mu.Unlock()
			return
		}
		job := q.jobs[0]
		q.jobs[0] = nil
		q.jobs = q.jobs[1:]
		p.mu.Unlock()
		job()
	}
}
