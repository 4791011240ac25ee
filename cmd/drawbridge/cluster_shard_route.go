package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
)

// shardRouter is the Handler of the front's XEP-0114 connection in a
// sharded cluster: it routes each stanza read by the sender's bare JID
// (the owner). A stanza of an owner held by a worker (this process's own
// too), or linked and held by nobody (a move in progress), is posted to
// the owner's inbox (cluster.Router.RouteWith), where its worker reads
// it: the inbox is the durable record of what the front read, so a
// front that dies right after loses nothing it posted, and the owner's
// stanzas keep one order whichever process holds it. A stanza of a user
// with no linked account (a registration, a login flow) goes to the
// live worker rendezvous hashing prefers for that user (its own inbox,
// cluster.Router.RouteToWorker; handled here when that is this process),
// the one that will hold the owner once linked. A stanza with no owner
// (from a server) is handled by the local component (Local).
//
// A user's stanza is admitted here before it is posted (see admit): a
// new message within its sender's limits is marked admitted (its rate
// token is taken here, not again by the worker), one over them is
// answered with the stanza error a single process gives, and no inbox
// holds more than MaxInbox entries: past that the stanza is refused
// (wait/resource-constraint) rather than posted.
type shardRouter struct {
	self   string // this instance's id
	client redis.UniversalClient
	prefix string
	router *cluster.Router
	// Local handles a stanza in this process (the component's Feed).
	Local func(ctx context.Context, p stanza.Packet)
	// Linked reports whether owner has a linked account.
	Linked func(ctx context.Context, owner string) (bool, error)
	// Admit is the component's AdmitAtFront: a user's new message is
	// checked against its sender's limits before it is posted.
	Admit func(p stanza.Packet) (refusal stanza.Packet, admitted bool)
	// Reply sends a refusal to the stanza's sender (the component's
	// link).
	Reply func(ctx context.Context, p stanza.Packet) error
	// MaxInbox is the most entries an inbox holds (cluster.max_inbox).
	MaxInbox int64
	log      *slog.Logger

	// held remembers the owners found held lately (their stanzas skip
	// the read of the lease).
	held heldHint

	mu     sync.Mutex
	live   []string // live workers, read at liveAt
	liveAt time.Time
}

func newShardRouter(client redis.UniversalClient, prefix, self string, local func(context.Context, stanza.Packet), linked func(context.Context, string) (bool, error), log *slog.Logger) *shardRouter {
	return &shardRouter{self: self, client: client, prefix: prefix, router: cluster.NewRouter(client, prefix), Local: local, Linked: linked, log: log}
}

// linkResource starts the resource a process's pings come from
// (stream.Config.PingResource), followed by its instance id.
const linkResource = "link."

// Handle routes p, and handles it here if it is not routed elsewhere
// (a stream.Handler).
func (r *shardRouter) Handle(ctx context.Context, p stanza.Packet) {
	if !r.route(ctx, p) {
		r.Local(ctx, p)
	}
}

// Record routes each stanza read as the connection reads it, before its
// dispatch (a stream.Intake): the inboxes are the record of what the
// link read, so a front that stops (SIGTERM) or dies after posting loses
// nothing, and what it reads while its connection drains still reaches
// the workers. A stanza routed elsewhere gets a done function (the
// connection then gives it to HandleRecorded, which only calls it); one
// to handle here gets nil and goes to the Handler (Local).
func (r *shardRouter) Record(ctx context.Context, ps []stanza.Packet) []func() {
	dones := make([]func(), len(ps))
	for i, p := range ps {
		if r.route(ctx, p) {
			dones[i] = func() {}
		}
	}
	return dones
}

