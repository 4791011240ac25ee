package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// A sharded cluster (cluster.mode: sharded) runs every process as a
// worker and one of them, the holder of the front lease, as the front
// too (ARCHITECTURE.md, "Several processes"):
//
//   - the worker (cluster.Worker) holds the leases of its share of the
//     owners; the hub (gateway.Options.Sharded) serves those only
//     (StartOwner, StopOwner), and every write the hub makes to an
//     owner's queues and id map is fenced by that owner's lease;
//   - each component runs on a virtual link (shardLink): what it writes
//     goes to the front's XEP-0114 connection when this process is the
//     front, else to the front's outbox stream, which the front writes
//     to its connection (frontPump); what it handles comes from its
//     owners' inboxes (the worker's Handle);
//   - the front's connection hands each stanza it reads to the router,
//     which posts it to its owner's inbox (or handles it here when it has
//     no owner).
//
// A process that loses the front lease stops its connections and keeps
// working as a worker; it campaigns again. SIGTERM hands the owners over
// (Worker.Drain), then ends the front's term and releases the lease.

// defaultMaxMoves caps the owners a worker claims or hands over per
// second (cluster.AssignerOptions.MaxMovesPerSecond).
const defaultMaxMoves = 50

// appShard is the sharded side of one process.
type appShard struct {
	c      *appCluster
	outbox *cluster.StreamQueue
	worker *cluster.Worker
	// front is set while this process holds the front lease and its
	// connections run.
	front atomic.Bool
}

func newAppShard(c *appCluster) *appShard {
	return &appShard{c: c, outbox: cluster.NewFrontOutbox(c.client, c.prefix())}
}

// prefix is the key prefix of the cluster's keys (the store's).
func (c *appCluster) prefix() string { return c.keyPrefix }

// instance describes this process in the worker registry.
func (c *appCluster) instance() cluster.Instance {
	host, _ := os.Hostname()
	return cluster.Instance{ID: c.id, Host: host, PID: os.Getpid(), Started: c.started, Version: version()}
}

// newComponent builds l's component on a virtual link, and the router of
// the front's connection for it (the connection itself is made for each
// term as front).
func (s *appShard) newComponent(a *app, l *appLink, cfg xmppcomponent.Config) error {
	cfg.Journal = nil // the inboxes keep what the front read until handled
	l.shard = newShardLink(s.outbox)
	c, err := xmppcomponent.NewOnLink(cfg, xmppcomponent.HubOf(a.gw), l.shard)
	if err != nil {
		return err
	}
	l.component = c
	r := newShardRouter(s.c.client, s.c.prefix(), s.c.id, c.Feed, a.linked, a.log)
	r.Admit = c.AdmitAtFront
	r.Reply = l.refuse
	r.MaxInbox = a.cfg.ClusterMaxInbox()
	l.connCfg = cfg.Conn
	l.connCfg.OnState = func(up bool) {
		if up {
			// Journaled events not in flight go out again.
			a.gw.FrontendConnected()
		}
	}
	l.router = r
	return nil
}

// refuse writes the router's refusal of a stanza its link read. On the
// link's own connection it never waits for room in the outbound queue,
// as a single process's read path does (stream's admitFunc): the router
// runs as the link reads, and a reader waiting for its writer could stall
// both sides of the stream. With the queue full the refusal is dropped
// (logged by the router). Once this process is no longer the front, it
// goes to the outbox.
func (l *appLink) refuse(ctx context.Context, p stanza.Packet) error {
	if conn := l.front.Load(); conn != nil {
		now, cancel := context.WithCancel(ctx)
		cancel()
		return conn.Send(now, p)
	}
	return l.shard.Send(ctx, p)
}

// linked reports whether owner has a linked account on any platform.
func (a *app) linked(ctx context.Context, owner string) (bool, error) {
	for _, p := range a.gw.Platforms() {
		acct, err := a.store.AccountByOwner(ctx, ids.Owner(owner), p)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if acct.ID != "" {
			return true, nil
		}
	}
	return false, nil
}

// owners lists every owner with a linked account (the Assigner's Owners).
func (a *app) owners(ctx context.Context) ([]string, error) {
	accts, err := a.store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, acct := range accts {
		if acct.ID == "" {
			continue
		}
		if o := string(acct.Owner); len(out) == 0 || out[len(out)-1] != o {
			out = append(out, o) // ordered by owner
		}
	}
	return out, nil
}

// feed is the FeedWait of the component of domain, nil if none here. A
// result or error IQ is first offered to the component's link here (its
// SendIQ or its ping waiting for it, when the server handed it to
// another process's link).
func (a *app) feed(domain string) shardFeed {
	for _, l := range a.links {
		if l.JID == domain {
			return func(ctx context.Context, p stanza.Packet, opts xmppcomponent.FeedOptions) bool {
				if iq, ok := p.(*stanza.IQ); ok {
					if conn := l.front.Load(); conn != nil && conn.DeliverReply(iq) {
						return true
					}
				}
				return l.component.FeedWait(ctx, p, opts)
			}
		}
	}
	return nil
}

