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
var ErrNotOwned = errors.New("owner not served by this gateway process")

// owned is an owner started with StartOwner.
type owned struct {
	ctx    context.Context
	cancel context.CancelFunc
	// connecting runs the connection of the owner's sessions.
	connecting sync.WaitGroup
}

// ownerSet is the owners a sharded hub serves.
type ownerSet struct {
	mu sync.Mutex
	m  map[ids.Owner]*owned
}

func (s *ownerSet) get(owner ids.Owner) *owned {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[owner]
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
	return !g.sharded || g.owners.get(owner) != nil
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
// started is refused.
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
	o := &owned{}
	o.ctx, o.cancel = context.WithCancel(runCtx)
	g.owners.mu.Lock()
	if g.owners.m[owner] != nil {
		g.owners.mu.Unlock()
		o.cancel()
		return fmt.Errorf("gateway: owner %s is started already", owner)
	}
	g.owners.m[owner] = o
	g.owners.mu.Unlock()

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
			_ = g.StopOwner(context.WithoutCancel(ctx), owner) // started above: it cannot fail
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
	delete(g.owners.m, owner)
	g.owners.mu.Unlock()
	if o == nil {
		return fmt.Errorf("gateway: stop owner %s: %w", owner, ErrNotOwned)
	}
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
	return ctx.Err()
}
