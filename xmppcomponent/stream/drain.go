package stream

import (
	"context"
	"fmt"
	"log/slog"

	"gosrc.io/xmpp/stanza"
)

// Drain stops handling inbound stanzas ahead of a shutdown while the link
// stays up, so that what the Conn still writes (Send) reaches the server.
// The lanes finish the stanza each is handling and take no other; Drain
// returns once they have, or, when ctx ends first, cancels the Handlers'
// context and returns an error wrapping ctx.Err(). From then on each
// stanza read is either left to the Intake's record — the next process
// handles it — or, if it was not recorded, answered with the stanza error
// wait/service-unavailable (messages and get/set IQs; presences are
// dropped, logged at debug level). Nothing read is handled by a process
// that is going away. Run's context ending drains too; Drain before Run
// starts the Conn drained.
func (c *Conn) Drain(ctx context.Context) error {
	c.mu.Lock()
	c.drained = true
	d, stop := c.lanes, c.stopHandling
	c.mu.Unlock()
	if d == nil {
		return nil
	}
	d.draining.Store(true)
	for _, l := range d.lanes {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	idle := make(chan struct{})
	go func() {
		d.wait()
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		if stop != nil {
			stop()
		}
		return fmt.Errorf("stream: drain: handlers still running: %w", ctx.Err())
	}
}

// handlingContext is the context of the lanes' Handlers: it ends with
// ctx, or when a Drain gives up waiting. It also starts the lanes
// drained after an early Drain.
func (c *Conn) handlingContext(ctx context.Context, d *dispatcher) context.Context {
	hctx, stop := context.WithCancel(ctx)
	c.mu.Lock()
	c.stopHandling = stop
	d.draining.Store(c.drained)
	c.mu.Unlock()
	return hctx
}

// stopped reports whether the lanes take no more stanzas.
func (d *dispatcher) stopped() bool {
	return d.draining.Load() || (d.handling != nil && d.handling.Err() != nil)
}

// stopLane empties l once its worker stops: the recorded stanzas stay
// recorded, the others are refused (notHandled).
func (d *dispatcher) stopLane(l *lane) {
	l.mu.Lock()
	items, bytes := l.items, l.bytes
	l.items, l.bytes = nil, 0
	l.mu.Unlock()
	d.bytes.Add(-bytes)
	if left := len(items); left > 0 {
		d.backlog.Add(-int64(left))
		d.log.Info("inbound stanzas not handled at shutdown; the recorded ones are handled at the next start, the others refused", slog.Int("count", left))
		for _, it := range items {
			d.notHandled(it.p, it.done)
		}
	}
}

// notHandled disposes of a stanza the lanes will not handle because they
// stopped: a recorded one (done set) stays recorded, unhandled, for the
// next process; any other is refused (dispatcher.refuse).
func (d *dispatcher) notHandled(p stanza.Packet, done func()) {
	if done != nil {
		return // recorded: its done is not called, so it is handled again
	}
	if d.refuse != nil {
		d.refuse(p)
	}
}

// refuseStopping answers a stanza read while the Conn stops and not
// recorded: its sender learns that it was not handled, and may send it
// again once the gateway is back.
func (c *Conn) refuseStopping(p stanza.Packet) {
	if pr, ok := p.(stanza.Presence); ok {
		c.log.Debug("presence not handled: shutting down", slog.String("from", pr.From), slog.String("type", string(pr.Type)))
		return
	}
	c.answerError(p, "wait", "service-unavailable", "The gateway is restarting; try again shortly.")
}
