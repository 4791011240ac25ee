package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
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
//
// A process that becomes the front may still have stanzas of its own in
// the outbox, posted before; written to the connection at once, a newer
// stanza would overtake them (a contact's "available" overtaken by an
// older "unavailable": the contact shown offline). So SetFront takes a
// gate, which the front's pump opens once it has written this link's last
// post; until then a stanza for the connection waits.
type shardLink struct {
	outbox *cluster.StreamQueue
	front  atomic.Pointer[frontConn]
	// switching is held for reading by a post (from the check that there
	// is no front to the end of the post), and for writing by SetFront,
	// so that lastPost is final when SetFront reads it.
	switching sync.RWMutex
	postMu    sync.Mutex
	lastPost  string // the newest entry id this link posted; under postMu
}

// frontConn boxes the front's connection for the atomic pointer, with
// the gate its stanzas wait for (nil: none).
type frontConn struct {
	xmppcomponent.Link
	ready <-chan struct{}
}

var _ xmppcomponent.Link = (*shardLink)(nil)

func newShardLink(outbox *cluster.StreamQueue) *shardLink {
	return &shardLink{outbox: outbox}
}

// SetFront makes conn (the XEP-0114 connection of this process, the
// front) the link's writer once ready is closed (nil: at once); nil when
// this process stops being the front. It returns the id of the last entry
// the link posted to the outbox ("" for none): the pump must have written
// it before ready is closed.
func (l *shardLink) SetFront(conn xmppcomponent.Link, ready <-chan struct{}) string {
	l.switching.Lock()
	defer l.switching.Unlock()
	if conn == nil {
		l.front.Store(nil)
	} else {
		l.front.Store(&frontConn{Link: conn, ready: ready})
	}
	l.postMu.Lock()
	defer l.postMu.Unlock()
	return l.lastPost
}

// conn is the front's connection once its gate is open; nil with no
// front. It waits for the gate, or ctx.
func (l *shardLink) conn(ctx context.Context) (xmppcomponent.Link, error) {
	f := l.front.Load()
	if f == nil {
		return nil, nil
	}
	if f.ready != nil {
		select {
		case <-f.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if l.front.Load() != f {
			return nil, nil // the term ended while waiting
		}
	}
	return f.Link, nil
}

// sendOrPost posts p to the outbox when there is no front here, else
// returns the front's connection (once its gate is open) for the caller
// to write p to.
func (l *shardLink) sendOrPost(ctx context.Context, p stanza.Packet) (xmppcomponent.Link, error) {
	l.switching.RLock()
	if l.front.Load() == nil {
		defer l.switching.RUnlock()
		return nil, l.post(ctx, p)
	}
	l.switching.RUnlock()
	c, err := l.conn(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil { // the term ended meanwhile
		return l.sendOrPost(ctx, p)
	}
	return c, nil
}

// Send writes p to the front's connection, or posts it to the outbox.
func (l *shardLink) Send(ctx context.Context, p stanza.Packet) error {
	c, err := l.sendOrPost(ctx, p)
	if c == nil || err != nil {
		return err
	}
	return c.Send(ctx, p)
}

// SendConfirmed is Send with a confirmation: the connection's (the
// server answered a ping sent after p), or, through the outbox, the
// post: the outbox is durable and the front writes every entry and
// acknowledges it only once its connection confirmed it, so a delivery
// confirmed here is not lost by a failover of the front.
func (l *shardLink) SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error {
	c, err := l.sendOrPost(ctx, p)
	if err != nil {
		return err
	}
	if c != nil {
		return c.SendConfirmed(ctx, p, done)
	}
	done()
	return nil
}

// SendIQ sends iq on the front's connection and waits for the reply;
// a worker that is not the front is refused (errIQNeedsFront).
func (l *shardLink) SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error) {
	c, err := l.conn(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errIQNeedsFront
	}
	return c.SendIQ(ctx, iq)
}

// Connects is the front's connection count while this process is the
// front, else 0 (no XEP-0356 grant is known to a worker).
func (l *shardLink) Connects() uint64 {
	if f := l.front.Load(); f != nil {
		return f.Connects()
	}
	return 0
}

func (l *shardLink) post(ctx context.Context, p stanza.Packet) error {
	b, err := xmppcomponent.EncodeStanza(p)
	if err != nil {
		return err
	}
	id, err := l.outbox.Post(ctx, b)
	if err != nil {
		return err
	}
	l.postMu.Lock()
	if streamIDLess(l.lastPost, id) {
		l.lastPost = id
	}
	l.postMu.Unlock()
	return nil
}

// streamIDLess orders Redis stream entry ids ("<ms>-<seq>"); "" is
// before every id.
func streamIDLess(a, b string) bool {
	am, as := splitStreamID(a)
	bm, bs := splitStreamID(b)
	return am < bm || am == bm && as < bs
}

func splitStreamID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}
