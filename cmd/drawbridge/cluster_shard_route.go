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
// (the owner). A stanza of an owner held by this process's own worker, or
// with no owner (from a server, a stranger, registration), is handled by
// the local component (Local); one of an owner held by another worker,
// or linked and held by nobody (a move in progress), is posted to the
// owner's inbox (cluster.Router.Route), where its worker reads it.
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
	remote, err := r.remote(ctx, owner)
	if err != nil {
		// The hub answers: it refuses an owner it does not serve with a
		// stanza error, so the sender hears of it.
		r.log.Warn("cluster: cannot tell where an owner is served; handled here", "owner", owner, "err", err)
		r.Local(ctx, p)
		return
	}
	if !remote {
		r.Local(ctx, p)
		return
	}
	b, err := xmppcomponent.EncodeStanza(p)
	if err == nil {
		_, err = r.router.Route(ctx, owner, b)
	}
	if err != nil {
		r.log.Warn("cluster: routing a stanza failed; handled here", "owner", owner, "stanza", p.Name(), "err", err)
		r.Local(ctx, p)
	}
}

// remote reports whether owner's stanzas go to its inbox: its lease is
// another worker's, or nobody's while owner is linked.
func (r *shardRouter) remote(ctx context.Context, owner string) (bool, error) {
	st, err := cluster.NewOwnerLease(r.client, r.prefix, owner).State(ctx)
	if err != nil {
		return false, err
	}
	switch st.Holder {
	case r.self:
		return false, nil
	case "":
		return r.Linked(ctx, owner)
	}
	return true, nil
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
