package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// FrontLease is the name of the lease whose holder runs the XEP-0114 link
// and every linked account (active/standby).
const FrontLease = "front"

// ErrLeaseLost is returned by Hold when the lease is lost: another
// instance took it, or it could not be renewed within its TTL.
var ErrLeaseLost = errors.New("cluster: front lease lost")

// ElectorOptions configure an Elector.
type ElectorOptions struct {
	Client redis.UniversalClient
	// Prefix starts every key (the store's key prefix).
	Prefix string
	// Instance describes this process; its Role is set by the Elector.
	Instance Instance
	// TTL is the lease's TTL and the registry entry's.
	TTL time.Duration
	// RenewEvery is how often the lease is renewed, or tried for by a
	// standby; less than TTL.
	RenewEvery time.Duration
	Logger     *slog.Logger
}

// Elector runs the active/standby protocol of one process on the front
// lease: Campaign waits as a standby until it holds the lease, Hold renews
// it until it is lost or the context ends, Resign gives it up.
type Elector struct {
	opts  ElectorOptions
	lease *Lease
	reg   *Registry
	log   *slog.Logger
	obs   Observer // observer.go

	mu    sync.Mutex
	role  string
	grant Grant
}

// NewElector returns the Elector of opts.Instance. It does no I/O.
func NewElector(opts ElectorOptions) (*Elector, error) {
	if opts.TTL <= 0 || opts.RenewEvery <= 0 || opts.RenewEvery >= opts.TTL {
		return nil, fmt.Errorf("cluster: renew interval %v must be positive and shorter than the lease TTL %v", opts.RenewEvery, opts.TTL)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Elector{
		opts:  opts,
		lease: NewLease(opts.Client, opts.Prefix, FrontLease),
		reg:   NewRegistry(opts.Client, opts.Prefix),
		log:   opts.Logger.With("instance", opts.Instance.ID),
		role:  RoleStandby,
	}, nil
}

// Lease is the front lease.
func (e *Elector) Lease() *Lease { return e.lease }

// Registry is the instance registry.
func (e *Elector) Registry() *Registry { return e.reg }

// Role is this process's role now.
func (e *Elector) Role() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.role
}

// Grant is the current grant (zero unless active).
func (e *Elector) Grant() Grant {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.grant
}

func (e *Elector) setRole(ctx context.Context, role string, g Grant) {
	e.mu.Lock()
	e.role, e.grant = role, g
	e.mu.Unlock()
	e.heartbeat(ctx)
}

// heartbeat writes the registry entry; a failure is logged, not fatal
// (the registry is for operators; the lease decides).
func (e *Elector) heartbeat(ctx context.Context) {
	inst := e.opts.Instance
	inst.Role = e.Role()
	if err := e.reg.Heartbeat(ctx, inst, e.opts.TTL); err != nil && ctx.Err() == nil {
		e.log.Warn("cluster: registry heartbeat failed", "err", err)
	}
}

// Campaign registers the instance as a standby and tries for the front
// lease every RenewEvery until it holds it (it returns the grant) or ctx
// ends.
func (e *Elector) Campaign(ctx context.Context) (Grant, error) {
	e.setRole(ctx, RoleStandby, Grant{})
	tick := time.NewTicker(e.opts.RenewEvery)
	defer tick.Stop()
	// A release is announced: try at once then, not at the next tick.
	// Without the subscription (Redis down) the ticks still try.
	sub := e.opts.Client.Subscribe(ctx, e.lease.ReleasedChannel())
	defer sub.Close()
	var released <-chan *redis.Message
	if _, err := sub.Receive(ctx); err == nil {
		released = sub.Channel()
	} else if ctx.Err() == nil {
		e.log.Warn("cluster: cannot subscribe to lease releases; trying every renew interval", "err", err)
	}
	logged := ""
	for {
		g, err := e.lease.Acquire(ctx, e.opts.Instance.ID, e.opts.TTL)
		if err == nil {
			e.observeAcquired(g)
			e.setRole(ctx, RoleActive, g)
			e.log.Info("cluster: holding the front lease", "token", g.Token)
			return g, nil
		}
		if ctx.Err() != nil {
			return Grant{}, ctx.Err()
		}
		if msg := err.Error(); !errors.Is(err, ErrHeld) || logged == "" {
			// One line per change of why, not one per try.
			if msg != logged {
				e.log.Info("cluster: standby", "reason", err)
				logged = msg
			}
		}
		select {
		case <-ctx.Done():
			return Grant{}, ctx.Err()
		case <-tick.C:
			e.heartbeat(ctx)
		case <-released:
		}
	}
}

