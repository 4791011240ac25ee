package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// A sharded hub (Options.Sharded) serves only the owners it was told to:
// a cluster worker (gateway/cluster) calls StartOwner when it gains an
// owner's lease and StopOwner when it loses or hands it over. Start then
// loads no session and replays nothing; StartOwner does that for one
// owner, StopOwner undoes it without acknowledging anything still in the
// store, so that the owner's next worker delivers and sends it.

// ErrNotOwned: the hub is sharded and does not serve this owner now (its
// worker is another process, or it was never started here).
var ErrNotOwned = errors.New("not served by this gateway process at the moment (the accounts are moving to another one; try again in a few seconds)")

// owned is an owner started with StartOwner.
type owned struct {
	ctx    context.Context
	cancel context.CancelFunc
	// mu is held while the owner starts and while it stops, so that a
	// StopOwner waits for the StartOwner under way.
	mu sync.Mutex
	// connecting runs the connection of the owner's sessions.
	connecting sync.WaitGroup
	// stopping is set (under ownerSet.mu) once StopOwner began: the owner
	// is not served any more, but not yet free to start again.
	stopping bool
	// stopped is closed once StopOwner is done.
	stopped chan struct{}
}

// ownerSet is the owners a sharded hub serves.
type ownerSet struct {
	mu sync.Mutex
	m  map[ids.Owner]*owned
}

// serving returns owner's entry unless it is absent or stopping.
func (s *ownerSet) serving(owner ids.Owner) *owned {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.m[owner]; o != nil && !o.stopping {
		return o
	}
	return nil
}

// wait waits for the owners' sessions to be connected, or given up on
// once the hub's context ended (Stop).
func (s *ownerSet) wait() {
	s.mu.Lock()
	all := make([]*owned, 0, len(s.m))
	for _, o := range s.m {
		all = append(all, o)
	}
	s.mu.Unlock()
	for _, o := range all {
		o.connecting.Wait()
	}
}

// owns reports whether the hub serves owner: always unless sharded.
func (g *Gateway) owns(owner ids.Owner) bool {
	return !g.sharded || g.owners.serving(owner) != nil
}

// Owns reports whether the hub serves owner now: every owner unless
// Options.Sharded, else those started with StartOwner and not stopped.
func (g *Gateway) Owns(owner ids.Owner) bool { return g.owns(owner) }

// StartOwner makes a sharded hub serve owner: it replays the events
// journaled for owner and not confirmed (by this process or by owner's
// previous worker), loads owner's sessions, queues again the messages
// waiting in owner's outbox and connects the sessions in the background.
// The XMPP side handles owner's intake again itself
// (delivery.Intake.PendingOf). It must come after Start; an owner already
// started is refused; one being stopped is started once StopOwner is done.
// A StopOwner during StartOwner waits for it and makes it fail with
// ErrNotOwned.
func (g *Gateway) StartOwner(ctx context.Context, owner ids.Owner) error {
	if !g.sharded {
		return errors.New("gateway: StartOwner needs Options.Sharded")
	}
	g.mu.Lock()
	runCtx := g.runCtx
	g.mu.Unlock()
	if runCtx == nil || runCtx.Err() != nil {
		return fmt.Errorf("gateway: start owner %s: the gateway is not running", owner)
	}
	o := &owned{stopped: make(chan struct{})}
	o.ctx, o.cancel = context.WithCancel(runCtx)
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		g.owners.mu.Lock()
		cur := g.owners.m[owner]
		if cur == nil {
			g.owners.m[owner] = o
			g.owners.mu.Unlock()
			break
		}
		g.owners.mu.Unlock()
		if !cur.stopping {
			o.cancel()
			return fmt.Errorf("gateway: owner %s is started already", owner)
		}
		select {
		case <-cur.stopped: // a StopOwner under way ended: try again
		case <-ctx.Done():
			o.cancel()
			return fmt.Errorf("gateway: start owner %s: %w", owner, ctx.Err())
		}
	}

	// Whatever this process knew of owner's contacts may be older than
	// what the owner's previous worker wrote.
	for _, platform := range g.order {
		g.contacts.drop(owner, platform)
	}
	g.retry.StartOwner(o.ctx, owner)
	// As in Start: what was journaled goes out before any session of the
	// owner connects, ahead of new events of the same chats.
	if err := g.journal.ReplayOwner(o.ctx, owner); err != nil {
		g.log.Warn("replay of an owner's journal stopped; the rest goes at the next pass", "owner", owner, "err", err)
	}
	var sessions []Session
	for _, platform := range g.order {
		a, err := g.store.AccountByOwner(ctx, owner, platform)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			g.owners.mu.Lock()
			o.stopping = true
			g.owners.mu.Unlock()
			g.teardown(owner, o)
			return fmt.Errorf("gateway: start owner %s: account on %s: %w", owner, platform, err)
		}
		if a.ID == "" {
			continue
		}
		s, _, err := g.load(ctx, owner, platform, a.ID)
		if err != nil {
			g.log.Error("cannot load session", "owner", owner, "platform", platform, "err", err)
			if serr := g.store.SetAccountState(ctx, owner, platform, event.StateLoggedOut, err.Error()); serr != nil {
				g.log.Error("cannot record account state", "owner", owner, "err", serr)
			}
			continue
		}
		sessions = append(sessions, s)
	}
	g.retry.RestoreOwner(o.ctx, owner)
	if o.ctx.Err() != nil {
		// StopOwner began meanwhile; it tears down what was loaded.
		return fmt.Errorf("gateway: start owner %s: stopped while starting: %w", owner, ErrNotOwned)
	}
	o.connecting.Go(func() {
		for _, s := range sessions {
			if o.ctx.Err() != nil {
				return
			}
			s.Connect(o.ctx)
		}
	})
	return nil
}

// StopOwner makes a sharded hub stop serving owner: it disconnects owner's
// sessions, cancels owner's login flows, stops the senders of owner's
// queued messages and forgets owner's journaled events in flight. Nothing
// is acknowledged that the XMPP server has not confirmed or the platform
// not taken: owner's next worker replays and sends it. It returns once no
// goroutine of the hub works for owner any more; ErrNotOwned if owner was
// not started.
func (g *Gateway) StopOwner(ctx context.Context, owner ids.Owner) error {
	g.owners.mu.Lock()
	o := g.owners.m[owner]
	if o == nil || o.stopping {
		g.owners.mu.Unlock()
		return fmt.Errorf("gateway: stop owner %s: %w", owner, ErrNotOwned)
	}
	o.stopping = true
	g.owners.mu.Unlock()
	o.cancel() // a StartOwner under way gives up sooner
	o.mu.Lock()
	defer o.mu.Unlock()
	g.teardown(owner, o)
	return ctx.Err()
}

// teardown undoes StartOwner for o, marked stopping, whose mu the caller
// holds; then owner may start again.
func (g *Gateway) teardown(owner ids.Owner, o *owned) {
	o.cancel()
	var sessions []Session
	for _, platform := range g.order {
		if l, ok := g.detach(owner, platform); ok {
			sessions = append(sessions, l.session)
		}
	}
	g.mu.Lock()
	for key, run := range g.logins {
		if key.owner == owner {
			run.login.Cancel()
			delete(g.logins, key)
		}
	}
	g.mu.Unlock()
	o.connecting.Wait()
	for _, s := range sessions {
		s.Disconnect()
	}
	g.retry.StopOwner(owner)
	g.journal.ForgetOwner(owner)
	g.owners.mu.Lock()
	if g.owners.m[owner] == o {
		delete(g.owners.m, owner)
	}
	g.owners.mu.Unlock()
	close(o.stopped)
}
