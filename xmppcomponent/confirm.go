package xmppcomponent

import (
	"context"
	"sync"

	"gosrc.io/xmpp/stanza"
)

// ConfirmingSender is a Sender that can report when the server confirmed a
// stanza; *Conn is one (Conn.SendConfirmed).
type ConfirmingSender interface {
	Sender
	SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error
}

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

// deliverySender writes the stanzas of one delivery: when the delivery
// asked for confirmation (t is set), each is sent confirmed and counted by
// t. The zero t (c.plain()) writes stanzas that are no delivery's.
type deliverySender struct {
	c *Component
	t *confirmTracker
}

// plain is the sender of stanzas that are no delivery's.
func (c *Component) plain() deliverySender { return deliverySender{c: c} }

// send writes p through the component's Sender; for a delivery that asked
// for confirmation it asks the link for one and counts it.
func (s deliverySender) send(ctx context.Context, p stanza.Packet) error {
	cs, ok := s.c.out.(ConfirmingSender)
	if s.t == nil || !ok || !s.t.add() {
		return s.c.out.Send(ctx, p)
	}
	if err := cs.SendConfirmed(ctx, p, s.t.confirmOne); err != nil {
		s.t.mu.Lock()
		s.t.waiting--
		s.t.mu.Unlock()
		return err
	}
	return nil
}

// sendLogged is send for stanzas whose failure the caller cannot report
// (the link's queue fails only on shutdown): it logs it.
func (s deliverySender) sendLogged(ctx context.Context, p stanza.Packet) {
	if err := s.send(ctx, p); err != nil {
		s.c.log.Error("cannot queue stanza", "stanza", p.Name(), "err", err)
	}
}

// seal marks the delivery's stanzas as all sent: its confirmation is due
// once they are confirmed. With a stanza writer that cannot confirm
// (tests), it is due at once.
func (s deliverySender) seal() {
	if s.t != nil {
		s.t.seal()
	}
}
