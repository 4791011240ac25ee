package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Roles a worker reports in the worker registry.
const (
	RoleWorker   = "worker"   // owns the owners it prefers
	RoleDraining = "draining" // hands its owners over before it exits
)

// AssignerOptions configure an Assigner.
type AssignerOptions struct {
	Client redis.UniversalClient
	// Prefix starts every key (the store's key prefix).
	Prefix string
	// Instance describes this worker; its Role is set by the Assigner.
	Instance Instance
	// TTL is the owner leases' TTL and the worker entry's.
	TTL time.Duration
	// RenewEvery is how often Run steps: renews the leases held, claims
	// and releases; less than TTL.
	RenewEvery time.Duration
	// MaxMovesPerSecond caps the claims and hand-overs (not the releases
	// of unlinked owners), so that a joining worker does not reconnect
	// hundreds of platform sessions at once. Its integer part, at least 1,
	// is also the most moves of one step.
	MaxMovesPerSecond float64
	// Owners lists every owner (bare JID) with a linked account.
	Owners func(ctx context.Context) ([]string, error)
	// Start is called after the owner's lease was claimed, with its grant:
	// load the owner's sessions, fence its writes with g. An error
	// releases the lease again (another step retries).
	Start func(ctx context.Context, owner string, g Grant) error
	// Stop is called before a lease is released (hand-over, drain,
	// unlink) and after it was lost: disconnect the owner's sessions and
	// drop what is in memory for it. It must not write to the owner's data
	// after a loss (the fence refuses it anyway).
	Stop   func(ctx context.Context, owner string)
	Logger *slog.Logger
}

// held is one owner lease this worker holds.
type held struct {
	owner string
	lease *Lease
	grant Grant
	// validUntil is the start of the last successful claim or renewal
	// plus the TTL: this worker never believes it holds the lease longer
	// than Redis keeps it.
	validUntil time.Time
}

// Assigner spreads owners over the live workers, one lease per owner:
// each worker claims the free owners it prefers by rendezvous hashing
// (Preferred) among the live, non-draining workers of the registry,
// renews what it holds, hands over what it no longer prefers, and gives
// up at once what Redis says is not its own any more. Moves are capped by
// MaxMovesPerSecond.
type Assigner struct {
	opts    AssignerOptions
	reg     *Registry
	limiter *rate.Limiter
	log     *slog.Logger

	mu       sync.Mutex
	held     map[string]held
	draining bool
}

// NewAssigner returns the Assigner of opts.Instance. It does no I/O.
func NewAssigner(opts AssignerOptions) (*Assigner, error) {
	if opts.TTL <= 0 || opts.RenewEvery <= 0 || opts.RenewEvery >= opts.TTL {
		return nil, fmt.Errorf("cluster: renew interval %v must be positive and shorter than the lease TTL %v", opts.RenewEvery, opts.TTL)
	}
	if opts.MaxMovesPerSecond <= 0 {
		return nil, fmt.Errorf("cluster: max moves per second %v must be positive", opts.MaxMovesPerSecond)
	}
	if opts.Instance.ID == "" || opts.Owners == nil || opts.Start == nil || opts.Stop == nil {
		return nil, errors.New("cluster: an assigner needs an instance id and the Owners, Start and Stop functions")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	burst := max(1, int(opts.MaxMovesPerSecond))
	return &Assigner{
		opts:    opts,
		reg:     NewWorkerRegistry(opts.Client, opts.Prefix),
		limiter: rate.NewLimiter(rate.Limit(opts.MaxMovesPerSecond), burst),
		log:     opts.Logger.With("instance", opts.Instance.ID),
		held:    map[string]held{},
	}, nil
}

// Owned is the owners this worker holds now, sorted.
func (a *Assigner) Owned() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.held))
}

// Grant is the grant of owner's lease if this worker holds it.
func (a *Assigner) Grant(owner string) (Grant, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.held[owner]
	return h.grant, ok
}

// Fence is the fence of owner's writes if this worker holds its lease.
func (a *Assigner) Fence(owner string) (Fence, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.held[owner]
	if !ok {
		return Fence{}, false
	}
	return h.grant.Fence(h.lease), true
}

