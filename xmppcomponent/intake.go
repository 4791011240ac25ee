package xmppcomponent

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// StanzaJournal is where the component records the messages it reads
// until they are handled (the hub's Intake, delivery.Intake): Append
// writes a batch in one go, Done marks one handled without blocking,
// Pending lists what a previous process left.
type StanzaJournal interface {
	Append(ctx context.Context, items []delivery.IntakeItem) ([]string, error)
	Done(sender ids.Owner, seq string)
	Pending(ctx context.Context) ([]delivery.IntakeEntry, error)
}

// intake is the component's stream.Intake: it records the messages that
// ask the platform to do something (a body, files, a correction, a
// retraction, reactions) as the connection reads them. Chat states,
// markers and receipts alone are not recorded: stale a moment later, they
// are not worth a write each.
type intake struct {
	j  StanzaJournal
	c  *Component
	mu sync.Mutex
	// After a failed write, nothing is recorded until pausedUntil: each
	// attempt may take seconds, and the read loop waits for it.
	pausedUntil time.Time
	skipped     int // messages handled unrecorded since the last success
}

// recordPause is how long the intake stops recording after a failed write.
const recordPause = 5 * time.Second

var _ stream.Intake = (*intake)(nil)

// Record implements stream.Intake.
func (in *intake) Record(ctx context.Context, ps []stanza.Packet) []func() {
	dones := make([]func(), len(ps))
	var items []delivery.IntakeItem
	var at []int
	for i, p := range ps {
		m, ok := recordable(p)
		if !ok {
			continue
		}
		from, err := jid.Parse(m.From)
		if err != nil {
			continue // answered bad-request by the Handler
		}
		if to, err := jid.Parse(m.To); err != nil || to.Localpart() == "" {
			continue // a chat command to the gateway is not run twice
		}
		data, err := stream.Marshal(m) // the fast path: most are plain chat messages
		if err != nil {
			in.c.log.Warn("cannot record an inbound message; handled unrecorded", "from", m.From, "id", m.Id, "err", err)
			continue
		}
		items = append(items, delivery.IntakeItem{Sender: Owner(from), Data: data})
		at = append(at, i)
	}
	if len(items) == 0 {
		return dones
	}
	in.mu.Lock()
	paused := time.Now().Before(in.pausedUntil)
	if paused {
		in.skipped += len(items)
	}
	in.mu.Unlock()
	if paused {
		return dones
	}
	seqs, err := in.j.Append(ctx, items)
	in.mu.Lock()
	defer in.mu.Unlock()
	if err != nil {
		// Handled anyway: the store being down must not stop the
		// messaging, only its durability across a crash.
		in.pausedUntil = time.Now().Add(recordPause)
		if in.skipped == 0 {
			in.c.log.Warn("cannot record inbound messages; handling them unrecorded for a while", "messages", len(items), "pause", recordPause, "err", err)
		}
		in.skipped += len(items)
		return dones
	}
	if in.skipped > 0 {
		in.c.log.Info("recording inbound messages again", "unrecorded", in.skipped)
		in.skipped = 0
	}
	for k, i := range at {
		sender, seq := items[k].Sender, seqs[k]
		dones[i] = func() { in.j.Done(sender, seq) }
	}
	return dones
}

// recordable returns p as a message worth recording.
func recordable(p stanza.Packet) (stanza.Message, bool) {
	var m stanza.Message
	switch v := p.(type) {
	case stanza.Message:
		m = v
	case *stanza.Message:
		m = *v
	default:
		return m, false
	}
	if m.Type == stanza.MessageTypeError || m.From == "" {
		return m, false
	}
	if m.Body != "" {
		return m, true
	}
	in := parseInbound(m)
	return m, in.retract != "" || in.reactions != nil || in.replace != "" || len(in.oob) > 0
}

// replayIntake handles again, before the connection starts, the messages
// a previous process recorded and did not finish: each sender's in the
// order they were read, senders in parallel (at most maxReplaySenders at a
// time). A message that was sent to the platform before the crash is not
// sent again when the hub knows its id (gateway.SendOptions.Replayed).
func (c *Component) replayIntake(ctx context.Context) {
	j := c.cfg.Journal
	if j == nil {
		return
	}
	entries, err := j.Pending(ctx)
	if err != nil {
		c.log.Error("cannot read the inbound messages left by the previous run", "err", err)
		return
	}
	// The intake is shared by every component of the process (one per
	// platform); the others' messages are left to them.
	entries = slices.DeleteFunc(entries, func(e delivery.IntakeEntry) bool { return !c.recordedForUs(e) })
	if len(entries) == 0 {
		return
	}
	bySender := map[ids.Owner][]delivery.IntakeEntry{}
	var order []ids.Owner
	for _, e := range entries {
		if _, ok := bySender[e.Sender]; !ok {
			order = append(order, e.Sender)
		}
		bySender[e.Sender] = append(bySender[e.Sender], e)
	}
	sem := make(chan struct{}, maxReplaySenders)
	var wg sync.WaitGroup
	for _, s := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, e := range bySender[s] {
				if ctx.Err() != nil {
					return // left recorded for the next start
				}
				c.replayOne(ctx, e, func() { j.Done(e.Sender, e.Seq) })
			}
		})
	}
	wg.Wait()
	c.log.Info("handled the inbound messages the previous run had read and not finished", "messages", len(entries), "senders", len(order))
}

// recordedForUs reports whether a recorded message was addressed to this
// component's domain. One that does not decode is ours to drop
// (replayOne), and so is one without a readable to.
func (c *Component) recordedForUs(e delivery.IntakeEntry) bool {
	var addr struct {
		To string `xml:"to,attr"`
	}
	if err := xml.Unmarshal(e.Data, &addr); err != nil {
		return true
	}
	to, err := jid.Parse(addr.To)
	return err != nil || strings.EqualFold(to.Domainpart(), c.domain)
}

// maxReplaySenders bounds the senders whose recorded messages are handled
// at the same time at start.
const maxReplaySenders = 8

// replayOne handles one recorded message, calling done once it is
// handled (handleMessage); an unreadable one is logged and dropped.
func (c *Component) replayOne(ctx context.Context, e delivery.IntakeEntry, done func()) {
	defer func() {
		if r := recover(); r != nil {
			// As on the lanes; and dropped, or it would fail every start.
			c.log.Error("dropping a recorded inbound message whose handling panicked", "sender", e.Sender, "seq", e.Seq, "panic", r)
			done()
		}
	}()
	var m stanza.Message
	if err := xml.Unmarshal(e.Data, &m); err != nil {
		c.log.Error("dropping an unreadable recorded inbound message", "sender", e.Sender, "seq", e.Seq, "err", fmt.Errorf("decode: %w", err))
		done()
		return
	}
	c.handleMessage(ctx, m, true, done)
}

// handleRecorded is the connection's Handler for a stanza the intake
// recorded: done goes with the message (handleMessage) or, for anything
// else, is called once Handle returned.
func (c *Component) handleRecorded(ctx context.Context, p stanza.Packet, done func()) {
	switch m := p.(type) {
	case stanza.Message:
		c.handleMessage(ctx, m, false, done)
	case *stanza.Message:
		c.handleMessage(ctx, *m, false, done)
	default:
		c.Handle(ctx, p)
		if ctx.Err() == nil {
			done()
		}
	}
}