// route posts p where it is handled — its owner's inbox, the inbox of
// the worker that takes users with no linked account, the process whose
// ping it answers — and reports whether it did; false means p is to be
// handled here (no owner, this process's own, or routing failed: then
// the hub answers it, with a stanza error if it cannot serve it).
func (r *shardRouter) route(ctx context.Context, p stanza.Packet) bool {
	if inst, ok := replyFor(p); ok {
		// A reply to another process's ping, which the server gave to
		// this link (cluster.links: each): back to that process. Only to
		// a live worker: anyone can address a result to any resource,
		// and an inbox is created by its first post.
		if inst == r.self {
			r.log.Debug("cluster: a reply to a ping of this process that its link did not take (late)", "id", p.(*stanza.IQ).Id)
			return true
		}
		if live, err := r.liveWorkers(ctx); err != nil || !slices.Contains(live, inst) {
			r.log.Debug("cluster: dropping a reply to a ping of no live process", "instance", inst, "err", err)
			return true
		}
		b, err := xmppcomponent.EncodeStanza(p)
		if err == nil {
			// Unbounded: only a server's reply comes here, for a live
			// process, and a lost one fails that process's ping.
			_, err = r.router.RouteToWorker(ctx, inst, b, cluster.PostOptions{})
		}
		if err != nil {
			r.log.Warn("cluster: bringing a ping's reply back to its process failed", "instance", inst, "err", err)
		}
		return true
	}
	owner := stanzaOwner(p)
	if owner == "" {
		return false
	}
	opts := cluster.PostOptions{Max: r.MaxInbox}
	admitted := false
	if r.held.has(owner) {
		// Held by a worker moments ago, so linked: admitted here, and
		// posted if held still, with no read of the lease before.
		if r.admit(ctx, p, &opts) {
			return true
		}
		admitted = true
		held, ok := r.postIfHeld(ctx, p, owner, opts)
		if held {
			return ok
		}
		r.held.forget(owner) // free now: the full path below
	}
	holder, routed, err := r.holder(ctx, owner)
	if err != nil {
		r.log.Warn("cluster: cannot tell where an owner is served; handled here", "owner", owner, "err", err)
		return false
	}
	worker := ""
	if !routed {
		// No linked account: the worker that will hold the owner once
		// linked runs the registration and the login flow.
		if worker, err = r.preferred(ctx, owner); err != nil || worker == r.self || worker == "" {
			if err != nil {
				r.log.Warn("cluster: cannot tell the live workers; handled here", "owner", owner, "err", err)
			}
			return false
		}
	}
	// Only a linked owner's message is admitted here: the message of a
	// user with no account is refused (registration-required) by the
	// worker.
	if routed && !admitted && r.admit(ctx, p, &opts) {
		return true
	}
	b, err := xmppcomponent.EncodeStanza(p)
	if err == nil {
		if worker != "" {
			_, err = r.router.RouteToWorker(ctx, worker, b, opts)
		} else {
			_, err = r.router.RouteWith(ctx, owner, b, opts)
		}
	}
	if errors.Is(err, cluster.ErrQueueFull) {
		r.refuseFull(ctx, p, owner, worker)
		return true
	}
	if err != nil {
		r.log.Warn("cluster: routing a stanza failed; handled here", "owner", owner, "stanza", p.Name(), "err", err)
		return false
	}
	if holder != "" {
		r.held.mark(owner)
	}
	return true
}

// admit runs Admit on a linked owner's stanza p: it reports true when p
// was refused (the refusal is sent), else marks opts admitted as Admit
// says.
func (r *shardRouter) admit(ctx context.Context, p stanza.Packet, opts *cluster.PostOptions) bool {
	if r.Admit == nil {
		return false
	}
	refusal, admitted := r.Admit(p)
	if refusal != nil {
		r.reply(ctx, refusal)
		return true
	}
	opts.Admitted = admitted
	return false
}

