package main

import (
	"context"
	"errors"
	"sync/atomic"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
)

// errIQNeedsFront refuses an IQ round trip from a worker that is not the
// front: replies to the component reach the front's link, and are not
// routed back to the worker that asked.
var errIQNeedsFront = errors.New("cluster: an IQ that waits for its reply can only be sent by the front (this worker does not hold the XEP-0114 link)")

// shardLink is the virtual link (xmppcomponent.Link) of one component of
// a sharded process. While this process is the front (it holds the
// front lease and runs the XEP-0114 connection, set with SetFront), a
// stanza is written to that connection; otherwise it is posted to the
// front's outbox, which the front writes to its connection (frontPump).
type shardLink struct {
	outbox *cluster.StreamQueue
	front  atomic.Pointer[frontConn]
}

// frontConn boxes the front's connection for the atomic pointer.
type frontConn struct{ xmppcomponent.Link }

var _ xmppcomponent.Link = (*shardLink)(nil)

func newShardLink(outbox *cluster.StreamQueue) *shardLink {
	return &shardLink{outbox: outbox}
}

// SetFront makes conn (the XEP-0114 connection of this process, the
// front) the link's writer; nil when this process stops being the front.
func (l *shardLink) SetFront(conn xmppcomponent.Link) {
	if conn == nil {
		l.front.Store(nil)
		return
	}
	l.front.Store(&frontConn{conn})
}

func (l *shardLink) conn() xmppcomponent.Link {
	if f := l.front.Load(); f != nil {
		return f.Link
	}
	return nil
}

// Send writes p to the front's connection, or posts it to the outbox.
func (l *shardLink) Send(ctx context.Context, p stanza.Packet) error {
	if c := l.conn(); c != nil {
		return c.Send(ctx, p)
	}
	return l.post(ctx, p)
}

// SendConfirmed is Send with a confirmation: the connection's (the
// server answered a ping sent after p), or, through the outbox, the
// post: the outbox is durable and the front writes every entry and
// acknowledges it only once its connection confirmed it, so a delivery
// confirmed here is not lost by a failover of the front.
func (l *shardLink) SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error {
	if c := l.conn(); c != nil {
		return c.SendConfirmed(ctx, p, done)
	}
	if err := l.post(ctx, p); err != nil {
		return err
	}
	done()
	return nil
}

// SendIQ sends iq on the front's connection and waits for the reply;
// a worker that is not the front is refused (errIQNeedsFront).
func (l *shardLink) SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error) {
	if c := l.conn(); c != nil {
		return c.SendIQ(ctx, iq)
	}
	return nil, errIQNeedsFront
}

// Connects is the front's connection count while this process is the
// front, else 0 (no XEP-0356 grant is known to a worker).
func (l *shardLink) Connects() uint64 {
	if c := l.conn(); c != nil {
		return c.Connects()
	}
	return 0
}

func (l *shardLink) post(ctx context.Context, p stanza.Packet) error {
	b, err := xmppcomponent.EncodeStanza(p)
	if err != nil {
		return err
	}
	_, err = l.outbox.Post(ctx, b)
	return err
}
