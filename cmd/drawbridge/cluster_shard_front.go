package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// frontPump is the front's side of the outbox: it reads the stanzas the
// workers posted for XMPP, in order, writes each to the XEP-0114
// connection of the component it comes from, and acknowledges it once
// that connection confirmed it (the server answered a ping sent after
// it), in batches (outboxAcker). What is not confirmed stays pending and is written again by the
// next front (at least once, in order).
type frontPump struct {
	outbox *cluster.StreamQueue
	self   string
	// Conn is the connection of the component with the given domain;
	// nil for a domain this process has no component of.
	Conn func(domain string) xmppcomponent.ConfirmingSender
	// Wait is how long one read waits for new entries (0: 1s).
	Wait time.Duration
	// CaughtUp, when set, is called once the pump has written the entry
	// Until (or a later one), or found nothing left to write: the
	// components' own stanzas may then go to the connection directly
	// without overtaking what they posted before (shardLink.SetFront).
	CaughtUp func()
	Until    string
	log      *slog.Logger
	// acker acknowledges written entries in batches (set by Run).
	acker *outboxAcker
}

// Run pumps until ctx ends.
func (f *frontPump) Run(ctx context.Context) error {
	wait := f.Wait
	if wait <= 0 {
		wait = time.Second
	}
	f.acker = &outboxAcker{outbox: f.outbox, log: f.log}
	defer func() {
		// What was confirmed is acknowledged before Run returns (a
		// confirmation that comes later is acknowledged on its own).
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		f.acker.wait(wctx)
	}()
	caughtUp := func() {
		if f.CaughtUp != nil {
			f.CaughtUp()
			f.CaughtUp = nil
		}
	}
	if f.Until == "" {
		caughtUp()
	}
	r := f.outbox.Reader(f.self)
	for ctx.Err() == nil {
		es, err := r.Read(ctx, 100, wait)
		if err == nil && len(es) == 0 {
			caughtUp()
		}
		if err != nil {
			if ctx.Err() == nil {
				f.log.Warn("cluster: reading the front outbox", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
			continue
		}
		for _, e := range es {
			f.write(ctx, e)
			if !streamIDLess(e.ID, f.Until) {
				caughtUp()
			}
		}
	}
	return ctx.Err()
}

// write writes one entry and acknowledges it when confirmed; an entry
// that cannot be written anywhere (undecodable, a domain this process
// has no component of) is logged as an error and acknowledged, since no
// front could write it.
func (f *frontPump) write(ctx context.Context, e cluster.Entry) {
	p, domain, err := decodeOutboxEntry(e.Data)
	var conn xmppcomponent.ConfirmingSender
	if err == nil {
		if conn = f.Conn(domain); conn == nil {
			err = fmt.Errorf("no component %q in this process", domain)
		}
	}
	if err != nil {
		f.log.Error("cluster: dropping an outbox entry no front can write", "id", e.ID, "err", err)
		f.ack(e.ID)
		return
	}
	// The entry's own bytes: decoding keeps only the payloads the XMPP
	// library knows, so encoding p again would drop the others.
	if err := conn.SendConfirmed(ctx, stream.Encoded{Packet: p, XML: e.Data}, func() { f.ack(e.ID) }); err != nil {
		// The connection is shutting down: left pending for the next front.
		f.log.Warn("cluster: writing an outbox entry", "id", e.ID, "err", err)
	}
}

// ack queues id's acknowledgement (outboxAcker: it does not block the
// connection's read goroutine, which confirms).
func (f *frontPump) ack(id string) { f.acker.add(id) }

// decodeOutboxEntry decodes an outbox entry (which checks that it is one
// stanza and nothing more) and names the domain of its sender (the
// component that wrote it).
func decodeOutboxEntry(b []byte) (stanza.Packet, string, error) {
	p, err := xmppcomponent.DecodeStanza(b)
	if err != nil {
		return nil, "", err
	}
	var from string
	switch s := p.(type) {
	case stanza.Message:
		from = s.From
	case stanza.Presence:
		from = s.From
	case *stanza.IQ:
		from = s.From
	}
	j, err := jid.Parse(from)
	if err != nil {
		return nil, "", fmt.Errorf("outbox stanza from %q: %w", from, err)
	}
	return p, j.Domainpart(), nil
}

// shardFeed hands one stanza to a component and returns once it is
// handled (true), or ctx ended first (false): xmppcomponent's FeedWait.
type shardFeed func(ctx context.Context, p stanza.Packet, opts xmppcomponent.FeedOptions) bool

// errNotHandled: the owner's handling stopped (its worker lost it or is
// stopping) before the stanza was handled; it stays in the inbox.
var errNotHandled = errors.New("stopped before the stanza was handled")

// shardHandler is a cluster.Worker's Handle: it decodes an inbox entry
// and feeds it to the component of the domain it is addressed to (feed
// returns that component's FeedWait, nil for a domain this process has no
// component of), and returns once it is handled, so that the worker
// acknowledges only what was handled.
func shardHandler(feed func(domain string) shardFeed) func(ctx context.Context, owner string, e cluster.Entry) error {
	return func(ctx context.Context, owner string, e cluster.Entry) error {
		p, err := xmppcomponent.DecodeStanza(e.Data)
		if err != nil {
			return err
		}
		var to string
		switch s := p.(type) {
		case stanza.Message:
			to = s.To
		case stanza.Presence:
			to = s.To
		case *stanza.IQ:
			to = s.To
		}
		j, err := jid.Parse(to)
		if err != nil {
			return fmt.Errorf("inbox stanza of %s to %q: %w", owner, to, err)
		}
		f := feed(j.Domainpart())
		if f == nil {
			return fmt.Errorf("inbox stanza of %s to %q: no component of that domain in this process", owner, to)
		}
		// An entry the front admitted took its rate token there.
		if !f(ctx, p, xmppcomponent.FeedOptions{Replayed: e.Redelivered, Admitted: e.Admitted}) {
			return fmt.Errorf("inbox entry %s of %s: %w", e.ID, owner, errNotHandled)
		}
		return nil
	}
}
