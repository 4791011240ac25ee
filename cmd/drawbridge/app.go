package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// app is one wired gateway: store, hub, adapters and XMPP component.
type app struct {
	cfg config.Config
	log *slog.Logger
	// level is log's level, which a reload sets (nil: fixed).
	level *slog.LevelVar
	store store.Store
	// trips counts the store's round trips, for metrics (before
	// sealStore wraps the store).
	trips     atomic.Pointer[roundTripCounter]
	gw        *gateway.Gateway
	component *xmppcomponent.Component // the first of links
	// links are the XEP-0114 components, one per platform (links.go).
	links []*appLink
	// sandbox is set when the sandbox platform is enabled (tests and the
	// demo drive its far side).
	sandbox *sandbox.Adapter
	// remote is set when a platform's adapter runs out of process
	// (adapter.go); the first such, with several.
	remote *remote.Adapter
	// mgmt is the API, metrics and admin side (mgmt.go).
	mgmt *appMgmt
	// files puts platform files where XMPP clients fetch them (files.go).
	files *appFiles
	// cluster is set when cluster.enabled (cluster.go).
	cluster *appCluster
	// shard is set when cluster.mode is sharded (cluster_sharded.go).
	shard *appShard
}

// whatsappOptions are given to the WhatsApp adapter; tests set a fake
// client here (whatsapp.WithClientFactory). Production leaves it empty.
var whatsappOptions []whatsapp.Option

// telegramOptions are given to the Telegram adapter; tests point it at an
// in-process MTProto server here (telegram.WithClientOptions).
var telegramOptions []telegram.Option

