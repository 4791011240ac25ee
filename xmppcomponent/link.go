package xmppcomponent

import (
	"context"
	"errors"
	"sync"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// Link is what a Component needs of the transport it runs on: write
// stanzas, with a confirmation when the server has them, send IQs and wait
// for their replies, and number its connections (XEP-0356 grants hold for
// the connection that advertised them). *stream.Conn, the XEP-0114
// connection, is one; a sharded worker's link to the front is another.
type Link interface {
	ConfirmingSender
	SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error)
	Connects() uint64
}

var _ Link = (*stream.Conn)(nil)

// NewOnLink builds a component that runs on a virtual link: it owns no
// XEP-0114 connection; the stanzas it writes go to link, and the stanzas
// for it come from whoever reads them (a front that routes what its own
// connection reads, a worker that reads its owners' inboxes) through
// Feed. cfg.Conn.Domain names the component; the rest of cfg.Conn and
// cfg.Journal are not used (the reader's queue keeps stanzas until they
// are handled). The caller tells the hub when the front's link comes up
// (Hub.FrontendConnected). Conn returns nil; Run only waits for ctx.
func NewOnLink(cfg Config, gw Hub, link Link) (*Component, error) {
	if link == nil {
		return nil, errors.New("xmppcomponent: NewOnLink needs a link")
	}
	if cfg.Journal != nil {
		return nil, errors.New("xmppcomponent: a component on a virtual link keeps no stanza journal (Config.Journal): its link's reader does")
	}
	c, err := newComponent(cfg, gw)
	if err != nil {
		return nil, err
	}
	c.out = link
	c.connects = link.Connects
	c.admits = true
	gw.SetPlatformFrontend(c.cfg.Platform, c)
	return c, nil
}

// Feed handles one stanza read from the component's virtual link, as
// the XEP-0114 connection handles one it reads: admission first (rate
// and size limits, answered with a stanza error), then Handle. It
// returns when the stanza is handled, except for messages that wait for
// their files (chat queues), which finish in the background in order.
func (c *Component) Feed(ctx context.Context, p stanza.Packet) {
	if refusal := c.admit(p); refusal != nil {
		c.send(ctx, refusal)
		return
	}
	c.Handle(ctx, p)
}

// FeedOptions qualify one stanza given to FeedWait.
type FeedOptions struct {
	// Replayed marks a stanza an earlier reader may have handled already.
	Replayed bool
	// Admitted marks a message the front of a sharded cluster admitted
	// (AdmitAtFront): its rate token is taken, so the admission here
	// checks the session and the sizes only.
	Admitted bool
}

// FeedWait is Feed for a reader that acknowledges each stanza once it is
// handled (a sharded worker reading an inbox): it returns true once p is
// handled, a message that waited for its files in its chat's queue
// included (handed to the hub, queued for the platform, or answered with
// an error), and false if ctx ended first (p may not be handled: the
// reader leaves it to be read again).
func (c *Component) FeedWait(ctx context.Context, p stanza.Packet, opts FeedOptions) bool {
	replayed := opts.Replayed
	if refusal := c.admitWith(p, opts.Admitted); refusal != nil {
		c.send(ctx, refusal)
		return true
	}
	done := make(chan struct{})
	var once sync.Once
	finish := func() { once.Do(func() { close(done) }) }
	switch m := p.(type) {
	case stanza.Message:
		c.handleMessage(ctx, m, replayed, finish)
	case *stanza.Message:
		c.handleMessage(ctx, *m, replayed, finish)
	default:
		c.Handle(ctx, p)
		if ctx.Err() == nil {
			finish()
		}
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