// Hold renews g every RenewEvery until ctx ends (it returns nil) or the
// lease is lost (an error wrapping ErrLeaseLost): Redis says it is not
// g's any more, or no renewal succeeded for a whole TTL, counted from the
// start of the last successful call, so that this process gives up no
// later than Redis lets the lease expire.
func (e *Elector) Hold(ctx context.Context, g Grant) error {
	tick := time.NewTicker(e.opts.RenewEvery)
	defer tick.Stop()
	validUntil := g.Acquired.Add(e.opts.TTL)
	for {
		deadline := time.NewTimer(time.Until(validUntil))
		select {
		case <-ctx.Done():
			deadline.Stop()
			return nil
		case <-deadline.C:
			return e.lost(fmt.Errorf("%w: no renewal succeeded within the TTL %v", ErrLeaseLost, e.opts.TTL))
		case <-tick.C:
			deadline.Stop()
		}
		start := time.Now()
		if !start.Before(validUntil) {
			// Woken late (a pause): the lease may be someone else's.
			return e.lost(fmt.Errorf("%w: paused past the TTL (%v since the last renewal)", ErrLeaseLost, start.Sub(validUntil.Add(-e.opts.TTL)).Round(time.Millisecond)))
		}
		rctx, cancel := context.WithDeadline(ctx, validUntil)
		err := e.lease.Renew(rctx, g, e.opts.TTL)
		cancel()
		e.observeRenew(time.Since(start), err)
		switch {
		case err == nil:
			validUntil = start.Add(e.opts.TTL)
			e.heartbeat(ctx)
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrNotHeld):
			return e.lost(fmt.Errorf("%w: %w", ErrLeaseLost, err))
		default:
			e.log.Warn("cluster: renewing the front lease failed; retrying until the TTL runs out", "err", err, "left", time.Until(validUntil).Round(time.Millisecond))
		}
	}
}

func (e *Elector) lost(err error) error {
	e.mu.Lock()
	e.role, e.grant = RoleStopping, Grant{}
	e.mu.Unlock()
	e.log.Error("cluster: lost the front lease", "err", err)
	return err
}

// Resign releases g, so that a standby takes over at once, and takes the
// instance off the registry.
func (e *Elector) Resign(ctx context.Context, g Grant) error {
	e.mu.Lock()
	e.role, e.grant = RoleStopping, Grant{}
	e.mu.Unlock()
	var err error
	if g.Token != 0 {
		err = e.lease.Release(ctx, g)
	}
	return errors.Join(err, e.reg.Remove(ctx, e.opts.Instance.ID))
}

// Status is the cluster as Redis holds it: the instances and the front
// lease; in sharded mode also the workers and how many owners each holds.
type Status struct {
	Instances []Instance
	Front     LeaseState
	// Workers is the worker registry (RoleWorker, RoleDraining).
	Workers []Instance
	// Owners counts the owner leases held, by worker, with the lag of
	// their inboxes.
	Owners map[string]WorkerLoad
	// Outbox is the lag of the front's outbox.
	Outbox QueueLag
}

// ReadStatus reads the registries, the front lease and the owner leases.
func ReadStatus(ctx context.Context, client redis.UniversalClient, prefix string) (Status, error) {
	insts, err := NewRegistry(client, prefix).List(ctx)
	if err != nil {
		return Status{}, err
	}
	front, err := NewLease(client, prefix, FrontLease).State(ctx)
	if err != nil {
		return Status{}, err
	}
	workers, err := NewWorkerRegistry(client, prefix).List(ctx)
	if err != nil {
		return Status{}, err
	}
	owners, err := LoadByWorker(ctx, client, prefix)
	if err != nil {
		return Status{}, err
	}
	outbox, err := NewFrontOutbox(client, prefix).Lag(ctx)
	if err != nil {
		return Status{}, err
	}
	return Status{Instances: insts, Front: front, Workers: workers, Owners: owners, Outbox: outbox}, nil
}