// postIfHeld posts p to owner's inbox if a worker holds owner now
// (cluster.Router.RouteIfHeld) and reports whether it was held; when it
// was, ok is route's result (false: handled here).
func (r *shardRouter) postIfHeld(ctx context.Context, p stanza.Packet, owner string, opts cluster.PostOptions) (held, ok bool) {
	b, err := xmppcomponent.EncodeStanza(p)
	if err == nil {
		_, held, err = r.router.RouteIfHeld(ctx, owner, b, opts)
	}
	switch {
	case errors.Is(err, cluster.ErrQueueFull):
		r.held.mark(owner)
		r.refuseFull(ctx, p, owner, "")
		return true, true
	case err != nil:
		r.log.Warn("cluster: routing a stanza failed; handled here", "owner", owner, "stanza", p.Name(), "err", err)
		return true, false
	case held:
		r.held.mark(owner)
	}
	return held, true
}

// errInboxFull is the refusal of a stanza whose inbox is full: the
// gateway lacks the resources now (wait/resource-constraint).
var errInboxFull = fmt.Errorf("too many of your stanzas are waiting to be handled; try again shortly: %w", gateway.ErrRateLimited)

// refuseFull answers p, whose inbox (owner's, or worker's own when set)
// holds MaxInbox entries, with errInboxFull; an error or a result, which
// nobody answers, is only logged.
func (r *shardRouter) refuseFull(ctx context.Context, p stanza.Packet, owner, worker string) {
	refusal := xmppcomponent.Refusal(p, errInboxFull)
	if refusal == nil {
		// At Debug like a refusal: a user flooding error stanzas would
		// otherwise flood the log.
		r.log.Debug("cluster: an inbox is full; an error or result stanza dropped (nobody answers one)", "owner", owner, "worker", worker, "stanza", p.Name(), "max_inbox", r.MaxInbox)
		return
	}
	// Answered: at Debug, so that a flood does not flood the log too.
	r.log.Debug("cluster: an inbox is full; stanza refused", "owner", owner, "worker", worker, "stanza", p.Name(), "max_inbox", r.MaxInbox)
	r.reply(ctx, refusal)
}

// reply sends a refusal to its addressee.
func (r *shardRouter) reply(ctx context.Context, p stanza.Packet) {
	if r.Reply == nil {
		return
	}
	if err := r.Reply(ctx, p); err != nil {
		r.log.Warn("cluster: sending a refusal", "err", err)
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

// liveTTL is how long the router reuses the list of live workers.
const liveTTL = time.Second

// preferred is the live worker rendezvous hashing gives owner to (the
// one that claims it once linked); "" when no worker is registered.
func (r *shardRouter) preferred(ctx context.Context, owner string) (string, error) {
	live, err := r.liveWorkers(ctx)
	if err != nil {
		return "", err
	}
	return cluster.Preferred(owner, live), nil
}

// liveWorkers is cluster.LiveWorkers, read at most once per liveTTL.
func (r *shardRouter) liveWorkers(ctx context.Context) ([]string, error) {
	r.mu.Lock()
	live, fresh := r.live, time.Since(r.liveAt) < liveTTL
	r.mu.Unlock()
	if fresh {
		return live, nil
	}
	live, err := cluster.LiveWorkers(ctx, r.client, r.prefix)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.live, r.liveAt = live, time.Now()
	r.mu.Unlock()
	return live, nil
}

// replyFor reports whether p is a result or error IQ to a process's
// link resource, and names the process.
func replyFor(p stanza.Packet) (string, bool) {
	iq, ok := p.(*stanza.IQ)
	if !ok || iq.Type != stanza.IQTypeResult && iq.Type != stanza.IQTypeError {
		return "", false
	}
	j, err := jid.Parse(iq.To)
	if err != nil || j.Localpart() != "" {
		return "", false
	}
	// A ping goes to the server, so its reply comes from a server (no
	// localpart); a user's result is routed by its owner as any stanza.
	if from, err := jid.Parse(iq.From); err != nil || from.Localpart() != "" {
		return "", false
	}
	inst, ok := strings.CutPrefix(j.Resourcepart(), linkResource)
	return inst, ok && inst != ""
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