// frontConn is the front connection of the component of domain while
// this process is the front, else nil.
func (a *app) frontConn(domain string) xmppcomponent.ConfirmingSender {
	for _, l := range a.links {
		if l.JID == domain {
			if c := l.front.Load(); c != nil {
				return c
			}
			return nil
		}
	}
	return nil
}

// leaveOwnerRooms tells owner's resources in rooms, through every
// component, that they are out of them: owner is handed to another
// process, which does not know who joined.
func (a *app) leaveOwnerRooms(ctx context.Context, owner ids.Owner) {
	for _, l := range a.links {
		if n := l.component.LeaveOwnerRoomsForShutdown(ctx, owner); n > 0 {
			a.log.Info("told room occupants that their user moves to another process", "owner", owner, "component", l.JID, "occupants", n)
		}
	}
}

// runSharded runs a as one process of a sharded cluster: the hub with no
// owner, the worker that claims its share of them, and the campaign for
// the front lease, until ctx ends; then it hands its owners over, ends
// its term as front and stops.
func (a *app) runSharded(ctx context.Context) error {
	s, c := a.shard, a.cluster
	defer c.client.Close()
	w, err := newShardWorker(cluster.WorkerOptions{
		AssignerOptions: cluster.AssignerOptions{
			Client:            c.client,
			Prefix:            c.prefix(),
			Instance:          c.instance(),
			TTL:               time.Duration(a.cfg.Cluster.LeaseTTL),
			RenewEvery:        a.cfg.ClusterRenewEvery(),
			MaxMovesPerSecond: maxMoves(a.cfg.Cluster.MaxMovesPerSecond),
			Owners:            a.owners,
			Logger:            a.log,
		},
		Wait: time.Second,
	}, a.gw, a.feed, a.leaveOwnerRooms)
	if err != nil {
		return errors.Join(err, a.store.Close())
	}
	s.worker = w
	c.fenced.SetOwnerFences(func(queue ids.Owner) (cluster.Fence, bool) {
		return w.Assigner().Fence(string(delivery.QueueOwner(queue)))
	})
	if err := a.mgmt.start(ctx); err != nil {
		a.store.Close()
		return err
	}
	if err := a.gw.Start(ctx); err != nil {
		return errors.Join(err, a.mgmt.stopAPI(ctx), a.mgmt.stopOps(ctx), a.store.Close())
	}
	// The virtual links are up from the start: what the components write
	// goes to the outbox until this process is the front.
	a.gw.FrontendConnected()
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	if err := a.files.start(runCtx); err != nil {
		stopRun()
		return errors.Join(err, a.mgmt.stopAPI(ctx), a.gw.Stop(ctx), a.mgmt.stopOps(ctx), a.store.Close())
	}
	a.log.Info("drawbridge running (sharded)", "instance", c.id, "components", a.linkNames(), "store", a.cfg.Store.Backend)

	var wg sync.WaitGroup
	workerCtx, stopWorker := context.WithCancel(runCtx)
	defer stopWorker()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		_ = w.Run(workerCtx)
	}()
	for _, l := range a.links {
		wg.Go(func() { _ = l.component.Run(runCtx) })
	}
	// The front: campaign, serve a term, campaign again when it is lost,
	// until ctx ends (the term in progress then ends cleanly: resign).
	// With cluster.links: each, every process holds its own link for good.
	termCtx, endTerm := context.WithCancel(runCtx)
	defer endTerm()
	frontDone := make(chan error, 1)
	if a.cfg.Cluster.Links == config.ClusterLinksEach {
		go func() { frontDone <- a.ownLinks(runCtx, termCtx) }()
	} else {
		go func() { frontDone <- a.campaignFront(runCtx, termCtx) }()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-frontDone:
		frontDone = nil
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	apiErr := a.mgmt.stopAPI(stopCtx)
	// Hand the owners over while this process may still be the front:
	// their sessions' last words go out on its connection.
	stopWorker()
	<-workerDone // Drain needs Run to have returned
	drainErr := waitWorker(stopCtx, w)
	// Then end the term as front and release the lease.
	endTerm()
	if frontDone != nil {
		runErr = <-frontDone
	}
	gwErr := a.gw.Stop(stopCtx)
	stopRun()
	wg.Wait()
	err = errors.Join(ignoreCanceled(runErr), apiErr, drainErr, gwErr, a.mgmt.stopOps(stopCtx), a.files.close(), a.store.Close())
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), resignTimeout)
	defer rcancel()
	if rerr := c.elector.Resign(rctx, cluster.Grant{}); rerr != nil {
		a.log.Warn("cluster: leaving the registry", "err", rerr)
	}
	a.log.Info("drawbridge stopped (sharded)")
	return err
}

