package main

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
)

// shardRouter is the Handler of the front's XEP-0114 connection in a
// sharded cluster: it routes each stanza read by the sender's bare JID
// (the owner). A stanza of an owner held by a worker (this process's own
// too), or linked and held by nobody (a move in progress), is posted to
// the owner's inbox (cluster.Router.RouteHeld), where its worker reads
// it: the inbox is the durable record of what the front read, so a
// front that dies right after loses nothing it posted, and the owner's
// stanzas keep one order whichever process holds it. A stanza with no
// owner, or of an owner with no linked account (from a server, a
// stranger, a registration), is handled by the local component (Local).
type shardRouter struct {
	self   string // this instance's id
	client redis.UniversalClient
	prefix string
	router *cluster.Router
	// Local handles a stanza in this process (the component's Feed).
	Local func(ctx context.Context, p stanza.Packet)
	// Linked reports whether owner has a linked account.
	Linked func(ctx context.Context, owner string) (bool, error)
	log    *slog.Logger
}

func newShardRouter(client redis.UniversalClient, prefix, self string, local func(context.Context, stanza.Packet), linked func(context.Context, string) (bool, error), log *slog.Logger) *shardRouter {
	return &shardRouter{self: self, client: client, prefix: prefix, router: cluster.NewRouter(client, prefix), Local: local, Linked: linked, log: log}
}

// Handle routes p (a stream.Handler).
func (r *shardRouter) Handle(ctx context.Context, p stanza.Packet) {
	owner := stanzaOwner(p)
	if owner == "" {
		r.Local(ctx, p)
		return
	}
	holder, routed, err := r.holder(ctx, owner)
	if err != nil {
		// The hub answers: it refuses an owner it does not serve with a
		// stanza error, so the sender hears of it.
		r.log.Warn("cluster: cannot tell where an owner is served; handled here", "owner", owner, "err", err)
		r.Local(ctx, p)
		return
	}
	if !routed {
		r.Local(ctx, p)
		return
	}
	b, err := xmppcomponent.EncodeStanza(p)
	if err == nil {
		_, err = r.router.RouteHeld(ctx, owner, holder, b)
	}
	if err != nil {
		r.log.Warn("cluster: routing a stanza failed; handled here", "owner", owner, "stanza", p.Name(), "err", err)
		r.Local(ctx, p)
	}
}

// holder is the worker holding owner's lease, and whether owner's
// stanzas go to its inbox: held by a worker, or by nobody while owner is
// linked (the next holder reads them).
func (r *shardRouter) holder(ctx context.Context, owner string) (string, bool, error) {
	st, err := cluster.NewOwnerLease(r.client, r.prefix, owner).State(ctx)
	if err != nil {
		return "", false, err
	}
	if st.Holder != "" {
		return st.Holder, true, nil
	}
	linked, err := r.Linked(ctx, owner)
	return "", linked, err
}

// stanzaOwner is the bare JID of p's sender when it is a user's (it has a
// localpart), else "".
func stanzaOwner(p stanza.Packet) string {
	var from string
	switch s := p.(type) {
	case stanza.Message:
		from = s.From
	case *stanza.Message:
		from = s.From
	case stanza.Presence:
		from = s.From
	case *stanza.Presence:
		from = s.From
	case *stanza.IQ:
		from = s.From
	default:
		return ""
	}
	j, err := jid.Parse(from)
	if err != nil || j.Localpart() == "" {
		return ""
	}
	return string(xmppcomponent.Owner(j))
}
