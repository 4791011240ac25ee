package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/media"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Options configure a Gateway.
type Options struct {
	Store    store.Store
	Adapters []Adapter
	// AdapterConfig holds each adapter's raw configuration, by adapter ID.
	AdapterConfig map[ids.PlatformID]map[string]any
	// RegistrationAllowed decides who may register; nil allows everyone.
	RegistrationAllowed func(owner ids.Owner) bool
	Logger              *slog.Logger
	// Observer receives measurements; nil means none.
	Observer Observer
	// Media configures downloads of files users send.
	Media MediaOptions
	// Limits bounds rates and sizes (see limits.go); zero is no limit.
	Limits Limits
	// SendRetry configures the queue of messages waiting for an
	// unavailable platform (delivery.RetryQueue); zero is no queue.
	SendRetry delivery.SendRetry
	// Sharded makes the hub serve only the owners started with
	// StartOwner (owners.go): Start starts the adapters and the delivery
	// machinery but loads no session and replays nothing.
	Sharded bool
	// ContactCache bounds the contacts the hub keeps in memory, read once
	// per account instead of once per use (contactcache.go): 0 means
	// DefaultContactCache, a negative number none.
	ContactCache int
}

// Gateway is the hub.
type Gateway struct {
	store    store.Store
	adapters map[ids.PlatformID]Adapter
	order    []ids.PlatformID
	allowed  func(ids.Owner) bool
	log      *slog.Logger
	obs      Observer
	media    MediaOptions
	fetches  *fetchPool    // attachments.go
	budget   *media.Budget // attachments.go
	limits   atomic.Pointer[limits]

	mu sync.Mutex
	// frontend serves every platform without one of its own in
	// frontends (frontends.go).
	frontend  Frontend
	frontends map[ids.PlatformID]Frontend
	sessions  map[sessionKey]*linked
	byID      map[accountKey]ids.Owner
	logins    map[sessionKey]*LoginRun
	runCtx    context.Context
	sending   delivery.InFlight
	sent      delivery.SentTimes
	cancel    context.CancelFunc
	journal   *delivery.Journal
	intake    *delivery.Intake // intake.go
	retry     *delivery.RetryQueue
	idmap     *delivery.IDMap
	// restoring connects the sessions Start loaded.
	restoring sync.WaitGroup
	// sharded: only the owners in owners are served (owners.go).
	sharded bool
	owners  ownerSet
	// contacts caches the contacts of the accounts with a session here
	// (contactcache.go).
	contacts *contactCache
}

type sessionKey struct {
	platform ids.PlatformID
	owner    ids.Owner
}

type accountKey struct {
	platform ids.PlatformID
	account  ids.AccountID
}

type linked struct {
	account ids.AccountID
	session Session
}

