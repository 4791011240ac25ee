package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"gosrc.io/xmpp/stanza"
)

// IQError is returned by SendIQ, together with the reply, when the reply is
// of type error. Condition is the defined condition (e.g.
// "service-unavailable"), Type the error type (cancel, modify, ...).
type IQError struct {
	IQ        *stanza.IQ
	Condition string
	Type      string
	Text      string
}

// Error implements error.
func (e *IQError) Error() string {
	var b strings.Builder
	b.WriteString("stream: iq error from ")
	b.WriteString(e.IQ.From)
	b.WriteString(": ")
	if e.Condition != "" {
		b.WriteString(e.Condition)
	} else {
		b.WriteString("undefined-condition")
	}
	if e.Type != "" {
		b.WriteString(" (" + e.Type + ")")
	}
	if e.Text != "" {
		b.WriteString(": " + e.Text)
	}
	return b.String()
}

// pendingIQ is one SendIQ waiting for its reply.
type pendingIQ struct {
	to string          // the reply must come from here
	ch chan *stanza.IQ // buffered(1): delivery never blocks the read loop
}

// iqTracker maps the ids of outstanding SendIQ requests to their waiters.
type iqTracker struct {
	mu      sync.Mutex
	pending map[string]*pendingIQ
}

func (t *iqTracker) register(id, to string) (*pendingIQ, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.pending[id]; dup {
		return nil, fmt.Errorf("stream: an iq with id %q is already pending", id)
	}
	p := &pendingIQ{to: to, ch: make(chan *stanza.IQ, 1)}
	t.pending[id] = p
	return p, nil
}

func (t *iqTracker) forget(id string, p *pendingIQ) {
	t.mu.Lock()
	if t.pending[id] == p {
		delete(t.pending, id)
	}
	t.mu.Unlock()
}

// deliver hands a result/error IQ to its waiter if its id and sender match a
// pending request. It never blocks.
func (t *iqTracker) deliver(iq *stanza.IQ) bool {
	t.mu.Lock()
	p, ok := t.pending[iq.Id]
	if ok && (p.to == "" || strings.EqualFold(p.to, iq.From)) {
		delete(t.pending, iq.Id)
	} else {
		ok = false
	}
	t.mu.Unlock()
	if ok {
		select {
		case p.ch <- iq:
		default:
		}
	}
	return ok
}

func (t *iqTracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// SendIQ sends a get or set IQ and waits for the result or error reply with
// the same id from the IQ's 'to' address. If iq.Id is empty a unique id is
// set on iq. A type=error reply is returned together with an *IQError. If
// ctx ends first the error wraps ctx.Err(); if Run returns first it is
// ErrClosed. The request survives reconnects like any queued stanza.
func (c *Conn) SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error) {
	if iq == nil {
		return nil, fmt.Errorf("stream: SendIQ: nil iq")
	}
	if iq.Type != stanza.IQTypeGet && iq.Type != stanza.IQTypeSet {
		return nil, fmt.Errorf("stream: SendIQ needs a get or set iq, not %q", iq.Type)
	}
	if iq.Id == "" {
		iq.Id = c.newID()
	}
	data, err := marshalPacket(iq)
	if err != nil {
		return nil, err
	}
	p, err := c.iqs.register(iq.Id, iq.To)
	if err != nil {
		return nil, err
	}
	defer c.iqs.forget(iq.Id, p)
	if err := c.enqueue(ctx, data, nil); err != nil {
		return nil, err
	}
	select {
	case reply := <-p.ch:
		if reply.Type == stanza.IQTypeError {
			e := &IQError{IQ: reply}
			if reply.Error != nil {
				e.Condition, e.Type, e.Text = reply.Error.Reason, string(reply.Error.Type), reply.Error.Text
			}
			return reply, e
		}
		return reply, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("stream: waiting for reply to iq %q: %w", iq.Id, ctx.Err())
	case <-c.endCh:
		return nil, ErrClosed
	}
}

// newID returns a stanza id unique for this Conn and unlikely to collide
// with anyone else's.
func (c *Conn) newID() string {
	return c.idBase + strconv.FormatUint(c.idSeq.Add(1), 36)
}

func randomIDBase() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "db" + hex.EncodeToString(b[:]) + "-"
}
