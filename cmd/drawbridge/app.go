package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
)

// app is one wired gateway: store, hub, adapters and XMPP component.
type app struct {
	cfg       config.Config
	log       *slog.Logger
	store     store.Store
	gw        *gateway.Gateway
	component *xmppcomponent.Component
	// sandbox is set when the sandbox platform is enabled (tests and the
	// demo drive its far side).
	sandbox *sandbox.Adapter
}

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
		r := cfg.Redis
		return redisstore.Open(ctx, redisstore.Config{
			URL: r.URL, Addrs: r.Addrs, MasterName: r.MasterName,
			Username: r.Username, Password: r.Password, KeyPrefix: r.KeyPrefix,
		})
	}
	return nil, fmt.Errorf("store.backend: %q is not one of sqlite, redis", cfg.Backend)
}

// newApp wires everything without doing network I/O beyond opening the store.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	platforms := enabledPlatforms(cfg)
	if len(platforms) != 1 {
		return nil, fmt.Errorf("platforms: exactly one platform must be enabled per component, found %d (%s)", len(platforms), strings.Join(platforms, ", "))
	}
	a := &app{cfg: cfg, log: log}
	var adapter gateway.Adapter
	switch platforms[0] {
	case "sandbox":
		a.sandbox = sandbox.New(sandbox.NewPlatform(sandbox.Options{}))
		adapter = a.sandbox
	default:
		return nil, fmt.Errorf("platforms.%s: no such platform in this build (available: sandbox)", platforms[0])
	}
	st, err := openStore(ctx, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	a.store = st
	pid := adapter.Info().ID
	a.gw, err = gateway.New(gateway.Options{
		Store:               st,
		Adapters:            []gateway.Adapter{adapter},
		AdapterConfig:       map[ids.PlatformID]map[string]any{pid: cfg.Platforms[platforms[0]]},
		RegistrationAllowed: func(o ids.Owner) bool { return cfg.RegistrationAllowed(string(o)) },
		Logger:              log,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	a.component, err = xmppcomponent.New(xmppcomponent.Config{
		Conn: xmppcomponent.ConnConfig{
			Addr:   cfg.Component.Server,
			Domain: cfg.Component.JID,
			Secret: cfg.Component.Secret,
			Logger: log,
		},
		Name:     cfg.Component.Name,
		Platform: pid,
		Version:  version(),
		Logger:   log,
	}, a.gw)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// run starts the hub and serves XMPP until ctx is done, then shuts down:
// sessions first (their last words still reach XMPP), then the link.
func (a *app) run(ctx context.Context) error {
	if err := a.gw.Start(ctx); err != nil {
		a.store.Close()
		return err
	}
	a.log.Info("drawbridge running", "component", a.cfg.Component.JID, "server", a.cfg.Component.Server, "store", a.cfg.Store.Backend)
	connCtx, stopConn := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConn()
	connDone := make(chan error, 1)
	go func() { connDone <- a.component.Run(connCtx) }()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-connDone:
		connDone <- runErr
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	gwErr := a.gw.Stop(stopCtx)
	stopConn()
	runErr = <-connDone
	err := errors.Join(ignoreCanceled(runErr), gwErr, a.store.Close())
	a.log.Info("drawbridge stopped")
	return err
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// serve builds and runs the gateway with cfg, logging to w.
func serve(ctx context.Context, cfg config.Config, w io.Writer) error {
	log := cfg.Logger(w)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	return a.run(ctx)
}
