package sandbox

import (
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

// botReceiveLocked is called (with p.mu held) when bot got message rec
// from the account acct. What the bot will do is decided here, including
// the id of its reply, so ids do not depend on scheduling; doing it runs
// on the bot's own goroutine for this chat, in order.
func (p *Platform) botReceiveLocked(bot *user, acct ids.AccountID, rec Message) {
	key := string(bot.id) + "|" + string(acct)
	switch bot.bot {
	case echoBot:
		var reply ids.MessageID
		if rec.Body != "" {
			reply = p.mintIDLocked()
		}
		p.scheduleLocked(key, func() { p.runEcho(bot.id, acct, rec, reply) })
	case quietBot:
		p.scheduleLocked(key, func() {
			p.botReceipt(bot.id, acct, event.Delivered, rec.ID)
			p.botReceipt(bot.id, acct, event.Displayed, rec.ID)
		})
	}
}

// runEcho is the Echo Bot's answer to rec: Delivered receipt, Composing,
// (echo_delay), the reply, Displayed receipt. A message without text gets
// the receipts only.
func (p *Platform) runEcho(bot ids.UserID, acct ids.AccountID, rec Message, reply ids.MessageID) {
	p.botReceipt(bot, acct, event.Delivered, rec.ID)
	if reply != "" {
		p.deliver(ids.UserID(acct), false, func(a ids.AccountID) event.Event {
			return &event.ChatState{
				Meta:  event.Meta{Account: a, Chat: ids.DirectChat(bot), Sender: bot, Time: p.now()},
				State: event.Composing,
			}
		})
		p.pause()
		// The account may have vanished meanwhile; then there is no one to
		// answer and the error is of no interest.
		_, _ = p.route(outgoing{from: bot, to: ids.UserID(acct), body: echoPrefix + rec.Body, id: reply})
	}
	p.botReceipt(bot, acct, event.Displayed, rec.ID)
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