// New builds the hub and initialises every adapter (no I/O happens yet).
func New(opts Options) (*Gateway, error) {
	if opts.Store == nil {
		return nil, errors.New("gateway: Options.Store is required")
	}
	if len(opts.Adapters) == 0 {
		return nil, errors.New("gateway: at least one adapter is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{
		store:    opts.Store,
		adapters: make(map[ids.PlatformID]Adapter),
		allowed:  opts.RegistrationAllowed,
		log:      log,
		sessions: make(map[sessionKey]*linked),
		byID:     make(map[accountKey]ids.Owner),
		logins:   make(map[sessionKey]*LoginRun),
		sharded:  opts.Sharded,
		owners:   ownerSet{m: make(map[ids.Owner]*owned)},
	}
	// One writer for the id map, the journal and the intake: what they
	// write at one moment goes to the store in one round trip.
	w := delivery.NewWriter(opts.Store)
	g.idmap = delivery.NewIDMap(delivery.IDMapConfig{Store: opts.Store, Log: log, Now: now, Writer: w})
	g.journal = delivery.NewJournal(delivery.JournalConfig{
		Store:       opts.Store,
		Writer:      w,
		Frontend:    g.journalFrontend,
		IDs:         g.idmap,
		Unsupported: func(err error) bool { return errors.Is(err, ErrNotSupported) },
		Owns:        g.owns,
		Log:         log,
	})
	g.intake = delivery.NewIntake(delivery.IntakeConfig{Store: opts.Store, IDs: g.idmap, Log: log, Writer: w})
	g.retry = delivery.NewRetryQueue(delivery.RetryConfig{
		Policy:      opts.SendRetry,
		Store:       opts.Store,
		IDs:         g.idmap,
		Send:        g.sendQueued,
		Failed:      g.sendFailed,
		Unavailable: func(err error) bool { return errors.Is(err, ErrUnavailable) },
		Log:         log,
		Now:         now,
		PerOwner:    opts.Sharded,
	})
	limit := opts.ContactCache
	if limit == 0 {
		limit = DefaultContactCache
	}
	g.contacts = newContactCache(opts.Store, limit, g.hasSession)
	g.media = opts.Media.withDefaults()
	g.fetches = newFetchPool(g.media.PerOwner, g.media.Global)
	g.budget = media.NewBudget(g.media.InFlightBytes, g.media.BudgetWait)
	g.limits.Store(newLimits(opts.Limits, nil))
	g.obs = opts.Observer
	if g.obs == nil {
		g.obs = noObserver{}
	}
	if g.allowed == nil {
		g.allowed = func(ids.Owner) bool { return true }
	}
	for _, a := range opts.Adapters {
		info := a.Info()
		if _, dup := g.adapters[info.ID]; dup {
			return nil, fmt.Errorf("gateway: two adapters with id %q", info.ID)
		}
		h := &host{g: g, platform: info.ID, log: log.With("platform", string(info.ID))}
		if err := a.Init(h, opts.AdapterConfig[info.ID]); err != nil {
			return nil, fmt.Errorf("gateway: platforms.%s: %w", info.ID, err)
		}
		g.adapters[info.ID] = a
		g.order = append(g.order, info.ID)
	}
	return g, nil
}

// Adapter returns the adapter with the given id.
func (g *Gateway) Adapter(platform ids.PlatformID) (Adapter, bool) {
	a, ok := g.adapters[platform]
	return a, ok
}

// Platforms lists the adapters' ids in configuration order.
func (g *Gateway) Platforms() []ids.PlatformID {
	return append([]ids.PlatformID(nil), g.order...)
}

// Start starts the adapters, then loads and connects the session of every
// linked account (with Options.Sharded, of none: see StartOwner). A
// session that fails to load is recorded as logged out and does not stop
// the others.
func (g *Gateway) Start(ctx context.Context) error {
	g.mu.Lock()
	if err := g.checkFrontendsLocked(); err != nil {
		g.mu.Unlock()
		return err
	}
	g.runCtx, g.cancel = context.WithCancel(context.WithoutCancel(ctx))
	runCtx := g.runCtx
	g.mu.Unlock()
	g.retry.Start(runCtx)
	for _, id := range g.order {
		if err := g.adapters[id].Start(ctx); err != nil {
			return fmt.Errorf("gateway: start %s: %w", id, err)
		}
	}
	if g.sharded {
		// Owners come one by one (StartOwner).
		g.idmap.Start(runCtx)
		g.journal.Start(runCtx)
		g.intake.Start(runCtx)
		return nil
	}
	accts, err := g.store.ListAccounts(ctx)
	if err != nil {
		return fmt.Errorf("gateway: list accounts: %w", err)
	}
	g.idmap.Start(runCtx)
	// Events journaled by a previous process go out before any session
	// connects, so they stay ahead of new events of the same chats.
	g.journal.Start(runCtx)
	g.journal.Replay(runCtx)
	g.intake.Start(runCtx)
	var loaded []restored
	for _, a := range accts {
		if a.ID == "" {
			continue
		}
		if _, ok := g.adapters[a.Platform]; !ok {
			g.log.Warn("account of an unconfigured platform left alone", "owner", a.Owner, "platform", a.Platform)
			continue
		}
		s, _, err := g.load(ctx, a.Owner, a.Platform, a.ID)
		if err != nil {
			g.log.Error("cannot load session", "owner", a.Owner, "platform", a.Platform, "err", err)
			if serr := g.store.SetAccountState(ctx, a.Owner, a.Platform, event.StateLoggedOut, err.Error()); serr != nil {
				g.log.Error("cannot record account state", "owner", a.Owner, "err", serr)
			}
			continue
		}
		loaded = append(loaded, restored{a.Owner, s})
	}
	// Sessions connect in the background: connecting tells each owner
	// through the frontend (state, contacts, presence), whose queue drains
	// only once the caller has started the XMPP link after Start returned.
	// Connecting them here would fill that queue after a few hundred
	// accounts and never return.
	g.restoring.Go(func() { restore(runCtx, loaded, restoreWorkers, debug.FreeOSMemory) })
	// Messages a previous process queued for unavailable platforms
	// (delivery.RetryQueue's outbox), now that their sessions are loaded.
	g.retry.Restore(runCtx)
	return nil
}

// restoreWorkers is how many sessions Start connects at once. Connecting
// mostly waits, for the store (the account's state, its device data) and
// for the platform: with Redis, 10 000 sandbox accounts connected in about
// 9 s instead of 14 one by one (BenchmarkIdleAccounts); with SQLite, which
// is busy with the CPU, it makes no difference.
const restoreWorkers = 8

// restored is a session Start loaded, to be connected.
type restored struct {
	owner   ids.Owner
	session Session
}

// restore connects the sessions (connectAll), then, if there were any,
// calls release: in production debug.FreeOSMemory, which hands the
// memory of the start-up burst (every session's state, contacts and
// presences on their way to the XMPP side at once) back to the system
// instead of keeping it for the heap to grow into. Measured with 10 000
// idle accounts in BenchmarkIdleAccounts (BENCHMARKS.md).
func restore(ctx context.Context, sessions []restored, workers int, release func()) {
	connectAll(ctx, sessions, workers)
	if len(sessions) > 0 && ctx.Err() == nil {
		release()
	}
}

// connectAll connects the sessions, up to workers at once, until ctx is
// done. The sessions of one owner (one per platform) connect one after the
// other, in the order given; owners are taken in the order of their first
// session.
func connectAll(ctx context.Context, sessions []restored, workers int) {
	var owners [][]Session
	index := make(map[ids.Owner]int, len(sessions))
	for _, r := range sessions {
		i, ok := index[r.owner]
		if !ok {
			i = len(owners)
			index[r.owner] = i
			owners = append(owners, nil)
		}
		owners[i] = append(owners[i], r.session)
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(workers, len(owners)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(owners) {
					return
				}
				for _, s := range owners[i] {
					if ctx.Err() != nil {
						return
					}
					s.Connect(ctx)
				}
			}
		})
	}
	wg.Wait()
}