// waitWorker hands every owner of w over (its Run has been told to stop).
func waitWorker(ctx context.Context, w *cluster.Worker) error {
	if err := w.Drain(ctx); err != nil {
		return fmt.Errorf("cluster: handing the owners over: %w", err)
	}
	return nil
}

// campaignFront campaigns for the front lease and serves each term won,
// until term ends: then a term in progress ends with the lease released.
func (a *app) campaignFront(ctx, term context.Context) error {
	c := a.cluster
	for term.Err() == nil {
		g, err := c.elector.Campaign(term)
		if err != nil {
			return ignoreCanceled(err)
		}
		holdErr, err := a.serveLinks(ctx, term, c.mayConnect, func(hctx context.Context) error { return c.elector.Hold(hctx, g) })
		if holdErr != nil {
			a.log.Warn("cluster: lost the front lease; serving as a worker and campaigning again", "err", holdErr)
			continue
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resignTimeout)
		if rerr := c.elector.Resign(rctx, g); rerr != nil {
			a.log.Warn("cluster: releasing the front lease", "err", rerr)
		} else {
			a.log.Info("cluster: released the front lease", "token", g.Token)
		}
		cancel()
		return err
	}
	return nil
}

// ownLinks serves this process's own links until term ends
// (cluster.links: each: the server spreads the component's stanzas over
// every process's connection).
func (a *app) ownLinks(ctx, term context.Context) error {
	_, err := a.serveLinks(ctx, term, nil, func(hctx context.Context) error {
		<-hctx.Done()
		return nil
	})
	return err
}

// serveLinks serves one term of links: one XEP-0114 connection per
// component (each asking mayConnect before it connects, when set), whose
// stanzas the routers hand to the owners' inboxes, and the pump that
// writes the stanzas waiting in the outbox. The term lasts while hold
// runs: it returns holdErr when hold fails (the lease is lost: the
// connections close at once), or nil when term ended (what is queued is
// written before the connections close; err tells how that went).
func (a *app) serveLinks(ctx, term context.Context, mayConnect func(context.Context) error, hold func(context.Context) error) (holdErr, err error) {
	s := a.shard
	connCtx, stopConns := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConns()
	var wg sync.WaitGroup
	conns := make([]*stream.Conn, len(a.links))
	// The components write to the connections once the pump has written
	// what they posted to the outbox before (shardLink.SetFront).
	gate := make(chan struct{})
	var openGate sync.Once
	defer openGate.Do(func() { close(gate) })
	until := ""
	for i, l := range a.links {
		cfg := l.connCfg
		cfg.MayConnect = mayConnect
		cfg.PingResource = linkResource + a.cluster.id
		// The router records each stanza by posting it where it is
		// handled, as it is read (so that a draining link loses
		// nothing); what it leaves is handled here.
		cfg.Intake = l.router
		cfg.HandleRecorded = func(_ context.Context, _ stanza.Packet, done func()) { done() }
		conns[i] = stream.New(cfg, l.router.Local)
		l.front.Store(conns[i])
		if last := l.shard.SetFront(conns[i], gate); streamIDLess(until, last) {
			until = last
		}
		wg.Go(func() {
			if err := conns[i].Run(connCtx); err != nil && connCtx.Err() == nil {
				a.log.Error("cluster: the link stopped", "component", l.JID, "err", err)
			}
		})
	}
	s.front.Store(true)
	pump := &frontPump{outbox: s.outbox, self: a.cluster.id, Conn: a.frontConn, log: a.log,
		Until: until, CaughtUp: func() { openGate.Do(func() { close(gate) }) }}
	wg.Go(func() { _ = pump.Run(connCtx) })
	holdCtx, stopHold := context.WithCancel(term)
	defer stopHold()
	holdErr = hold(holdCtx)

	// From now on the components write to the outbox: the next front
	// (or another process's link) writes it.
	for _, l := range a.links {
		l.shard.SetFront(nil, nil)
	}
	openGate.Do(func() { close(gate) }) // what waits for it posts instead
	s.front.Store(false)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var errs []error
	if holdErr == nil {
		// A clean end: write what is queued before closing.
		for _, conn := range conns {
			errs = append(errs, conn.Drain(stopCtx))
		}
	}
	stopConns()
	wg.Wait()
	for _, l := range a.links {
		l.front.Store(nil)
	}
	return holdErr, errors.Join(errs...)
}

// maxMoves is cluster.max_moves_per_second with its default.
func maxMoves(v int64) float64 {
	if v > 0 {
		return float64(v)
	}
	return defaultMaxMoves
}

// ready is /readyz in a sharded cluster: every process takes traffic as
// a worker once the store answers; the front also needs its links up.
func (s *appShard) ready(ctx context.Context, m *appMgmt) error {
	if s.front.Load() {
		return m.admin.Ready(ctx)
	}
	if err := m.a.gw.Ready(ctx); err != nil {
		return fmt.Errorf("the store does not answer: %w", err)
	}
	return nil
}