// enabledPlatforms lists the enabled platform sections, sorted.
func enabledPlatforms(cfg config.Config) []string {
	var out []string
	for id := range cfg.Platforms {
		if cfg.PlatformEnabled(id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// openStore opens the configured backend.
func openStore(ctx context.Context, cfg config.StoreConfig) (store.Store, error) {
	switch cfg.Backend {
	case config.BackendSQLite:
		return sqlitestore.Open(ctx, cfg.SQLite.Path)
	case config.BackendRedis:
		return redisstore.Open(ctx, redisConfig(cfg.Redis)) // cluster.go
	}
	return nil, fmt.Errorf("store.backend: %q is not one of sqlite, redis", cfg.Backend)
}

// platforms are the adapters this build has, by platforms.<id> section.
var platforms = []string{"sandbox", "telegram", "whatsapp"}

// newAdapters makes the in-process adapter of each component's platform
// (links.go: one component per platform) and returns cfg with the
// sections as the adapters will see them (the WhatsApp section gets its
// defaults), the components, and the adapters by component; a platform
// whose adapter runs out of process has nil there (newRemoteAdapter makes
// it). Every section must name a platform of this build or a remote one,
// enabled or not. It does no I/O: run, config check and backup share it.
func newAdapters(cfg config.Config) (config.Config, []config.Link, []gateway.Adapter, error) {
	for _, id := range slices.Sorted(maps.Keys(cfg.Platforms)) {
		if slices.Contains(platforms, id) || remote.IsRemote(cfg.Platforms[id]) {
			continue
		}
		msg := fmt.Sprintf("no such platform in this build (available: %s)", strings.Join(platforms, ", "))
		if near := config.Nearest(id, platforms); near != "" {
			msg += "; did you mean " + near + "?"
		}
		return cfg, nil, nil, &config.KeyError{Key: "platforms." + id, Err: errors.New(msg)}
	}
	links := cfg.Links()
	if len(cfg.Components) == 0 && links[0].Platform == "" {
		enabled := enabledPlatforms(cfg)
		return cfg, nil, nil, fmt.Errorf("platforms: exactly one platform must be enabled per component, found %d (%s); "+
			"to serve several platforms from one process, list one component per platform under components (see drawbridge config example)",
			len(enabled), strings.Join(enabled, ", "))
	}
	adapters := make([]gateway.Adapter, len(links))
	for i, l := range links {
		if remote.IsRemote(cfg.Platforms[l.Platform]) {
			continue
		}
		var err error
		if cfg, adapters[i], err = newLocalAdapter(cfg, l); err != nil {
			return cfg, nil, nil, err
		}
	}
	return cfg, links, adapters, nil
}

// newLocalAdapter makes the in-process adapter of link's platform.
func newLocalAdapter(cfg config.Config, link config.Link) (config.Config, gateway.Adapter, error) {
	switch link.Platform {
	case "sandbox":
		// The simulated platform starts afresh with each process, on a
		// store that remembers the last one's message ids (the journal,
		// the id map): ids of its own keep them apart.
		return cfg, sandbox.New(sandbox.NewPlatform(sandbox.Options{
			IDPrefix: "SB" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".",
		})), nil
	case "whatsapp":
		// The adapter names its device after its component and keeps its
		// device store beside the gateway's sqlite file, unless told otherwise.
		sqlitePath := ""
		if cfg.Store.Backend == config.BackendSQLite {
			sqlitePath = cfg.Store.SQLite.Path
		}
		cfg.Platforms = maps.Clone(cfg.Platforms)
		cfg.Platforms["whatsapp"] = whatsapp.Defaults(cfg.Platforms["whatsapp"], link.JID, sqlitePath)
		return cfg, whatsapp.New(whatsappOptions...), nil
	case "telegram":
		return cfg, telegram.New(telegramOptions...), nil
	}
	return cfg, nil, fmt.Errorf("platforms.%s: listed as available but not built", link.Platform)
}

// loadChecked loads the configuration file at path as config.Load does
// and makes the checks run makes before it starts anything: the platform
// sections, and each in-process adapter's Init, which decodes its
// section. Nothing is opened, dialled or listened on. Each problem names
// its key and where its value came from, as config.Load's do.
func loadChecked(path string) (config.Config, error) {
	cfg, src, err := config.LoadSources(path)
	if err != nil {
		return cfg, err
	}
	if err := checkConfig(cfg); err != nil {
		return config.Config{}, src.Blame(path, src.Annotate("", err))
	}
	return cfg, nil
}

// checkConfig makes on a loaded configuration the checks of loadChecked,
// for every component's platform. The adapter's problems are named by
// their full key path ("platforms.sandbox.auto_confirm"), which the
// adapter's own ("sandbox.auto_confirm") lacks the first part of. A
// remote adapter's section is checked without starting it (adapter.go).
func checkConfig(cfg config.Config) error {
	cfg, links, adapters, err := newAdapters(cfg)
	if err != nil {
		return err
	}
	var errs []error
	for i, l := range links {
		if adapters[i] == nil {
			_, _, err := remote.ParseSection("platforms."+l.Platform, cfg.Platforms[l.Platform])
			errs = append(errs, err)
			continue
		}
		id := adapters[i].Info().ID
		if err := adapters[i].Init(checkHost{}, cfg.Platforms[string(id)]); err != nil {
			errs = append(errs, config.Sources{}.Annotate("platforms.", err))
		}
	}
	return errors.Join(errs...)
}

// checkHost is the gateway.Host of an adapter that config check
// initialises: Init may only keep it, so every call is refused.
type checkHost struct{}

var errCheckOnly = errors.New("config check: the adapter is not running")

func (checkHost) Emit(context.Context, event.Event) error                      { return errCheckOnly }
func (checkHost) SetState(context.Context, ids.AccountID, event.State, string) {}
func (checkHost) KV(ids.AccountID) gateway.AccountKV                           { return checkKV{} }
func (checkHost) Logger() *slog.Logger                                         { return slog.New(slog.DiscardHandler) }

// checkKV is checkHost's key-value space; it refuses every call.
type checkKV struct{}

func (checkKV) Get(context.Context, string) ([]byte, error) { return nil, errCheckOnly }
func (checkKV) Set(context.Context, string, []byte) error   { return errCheckOnly }
func (checkKV) Delete(context.Context, string) error        { return errCheckOnly }

// newApp wires everything without doing network I/O beyond opening the
// store and reaching the adapters that run out of process.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	cfg, links, adapters, err := newAdapters(cfg)
	if err != nil {
		return nil, err
	}
	for i, l := range links {
		if adapters[i] != nil {
			continue
		}
		// adapter.go: launches or dials it.
		if cfg, adapters[i], err = newRemoteAdapter(ctx, cfg, l.Platform, cfg.Platforms[l.Platform], log); err != nil {
			stopAdapters(ctx, adapters)
			return nil, err
		}
	}
	a := &app{cfg: cfg, log: log}
	a.mgmt = newAppMgmt(a, cfg)
	for _, ad := range adapters {
		switch ad := ad.(type) {
		case *sandbox.Adapter:
			a.sandbox = ad
		case *remote.Adapter:
			if a.remote == nil {
				a.remote = ad
			}
		}
	}
	st, err := openStore(ctx, cfg.Store)
	if err != nil {
		stopAdapters(ctx, adapters)
		return nil, fmt.Errorf("store: %w", err)
	}
	if c, ok := st.(roundTripCounter); ok {
		a.trips.Store(&c)
	}
	if cfg.Cluster.Enabled { // cluster.go
		rs, _ := st.(*redisstore.Store)
		if a.cluster, err = newAppCluster(cfg, rs, log); err != nil {
			stopAdapters(ctx, adapters)
			st.Close()
			return nil, err
		}
		a.cluster.observe(a.mgmt.metrics) // cluster_metrics.go
		if cfg.Cluster.Mode == config.ClusterSharded {
			a.shard = newAppShard(a.cluster) // cluster_sharded.go
		}
	}
	if st, err = sealStore(st, cfg.Store); err != nil { // sealed.go
		stopAdapters(ctx, adapters)
		return nil, err
	}
	a.store = st
	dataDir := ""
	if cfg.Store.Backend == config.BackendSQLite {
		dataDir = filepath.Dir(cfg.Store.SQLite.Path)
	}
	a.files = newAppFiles(cfg, dataDir, log)
	sections := make(map[ids.PlatformID]map[string]any, len(adapters))
	for _, ad := range adapters {
		pid := ad.Info().ID
		sections[pid] = cfg.Platforms[string(pid)]
	}
	a.gw, err = gateway.New(gateway.Options{
		Store:               st,
		Adapters:            adapters,
		AdapterConfig:       sections,
		RegistrationAllowed: a.mgmt.registrationAllowed,
		Logger:              log,
		Observer:            a.mgmt.metrics,
		Media: gateway.MediaOptions{
			AllowPrivate: cfg.Files.AllowPrivateFetch,
			// limits.fetch_* (config/limits.go)
			Timeout:        time.Duration(cfg.Limits.FetchTimeout),
			ConnectTimeout: time.Duration(cfg.Limits.FetchConnectTimeout),
			InFlightBytes:  int64(cfg.Limits.FetchInFlightBytes),
			PerOwner:       int(cfg.Limits.FetchesPerUser),
			Global:         int(cfg.Limits.Fetches),
		},
		Limits:    hubLimits(cfg.Limits),
		SendRetry: delivery.SendRetry{Deadline: cfg.Limits.SendRetryDuration()},
		// cluster_sharded.go: the owners come one by one, as leased.
		Sharded: a.shard != nil,
	})
	if err != nil {
		stopAdapters(ctx, adapters)
		st.Close()
		return nil, err
	}
	admin := a.mgmt.adminCommands()
	for i, l := range links {
		ccfg := xmppcomponent.Config{
			Conn: stream.Config{
				Addr:   l.Server,
				Domain: l.JID,
				Secret: l.Secret,
				// Named in the error when the server refuses the secret.
				SecretSetting: l.Key + ".secret",
				Logger:        log,
				// limits.max_stanza_size (config/limits.go)
				MaxStanzaSize: int64(cfg.Limits.MaxStanzaSize),
				// limits.dispatch_chat_bytes, dispatch_total_bytes
				MaxLaneBytes:    int64(cfg.Limits.DispatchChatBytes),
				MaxBacklogBytes: int64(cfg.Limits.DispatchTotalBytes),
				// cluster.go: only the holder of the front lease connects.
				MayConnect: a.cluster.mayConnect,
			},
			Name:     l.Name,
			Platform: adapters[i].Info().ID,
			Version:  version(),
			Admin:    admin,
			Uploader: a.files,
			// 0 means none here; the component's own 0 means its default.
			RoomHistory: roomHistory(cfg.Groups.History),
			// Messages read from the server are recorded until handled;
			// each component replays its own domain's.
			Journal: a.gw.Intake(),
			Logger:  log,
		}
		al := &appLink{Link: l, platform: adapters[i].Info().ID}
		if a.shard != nil {
			err = a.shard.newComponent(a, al, ccfg) // cluster_sharded.go
		} else {
			al.component, err = xmppcomponent.New(ccfg, xmppcomponent.HubOf(a.gw))
		}
		if err != nil {
			break
		}
		a.links = append(a.links, al)
	}
	if err == nil {
		// The first component's link asks the server for upload slots.
		a.component = a.links[0].component
		if a.shard != nil {
			a.files.conn = a.links[0].shard
		} else {
			a.files.conn = a.component.Conn()
		}
		err = a.mgmt.attach()
	}
	if err != nil {
		stopAdapters(ctx, adapters)
		st.Close()
		return nil, err
	}
	return a, nil
}

// run starts the hub and serves XMPP until ctx is done, then shuts down:
// the links stop handling inbound stanzas (they record them for the next
// process), sessions stop (their last words still reach XMPP), then the
// links close.
func (a *app) run(ctx context.Context) error { return a.runUntilLost(ctx, nil) }

// runUntilLost is run that also ends on an error from lost (cluster.go:
// the front lease is gone): it closes the link at once, then stops the
// rest, and returns that error.
func (a *app) runUntilLost(ctx context.Context, lost <-chan error) error {
	if err := a.mgmt.start(ctx); err != nil {
		a.store.Close()
		return err
	}
	if err := a.gw.Start(ctx); err != nil {
		return errors.Join(err, a.mgmt.stopAPI(ctx), a.mgmt.stopOps(ctx), a.store.Close())
	}
	a.log.Info("drawbridge running", "components", a.linkNames(), "store", a.cfg.Store.Backend)
	connCtx, stopConn := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConn()
	if err := a.files.start(connCtx); err != nil {
		stopConn()
		return errors.Join(err, a.mgmt.stopAPI(ctx), a.gw.Stop(ctx), a.mgmt.stopOps(ctx), a.store.Close())
	}
	// One XEP-0114 link per component; the first to end for good (a
	// refused secret) ends the process.
	connDone := make(chan error, len(a.links))
	for _, l := range a.links {
		go func() { connDone <- a.linkRun(connCtx, l) }()
	}
	var runErr, lostErr error
	waiting := len(a.links)
	select {
	case <-ctx.Done():
	case runErr = <-connDone:
		waiting--
	case lostErr = <-lost:
		// Another instance may hold the link already: no more stanzas
		// from this one.
		stopConn()
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	apiErr := a.mgmt.stopAPI(stopCtx)
	// The links finish the stanzas they are handling and take no more
	// before the hub stops: a stopping hub would refuse them (or worse,
	// leave their answer unwritten). What they read from now on is
	// recorded for the next process (or refused with an error), while
	// the sessions' last words still go out; then each link writes what
	// is queued, closes its stream and reads until the server closed its
	// side (xmppcomponent/stream drain.go, writer.go).
	var drainErrs []error
	for _, l := range a.links {
		drainErrs = append(drainErrs, l.component.Conn().Drain(stopCtx))
		// Users in rooms learn that they are out of them (status 332)
		// while the link still writes.
		if n := l.component.LeaveRoomsForShutdown(stopCtx); n > 0 {
			a.log.Info("told room occupants that the gateway is shutting down", "component", l.JID, "occupants", n)
		}
	}
	gwErr := errors.Join(append(drainErrs, a.gw.Stop(stopCtx))...)
	stopConn()
	errs := []error{lostErr, ignoreCanceled(runErr)}
	for range waiting {
		errs = append(errs, ignoreCanceled(<-connDone))
	}
	err := errors.Join(append(errs, apiErr, gwErr, a.mgmt.stopOps(stopCtx), a.files.close(), a.store.Close())...)
	a.log.Info("drawbridge stopped")
	return err
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// serve builds and runs the gateway with cfg, logging to w. reload
// re-reads the configuration for ReloadConfig; nil: not possible.
func serve(ctx context.Context, cfg config.Config, w io.Writer, reload func() (config.Config, error)) error {
	level := new(slog.LevelVar)
	level.Set(cfg.SlogLevel())
	log := cfg.LoggerLevel(w, level)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	a.level = level
	a.mgmt.setLoader(reload)
	stop := a.reloadOnHangup(ctx)
	defer stop()
	if a.shard != nil {
		return a.runSharded(ctx) // cluster_sharded.go
	}
	if a.cluster != nil {
		return a.runClustered(ctx) // cluster.go
	}
	return a.run(ctx)
}

// roomHistory converts groups.history to the component's setting, where 0
// means "the default" and a negative value "none".
func roomHistory(n int64) int {
	if n == 0 {
		return -1
	}
	return int(n)
}

// roundTripCounter is a store that counts its round trips (both backends
// do: drawbridge_store_round_trips_total).
type roundTripCounter interface{ RoundTrips() uint64 }
