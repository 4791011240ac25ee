package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/metrics"
	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
)

// appMgmt is the operator's side of the app: the live configuration, the
// hub's admin use cases, metrics, the XMPP admin commands, and the API and
// metrics servers.
type appMgmt struct {
	a    *app
	log  *slog.Logger
	live atomic.Pointer[config.Config]

	reloadMu sync.Mutex // one reload at a time
	// load re-reads the configuration; nil: reloading is not possible.
	load func() (config.Config, error)

	metrics *metrics.Metrics
	admin   *gateway.Admin
	cmds    *xmppcomponent.AdminCommands
	api     *mgmt.Server
	ops     *mgmt.OpsServer
	// opsStarted is set once ops listens (startOps).
	opsStarted bool
}

// runtimeSettings are the settings a reload applies; any other change
// needs a restart. A key ending in "." covers every setting under it.
var runtimeSettings = []string{
	"registration.allowed_domains",
	"registration.allowed_jids",
	"registration.denied_jids",
	"component.admins",
	"log.level",
	"limits.max_body_size",
	"limits.max_attachments",
	"limits.messages.",
	"limits.registrations.",
	"limits.logins.",
}

// reloadable reports whether a reload applies the setting key.
func reloadable(key string) bool {
	for _, k := range runtimeSettings {
		if key == k || strings.HasSuffix(k, ".") && strings.HasPrefix(key, k) {
			return true
		}
	}
	return false
}

// newAppMgmt prepares what the hub needs at construction (the observer,
// the live registration policy). The rest is set up by attach, once the
// hub and the component exist.
func newAppMgmt(a *app, cfg config.Config) *appMgmt {
	m := &appMgmt{a: a, log: a.log}
	m.live.Store(&cfg)
	m.metrics = metrics.New(clusterMetricsOptions(a, cfg.Cluster.Enabled, metrics.Options{
		Link:     m.linkStatus,
		Sessions: func() []gateway.SessionInfo { return a.gw.Sessions() },
		Version:  version(),
		StoreRoundTrips: func() uint64 {
			if c := a.trips.Load(); c != nil {
				return (*c).RoundTrips()
			}
			return 0
		},
	}))
	return m
}

// setLoader sets what reload re-reads.
func (m *appMgmt) setLoader(load func() (config.Config, error)) {
	m.reloadMu.Lock()
	m.load = load
	m.reloadMu.Unlock()
}

// registrationAllowed applies the live registration policy.
func (m *appMgmt) registrationAllowed(o ids.Owner) bool {
	return m.live.Load().RegistrationAllowed(string(o))
}

// isAdmin applies the live component.admins.
func (m *appMgmt) isAdmin(o ids.Owner) bool { return m.live.Load().IsAdmin(string(o)) }

// linkStatus reads the XMPP links' state (links.go).
func (m *appMgmt) linkStatus() gateway.LinkStatus { return m.a.linkStatus() }

// adminCommands builds the admin use cases on the hub and returns the
// XMPP admin commands on them.
func (m *appMgmt) adminCommands() *xmppcomponent.AdminCommands {
	cfg := m.live.Load()
	m.admin = gateway.NewAdmin(m.a.gw, gateway.AdminOptions{
		Link:         m.linkStatus,
		Reload:       m.reload,
		Version:      version(),
		Component:    componentNames(*cfg),
		StoreBackend: cfg.Store.Backend,
	})
	m.cmds = &xmppcomponent.AdminCommands{Admin: m.admin, IsAdmin: m.isAdmin}
	return m.cmds
}

// attach wraps each component so that the admin use cases see account
// activity, and prepares the servers (no I/O).
func (m *appMgmt) attach() error {
	for _, l := range m.a.links {
		m.a.gw.SetPlatformFrontend(l.platform, m.admin.TrackActivity(l.component))
	}
	cfg := m.live.Load()
	if cfg.API.Listen != "" {
		api, err := mgmt.New(mgmt.Options{
			Admin:  m.admin,
			Listen: cfg.API.Listen,
			Auth: mgmt.Auth{
				Token: cfg.API.Token, TLSCert: cfg.API.TLSCert, TLSKey: cfg.API.TLSKey, ClientCA: cfg.API.ClientCA,
			},
			AllowedHosts: cfg.API.AllowedHosts,
			Cluster:      m.a.clusterReader(), // cluster_api.go
			Logger:       m.log,
		})
		if err != nil {
			return err
		}
		m.api = api
	}
	if cfg.Metrics.Listen != "" {
		m.ops = mgmt.NewOps(mgmt.OpsOptions{
			Listen: cfg.Metrics.Listen, Metrics: m.metrics.Handler(), Ready: m.ready,
			Profiling: cfg.Metrics.Profiling, Logger: m.log,
		})
	}
	return nil
}

