package xmppcomponent

import (
	"context"
	"sync"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var _ gateway.ConfirmingFrontend = (*Component)(nil)

// ConfirmingSender is a Sender that can report when the server confirmed a
// stanza; *Conn is one (Conn.SendConfirmed).
type ConfirmingSender interface {
	Sender
	SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error
}

// confirmKey is the context key of the tracker of a DeliverConfirmed call.
type confirmKey struct{}

// confirmTracker counts the stanzas of one event still to be confirmed and
// calls done when none is left and the event is sealed (all its stanzas
// sent).
type confirmTracker struct {
	mu      sync.Mutex
	waiting int
	sealed  bool
	fired   bool
	done    func()
}

// add counts one more stanza to confirm; it reports false once the event
// is sealed (a stanza sent later, by something that kept the context, is
// not part of the event).
func (t *confirmTracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sealed {
		return false
	}
	t.waiting++
	return true
}

// fireLocked reports whether done is due now, at most once. t.mu must be
// held.
func (t *confirmTracker) fireLocked() bool {
	if t.fired || !t.sealed || t.waiting > 0 {
		return false
	}
	t.fired = true
	return true
}

// confirmOne is the callback of one stanza's confirmation.
func (t *confirmTracker) confirmOne() {
	t.mu.Lock()
	t.waiting--
	fire := t.fireLocked()
	t.mu.Unlock()
	if fire {
		t.done()
	}
}

// seal marks the event's stanzas as all sent.
func (t *confirmTracker) seal() {
	t.mu.Lock()
	t.sealed = true
	fire := t.fireLocked()
	t.mu.Unlock()
	if fire {
		t.done()
	}
}

// DeliverConfirmed implements gateway.ConfirmingFrontend: Deliver, with
// done called once the server confirmed every stanza written for ev. With a
// stanza writer that cannot confirm (tests), done is called as soon as the
// stanzas are queued.
func (c *Component) DeliverConfirmed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, ev event.Event, done func()) error {
	t := &confirmTracker{done: done}
	if err := c.Deliver(context.WithValue(ctx, confirmKey{}, t), owner, platform, ev); err != nil {
		return err
	}
	t.seal()
	return nil
}

// sendOut writes p through the component's Sender; within DeliverConfirmed
// it asks for a confirmation and counts it.
func (c *Component) sendOut(ctx context.Context, p stanza.Packet) error {
	t, _ := ctx.Value(confirmKey{}).(*confirmTracker)
	cs, ok := c.out.(ConfirmingSender)
	if t == nil || !ok || !t.add() {
		return c.out.Send(ctx, p)
	}
	if err := cs.SendConfirmed(ctx, p, t.confirmOne); err != nil {
		t.mu.Lock()
		t.waiting--
		t.mu.Unlock()
		return err
	}
	return nil
}