// Stop disconnects every session and stops the adapters.
func (g *Gateway) Stop(ctx context.Context) error {
	g.mu.Lock()
	sessions := make([]Session, 0, len(g.sessions))
	for _, l := range g.sessions {
		sessions = append(sessions, l.session)
	}
	g.sessions = make(map[sessionKey]*linked)
	for _, run := range g.logins {
		run.login.Cancel()
	}
	if g.cancel != nil {
		g.cancel()
	}
	g.mu.Unlock()
	g.restoring.Wait()
	g.owners.wait()
	for _, s := range sessions {
		s.Disconnect()
	}
	g.journal.Stop()
	g.intake.Stop()
	g.retry.Wait()
	g.idmap.Stop()
	var errs []error
	for _, id := range g.order {
		if err := g.adapters[id].Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// attach loads and connects a linked account's session.
func (g *Gateway) attach(ctx context.Context, owner ids.Owner, platform ids.PlatformID, account ids.AccountID) error {
	if !g.owns(owner) {
		// A sharded hub linked it for another worker: the one that gets
		// owner's lease loads it (StartOwner).
		g.log.Info("account linked for an owner served elsewhere; not connected here", "owner", owner, "platform", platform)
		return nil
	}
	s, runCtx, err := g.load(ctx, owner, platform, account)
	if err != nil {
		return err
	}
	s.Connect(runCtx)
	return nil
}

// load loads a linked account's session and makes it the owner's (an
// older one is disconnected), without connecting it. It returns the
// context to connect it with.
func (g *Gateway) load(ctx context.Context, owner ids.Owner, platform ids.PlatformID, account ids.AccountID) (Session, context.Context, error) {
	a := g.adapters[platform]
	s, err := a.LoadSession(ctx, account)
	if err != nil {
		return nil, nil, fmt.Errorf("load session %s: %w", account, err)
	}
	g.mu.Lock()
	key := sessionKey{platform, owner}
	if old, ok := g.sessions[key]; ok {
		delete(g.byID, accountKey{platform, old.account})
		defer old.session.Disconnect()
	}
	g.sessions[key] = &linked{account: account, session: s}
	g.byID[accountKey{platform, account}] = owner
	runCtx := g.runCtx
	g.mu.Unlock()
	if runCtx == nil {
		runCtx = context.WithoutCancel(ctx)
	}
	return s, runCtx, nil
}

// detach forgets a session without logging it out, and the cache of its
// contacts.
func (g *Gateway) detach(owner ids.Owner, platform ids.PlatformID) (*linked, bool) {
	g.mu.Lock()
	key := sessionKey{platform, owner}
	l, ok := g.sessions[key]
	if ok {
		delete(g.sessions, key)
		delete(g.byID, accountKey{platform, l.account})
	}
	g.mu.Unlock()
	g.contacts.drop(owner, platform)
	return l, ok
}

// hasSession reports whether owner has a session on platform loaded here.
func (g *Gateway) hasSession(owner ids.Owner, platform ids.PlatformID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.sessions[sessionKey{platform, owner}]
	return ok
}

// session returns owner's session on platform as loaded by load, whether
// or not it is connected right now (a session that is not refuses work
// itself, e.g. with ErrUnavailable), or ErrNotLinked when none is loaded.
func (g *Gateway) session(owner ids.Owner, platform ids.PlatformID) (*linked, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.owns(owner) {
		return nil, fmt.Errorf("%s: %w", owner, ErrNotOwned)
	}
	l, ok := g.sessions[sessionKey{platform, owner}]
	if !ok {
		return nil, ErrNotLinked
	}
	return l, nil
}

// ownerOf finds who linked a platform account.
func (g *Gateway) ownerOf(ctx context.Context, platform ids.PlatformID, account ids.AccountID) (ids.Owner, error) {
	g.mu.Lock()
	owner, ok := g.byID[accountKey{platform, account}]
	g.mu.Unlock()
	if ok {
		return owner, nil
	}
	a, err := g.store.AccountByID(ctx, platform, account)
	if err != nil {
		return "", fmt.Errorf("owner of %s account %s: %w", platform, account, err)
	}
	return a.Owner, nil
}

// deliver hands d to the frontend of its platform, with what the frontend
// needs to show it: the limits of the event's chat. It is the one place
// the hub calls a frontend (the journal's deliveries and replays come
// through here too), so an event never reaches another platform's.
func (g *Gateway) deliver(ctx context.Context, d Delivery) error {
	if !g.owns(d.Owner) {
		return fmt.Errorf("gateway: deliver to %s: %w", d.Owner, ErrNotOwned)
	}
	g.mu.Lock()
	f := g.frontendLocked(d.Platform)
	l := g.sessions[sessionKey{d.Platform, d.Owner}]
	g.mu.Unlock()
	if f == nil {
		return fmt.Errorf("gateway: no frontend attached for platform %s", d.Platform)
	}
	if chat := d.Event.EventMeta().Chat; l != nil && chat != "" {
		d.Caps = l.session.Capabilities(chat)
	}
	return f.Deliver(ctx, d)
}

// now is the hub's clock.
var now = time.Now
