package stream

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

// outItem is one serialized outbound stanza. seq is assigned when the writer
// takes it from the queue, in write order. done, if not nil, is called once
// a ping reply confirms the stanza (SendConfirmed).
type outItem struct {
	data []byte
	seq  uint64
	done func()
}

// outQueue holds the outbound stanzas of a Conn: pending (not yet written,
// FIFO) and inflight (written, waiting for a ping reply that confirms the
// server has processed them). It is guarded by Conn.mu.
type outQueue struct {
	pending      []outItem
	pendingHead  int
	inflight     []outItem
	inflightHead int
	nextSeq      uint64
}

func (q *outQueue) queued() int   { return len(q.pending) - q.pendingHead }
func (q *outQueue) inFlight() int { return len(q.inflight) - q.inflightHead }

func (q *outQueue) push(data []byte, done func()) {
	q.pending = append(q.pending, outItem{data: data, done: done})
}

// take moves up to maxItems pending stanzas (at most about maxBytes, but at
// least one) to the in-flight list, numbering them, and appends their data to
// dst. It returns dst and the number of stanzas taken.
func (q *outQueue) take(dst []byte, maxItems, maxBytes int) ([]byte, int) {
	n := 0
	for q.queued() > 0 && n < maxItems {
		it := q.pending[q.pendingHead]
		if n > 0 && len(dst)+len(it.data) > maxBytes {
			break
		}
		q.pending[q.pendingHead] = outItem{}
		q.pendingHead++
		q.nextSeq++
		it.seq = q.nextSeq
		q.inflight = append(q.inflight, it)
		dst = append(dst, it.data...)
		n++
	}
	q.pending, q.pendingHead = compactOut(q.pending, q.pendingHead)
	return dst, n
}

// lastSeq is the sequence number of the last stanza handed to the writer.
func (q *outQueue) lastSeq() uint64 { return q.nextSeq }

// ack drops the in-flight stanzas numbered up to seq and appends the done
// callbacks of those that have one to confirmed, in write order, for the
// caller to run once it has released Conn.mu.
func (q *outQueue) ack(seq uint64, confirmed []func()) []func() {
	for q.inFlight() > 0 && q.inflight[q.inflightHead].seq <= seq {
		if done := q.inflight[q.inflightHead].done; done != nil {
			confirmed = append(confirmed, done)
		}
		q.inflight[q.inflightHead] = outItem{}
		q.inflightHead++
	}
	q.inflight, q.inflightHead = compactOut(q.inflight, q.inflightHead)
	return confirmed
}

// requeue puts the in-flight stanzas back at the front of the pending queue,
// in their original order. Called when a connection ends.
func (q *outQueue) requeue() {
	if q.inFlight() == 0 {
		return
	}
	back := make([]outItem, 0, q.inFlight()+q.queued())
	back = append(back, q.inflight[q.inflightHead:]...)
	back = append(back, q.pending[q.pendingHead:]...)
	q.pending, q.pendingHead = back, 0
	q.inflight, q.inflightHead = q.inflight[:0], 0
}

// compactOut reclaims the consumed head of a slice-backed FIFO once it is the
// larger part of the backing array, keeping amortized O(1) operations.
func compactOut(s []outItem, head int) ([]outItem, int) {
	switch {
	case head == len(s):
		return s[:0], 0
	case head > 64 && head > len(s)/2:
		n := copy(s, s[head:])
		clear(s[n:])
		return s[:n], 0
	}
	return s, head
}

// Marshal serializes p as the Conn writes it: the common messages by the
// fast path (marshal_fast.go), everything else with encoding/xml; an
// Encoded stanza is its XML.
func Marshal(p stanza.Packet) ([]byte, error) { return marshalPacket(p) }

// marshalPacket serializes a stanza as encoding/xml does: common messages
// through marshalFast (marshal_fast.go), which writes the same XML
// faster (extensions self-closed), everything else with xml.Marshal; an
// Encoded stanza is its XML.
func marshalPacket(p stanza.Packet) ([]byte, error) {
	if p == nil {
		return nil, errors.New("stream: nil packet")
	}
	if e, ok := p.(Encoded); ok {
		if len(e.XML) == 0 {
			return nil, errors.New("stream: an encoded stanza without XML")
		}
		return e.XML, nil
	}
	if data, ok := marshalFast(p); ok {
		return data, nil
	}
	data, err := xml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("stream: marshal %s: %w", p.Name(), err)
	}
	return data, nil
}

// enqueue appends data (and its confirmation callback, if any) to the
// outbound queue, waiting for room while it is full.
func (c *Conn) enqueue(ctx context.Context, data []byte, done func()) error {
	for {
		c.mu.Lock()
		if c.ended {
			c.mu.Unlock()
			return ErrClosed
		}
		if c.q.queued() < c.cfg.QueueSize {
			c.q.push(data, done)
			c.mu.Unlock()
			c.wakeWriter()
			return nil
		}
		c.spaceWanted = true
		space := c.space
		c.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return fmt.Errorf("stream: outbound queue full: %w", ctx.Err())
		}
	}
}

// signalSpaceLocked wakes the Send calls waiting for room. c.mu must be held.
func (c *Conn) signalSpaceLocked() {
	if c.spaceWanted {
		c.spaceWanted = false
		close(c.space)
		c.space = make(chan struct{})
	}
}

// wakeWriter nudges the writer goroutine without blocking.
func (c *Conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}