// startOps opens the metrics listener (/metrics, /healthz, /readyz), once:
// a standby serves it before the rest (cluster.go).
func (m *appMgmt) startOps() error {
	if m.ops == nil || m.opsStarted {
		return nil
	}
	if err := m.ops.Start(); err != nil {
		return err
	}
	m.opsStarted = true
	return nil
}

// ready decides /readyz: a standby of a cluster is not ready (cluster.go);
// otherwise the store and the XMPP link must be up.
func (m *appMgmt) ready(ctx context.Context) error {
	if s := m.a.shard; s != nil {
		return s.ready(ctx, m) // cluster_sharded.go
	}
	if c := m.a.cluster; c != nil {
		if err := c.ready(ctx); err != nil {
			return err
		}
	}
	return m.admin.Ready(ctx)
}

// start opens the API and metrics listeners.
func (m *appMgmt) start(ctx context.Context) error {
	if err := m.startOps(); err != nil {
		return err
	}
	if m.api != nil {
		if err := m.api.Start(ctx); err != nil {
			return errors.Join(err, m.stopOps(ctx))
		}
	}
	return nil
}

// stopAPI ends API calls and streams (cancelling the login flows they
// drive); stopOps closes the metrics endpoint.
func (m *appMgmt) stopAPI(ctx context.Context) error {
	if m.api == nil {
		return nil
	}
	return m.api.Shutdown(ctx)
}

func (m *appMgmt) stopOps(ctx context.Context) error {
	if m.ops == nil {
		return nil
	}
	return m.ops.Shutdown(ctx)
}

// reload re-reads the configuration, applies the runtime settings and
// names the other changes. An invalid configuration changes nothing.
func (m *appMgmt) reload(context.Context) (gateway.ReloadReport, error) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	if m.load == nil {
		return gateway.ReloadReport{}, fmt.Errorf("this gateway was started without a configuration source to re-read: %w", gateway.ErrNotSupported)
	}
	next, err := m.load()
	if err != nil {
		// Configuration errors name keys, never secrets.
		return gateway.ReloadReport{}, fmt.Errorf("the configuration does not load, nothing changed: %v: %w", err, gateway.ErrBadRequest)
	}
	changed, err := changedSettings(*m.live.Load(), next)
	if err != nil {
		return gateway.ReloadReport{}, err
	}
	var r gateway.ReloadReport
	cur := *m.live.Load()
	for _, key := range changed {
		if reloadable(key) {
			r.Applied = append(r.Applied, key)
		} else {
			r.NeedsRestart = append(r.NeedsRestart, key)
		}
	}
	cur.Registration = next.Registration
	cur.Component.Admins = next.Component.Admins
	cur.Log.Level = next.Log.Level
	cur.Limits.MaxBodySize, cur.Limits.MaxAttachments = next.Limits.MaxBodySize, next.Limits.MaxAttachments
	cur.Limits.Messages, cur.Limits.Registrations, cur.Limits.Logins = next.Limits.Messages, next.Limits.Registrations, next.Limits.Logins
	m.live.Store(&cur)
	if m.a.level != nil {
		m.a.level.Set(cur.SlogLevel())
	}
	m.a.gw.SetLimits(hubLimits(cur.Limits))
	m.log.Info("configuration reloaded", "applied", r.Applied, "needs_restart", r.NeedsRestart)
	for _, key := range r.NeedsRestart {
		m.log.Warn("configuration reload: this change needs a restart to take effect; the old value stays until then", "key", key)
	}
	return r, nil
}

// changedSettings lists the key paths whose values differ between a and
// b, sorted. Values are compared, never reported.
func changedSettings(a, b config.Config) ([]string, error) {
	fa, err := flatten(a)
	if err != nil {
		return nil, err
	}
	fb, err := flatten(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for k, va := range fa {
		if vb, ok := fb[k]; !ok || !reflect.DeepEqual(va, vb) {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

// flatten maps every leaf setting's key path to its value, through the
// configuration's YAML form. Lists are leaves.
func flatten(c config.Config) (map[string]any, error) {
	data, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("reload: %w", err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("reload: %w", err)
	}
	out := make(map[string]any)
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, sub := range m {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				walk(key, sub)
			}
			return
		}
		out[prefix] = v
	}
	walk("", tree)
	return out, nil
}

// componentNames names the process's component domains for the admin
// status: the component's, or the components list's, comma-separated.
func componentNames(cfg config.Config) string {
	var names []string
	for _, l := range cfg.Links() {
		names = append(names, l.JID)
	}
	return strings.Join(names, ", ")
}