// Run steps every RenewEvery until ctx ends. It does not release what it
// holds when ctx ends: call Drain for a clean exit (a crash leaves the
// leases to expire, which this imitates).
func (a *Assigner) Run(ctx context.Context) error {
	tick := time.NewTicker(a.opts.RenewEvery)
	defer tick.Stop()
	for {
		if err := a.Step(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("cluster: assigning owners", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Step is one round: heartbeat, renew the leases held (giving up those
// lost), release the owners unlinked or preferring another live worker,
// and claim the free owners this worker prefers, within the move cap.
func (a *Assigner) Step(ctx context.Context) error {
	now := time.Now()
	a.mu.Lock()
	draining := a.draining
	a.mu.Unlock()
	a.heartbeat(ctx, draining)
	a.renew(ctx)
	if draining {
		return nil
	}
	workers, err := a.liveWorkers(ctx)
	if err != nil {
		return err
	}
	owners, err := a.opts.Owners(ctx)
	if err != nil {
		return fmt.Errorf("cluster: listing owners: %w", err)
	}
	linked := make(map[string]bool, len(owners))
	for _, o := range owners {
		linked[o] = true
	}
	self := a.opts.Instance.ID
	for _, o := range a.Owned() {
		var err error
		switch {
		case !linked[o]:
			err = a.release(ctx, o, "unlinked")
		case Preferred(o, workers) != self && a.limiter.AllowN(now, 1):
			err = a.release(ctx, o, "handed over")
		}
		if err != nil {
			a.log.Warn("cluster: releasing an owner", "err", err)
		}
	}
	for _, o := range owners {
		if _, ok := a.Grant(o); ok || Preferred(o, workers) != self {
			continue
		}
		if !a.limiter.AllowN(now, 1) {
			break
		}
		a.claim(ctx, o)
	}
	return nil
}

// Drain marks this worker draining (the others stop preferring it), then
// for each owner it holds: Stop, release the lease. Last it leaves the
// registry. Run must not be running any more.
func (a *Assigner) Drain(ctx context.Context) error {
	a.mu.Lock()
	a.draining = true
	a.mu.Unlock()
	a.heartbeat(ctx, true)
	var errs []error
	for _, o := range a.Owned() {
		if err := a.release(ctx, o, "draining"); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, a.reg.Remove(ctx, a.opts.Instance.ID))
	return errors.Join(errs...)
}

func (a *Assigner) heartbeat(ctx context.Context, draining bool) {
	inst := a.opts.Instance
	inst.Role = RoleWorker
	if draining {
		inst.Role = RoleDraining
	}
	if err := a.reg.Heartbeat(ctx, inst, a.opts.TTL); err != nil && ctx.Err() == nil {
		a.log.Warn("cluster: worker heartbeat failed", "err", err)
	}
}

// liveWorkers is the ids of the workers that are not draining.
func (a *Assigner) liveWorkers(ctx context.Context) ([]string, error) {
	return LiveWorkers(ctx, a.opts.Client, a.opts.Prefix)
}

// renew extends every lease held, in one pipeline; a lease Redis says is
// gone, or one not renewed within its TTL (a pause), is lost: Stop,
// forget.
func (a *Assigner) renew(ctx context.Context) {
	a.mu.Lock()
	all := slices.Collect(maps.Values(a.held))
	a.mu.Unlock()
	start := time.Now()
	var (
		hs       []held
		leases   []*Lease
		grants   []Grant
		deadline time.Time
	)
	for _, h := range all {
		if !start.Before(h.validUntil) {
			a.lose(ctx, h.owner, fmt.Errorf("%w: not renewed within the TTL %v", ErrNotHeld, a.opts.TTL))
			continue
		}
		if deadline.IsZero() || h.validUntil.Before(deadline) {
			deadline = h.validUntil
		}
		hs, leases, grants = append(hs, h), append(leases, h.lease), append(grants, h.grant)
	}
	if len(hs) == 0 {
		return
	}
	// One pipeline for all, bounded by the earliest expiry: no renewal is
	// believed once its lease may have expired on the server.
	rctx, cancel := context.WithDeadline(ctx, deadline)
	errs := RenewAll(rctx, a.opts.Client, leases, grants, a.opts.TTL)
	cancel()
	for i, h := range hs {
		switch err := errs[i]; {
		case err == nil:
			a.mu.Lock()
			if cur, ok := a.held[h.owner]; ok && cur.grant.Token == h.grant.Token {
				cur.validUntil = start.Add(a.opts.TTL)
				a.held[h.owner] = cur
			}
			a.mu.Unlock()
		case errors.Is(err, ErrNotHeld):
			a.lose(ctx, h.owner, err)
		case ctx.Err() == nil:
			a.log.Warn("cluster: renewing an owner lease failed; retrying until its TTL runs out", "owner", h.owner, "err", err)
		}
	}
}

func (a *Assigner) lose(ctx context.Context, owner string, why error) {
	a.mu.Lock()
	delete(a.held, owner)
	a.mu.Unlock()
	a.log.Warn("cluster: lost an owner lease", "owner", owner, "err", why)
	a.opts.Stop(ctx, owner)
}

func (a *Assigner) claim(ctx context.Context, owner string) {
	l := NewOwnerLease(a.opts.Client, a.opts.Prefix, owner)
	g, err := l.Acquire(ctx, a.opts.Instance.ID, a.opts.TTL)
	if errors.Is(err, ErrHeld) {
		return // its previous worker still holds it: it hands over, or it expires
	}
	if err != nil {
		a.log.Warn("cluster: claiming an owner", "owner", owner, "err", err)
		return
	}
	a.mu.Lock()
	a.held[owner] = held{owner: owner, lease: l, grant: g, validUntil: g.Acquired.Add(a.opts.TTL)}
	a.mu.Unlock()
	if err := a.opts.Start(ctx, owner, g); err != nil {
		a.log.Warn("cluster: starting an owner; releasing it", "owner", owner, "err", err)
		a.mu.Lock()
		delete(a.held, owner)
		a.mu.Unlock()
		if err := l.Release(ctx, g); err != nil {
			a.log.Warn("cluster: releasing an owner that did not start", "owner", owner, "err", err)
		}
		return
	}
	a.log.Info("cluster: owning", "owner", owner, "token", g.Token)
}

// release stops owner's sessions, then releases its lease.
func (a *Assigner) release(ctx context.Context, owner, why string) error {
	a.mu.Lock()
	h, ok := a.held[owner]
	a.mu.Unlock()
	if !ok {
		return nil
	}
	a.opts.Stop(ctx, owner)
	a.mu.Lock()
	delete(a.held, owner)
	a.mu.Unlock()
	if err := h.lease.Release(ctx, h.grant); err != nil {
		return fmt.Errorf("cluster: releasing owner %s (%s): %w", owner, why, err)
	}
	a.log.Info("cluster: released", "owner", owner, "why", why, "token", h.grant.Token)
	return nil
}
