// Package metrics exports the gateway's measurements to Prometheus: a
// gateway.Observer that counts what crosses the hub, and collectors that
// read the XMPP link and the live sessions when Prometheus scrapes.
//
// Every series is labelled by platform, direction, kind, error kind or
// state: never by owner or account, so that cardinality stays bounded and
// no personal data leaves through metrics.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Namespace prefixes every metric name.
const Namespace = "drawbridge"

// Options say where the scrape-time collectors read from. The functions
// are called at every scrape, so they may be set up after New as long as
// they are safe to call by then (they may return zero values before).
type Options struct {
	// Link reports the XMPP link; nil: no drawbridge_xmpp_* metrics.
	Link func() gateway.LinkStatus
	// Sessions lists the live sessions; nil: no drawbridge_sessions.
	Sessions func() []gateway.SessionInfo
	// Version is exported as drawbridge_build_info{version}.
	Version string
	// Buckets of the relay latency histogram, in seconds; nil: DefBuckets.
	Buckets []float64
	// ClusterRole reports this instance's role when it runs in a cluster;
	// nil: no drawbridge_cluster_* metrics (a single process). ClusterRoles
	// lists every role, each exported as 0 or 1; RenewErrorKind names the
	// result label of a failed renewal (nil: "error"). See cluster.go.
	ClusterRole    func() string
	ClusterRoles   []string
	RenewErrorKind ErrorKinder
	// ClusterOwners counts the owners this worker holds in a sharded
	// cluster; nil: no drawbridge_cluster_owners.
	ClusterOwners func() int
	// StoreRoundTrips reports the store's round trips so far (Redis
	// commands and pipelines, sqlite write transactions), 0 before the
	// store is open; nil: no drawbridge_store_round_trips_total.
	StoreRoundTrips func() uint64
}

// DefBuckets suit relaying, which takes from well under a millisecond (a
// queued stanza) to seconds (a platform's send under load).
var DefBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is the Prometheus registry of one gateway process. It implements
// gateway.Observer.
type Metrics struct {
	reg          *prometheus.Registry
	relayed      *prometheus.CounterVec
	failed       *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	stateChanges *prometheus.CounterVec
	// cluster and renewKind are set with Options.ClusterRole (cluster.go).
	cluster   *clusterMetrics
	renewKind ErrorKinder

	mu     sync.Mutex
	states map[accountKey]stateEntry
	seq    uint64 // numbers the StateChanged calls
}

// stateEntry is an account's last reported state and the number of the
// StateChanged call that reported it.
type stateEntry struct {
	state event.State
	seq   uint64
}

type accountKey struct {
	platform ids.PlatformID
	account  ids.AccountID
}

var _ gateway.Observer = (*Metrics)(nil)

// New builds the registry with the hub's counters, the scrape-time
// collectors of opts, and the Go runtime and process collectors.
func New(opts Options) *Metrics {
	buckets := opts.Buckets
	if buckets == nil {
		buckets = DefBuckets
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		relayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "relayed_total",
			Help: "Items relayed by the hub, by platform, direction (to_platform, to_xmpp) and kind (message, receipt, chatstate, presence, contact, state, ...).",
		}, []string{"platform", "direction", "kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "relay_failures_total",
			Help: "Items the hub could not relay, by platform, direction, kind and error kind (not_supported, not_linked, unknown_chat, ..., internal).",
		}, []string{"platform", "direction", "kind", "error"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "relay_duration_seconds",
			Help:    "Time from the hub receiving an item to handing it on (the platform's send, or the XMPP side's queue), by platform, direction and kind.",
			Buckets: buckets,
		}, []string{"platform", "direction", "kind"}),
		stateChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "account_state_changes_total",
			Help: "Connection state changes reported by platform sessions, by platform and new state.",
		}, []string{"platform", "state"}),
		states: make(map[accountKey]stateEntry),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info", Help: "Always 1; the version label says which build runs.",
	}, []string{"version"})
	build.WithLabelValues(opts.Version).Set(1)
	m.reg.MustRegister(m.relayed, m.failed, m.latency, m.stateChanges, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.Link != nil {
		m.reg.MustRegister(&linkCollector{link: opts.Link})
	}
	if opts.Sessions != nil {
		m.reg.MustRegister(&sessionCollector{m: m, sessions: opts.Sessions})
	}
	if opts.StoreRoundTrips != nil {
		trips := opts.StoreRoundTrips
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace, Name: "store_round_trips_total",
			Help: "Round trips to the store: Redis commands sent alone and pipelines; sqlite write transactions (reads are not counted).",
		}, func() float64 { return float64(trips()) }))
	}
	if opts.ClusterRole != nil {
		m.cluster = newClusterMetrics(opts.ClusterRole, opts.ClusterRoles, opts.ClusterOwners)
		m.renewKind = opts.RenewErrorKind
		m.reg.MustRegister(m.cluster)
	}
	return m
}

// Registry is the underlying registry (to add collectors, or for tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Relayed implements gateway.Observer.
func (m *Metrics) Relayed(platform ids.PlatformID, dir gateway.Direction, kind string, d time.Duration) {
	m.relayed.WithLabelValues(string(platform), string(dir), kind).Inc()
	m.latency.WithLabelValues(string(platform), string(dir), kind).Observe(d.Seconds())
}

// Failed implements gateway.Observer.
func (m *Metrics) Failed(platform ids.PlatformID, dir gateway.Direction, kind, errKind string) {
	m.failed.WithLabelValues(string(platform), string(dir), kind, errKind).Inc()
}

// StateChanged implements gateway.Observer.
func (m *Metrics) StateChanged(platform ids.PlatformID, account ids.AccountID, state event.State) {
	m.stateChanges.WithLabelValues(string(platform), string(state)).Inc()
	m.mu.Lock()
	m.seq++
	m.states[accountKey{platform, account}] = stateEntry{state: state, seq: m.seq}
	m.mu.Unlock()
}

// linkCollector reads the XMPP link at scrape time.
type linkCollector struct {
	link func() gateway.LinkStatus
}

var (
	descConnected = prometheus.NewDesc(Namespace+"_xmpp_connected",
		"1 while the XEP-0114 link to the XMPP server is up, else 0.", nil, nil)
	descConnects = prometheus.NewDesc(Namespace+"_xmpp_connects_total",
		"Successful XEP-0114 handshakes (the first connection and every reconnect).", nil, nil)
	descDisconnects = prometheus.NewDesc(Namespace+"_xmpp_disconnects_total",
		"Established XEP-0114 connections that ended.", nil, nil)
	descStanzas = prometheus.NewDesc(Namespace+"_xmpp_stanzas_total",
		"Stanzas read from (in) and written to (out) the XMPP server.", []string{"direction"}, nil)
	descPings = prometheus.NewDesc(Namespace+"_xmpp_pings_total",
		"XEP-0199 pings written to the XMPP server: they confirm the stanzas written before them and keep the link alive.", nil, nil)
	descBytes = prometheus.NewDesc(Namespace+"_xmpp_bytes_total",
		"Bytes read from (in) and written to (out) the XMPP server after the handshakes.", []string{"direction"}, nil)
	descQueue = prometheus.NewDesc(Namespace+"_xmpp_queue_depth",
		"Stanzas waiting: outbound (to be written), in_flight (written, not yet acknowledged), dispatch (inbound, waiting for a handler).", []string{"queue"}, nil)
	descSessions = prometheus.NewDesc(Namespace+"_sessions",
		"Live platform sessions of this process, by platform and last reported state.", []string{"platform", "state"}, nil)
)

func (c *linkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConnected
	ch <- descConnects
	ch <- descDisconnects
	ch <- descStanzas
	ch <- descPings
	ch <- descBytes
	ch <- descQueue
}

func (c *linkCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.link()
	up := 0.0
	if s.Connected {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descConnects, prometheus.CounterValue, float64(s.Connects))
	ch <- prometheus.MustNewConstMetric(descDisconnects, prometheus.CounterValue, float64(s.Disconnects))
	ch <- prometheus.MustNewConstMetric(descStanzas, prometheus.CounterValue, float64(s.StanzasIn), "in")
	ch <- prometheus.MustNewConstMetric(descStanzas, prometheus.CounterValue, float64(s.StanzasOut), "out")
	ch <- prometheus.MustNewConstMetric(descPings, prometheus.CounterValue, float64(s.Pings))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(s.BytesIn), "in")
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(s.BytesOut), "out")
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.Queued), "outbound")
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.InFlight), "in_flight")
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.Dispatching), "dispatch")
}

// sessionCollector counts live sessions by the state their account last
// reported ("unknown" before the first report).
type sessionCollector struct {
	m        *Metrics
	sessions func() []gateway.SessionInfo
}

func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descSessions }

func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct {
		platform ids.PlatformID
		state    event.State
	}
	counts := make(map[key]int)
	// States reported after this point may belong to sessions that the
	// snapshot below misses (attached meanwhile): they are kept.
	c.m.mu.Lock()
	before := c.m.seq
	c.m.mu.Unlock()
	live := c.sessions()
	isLive := make(map[accountKey]bool, len(live))
	c.m.mu.Lock()
	for _, s := range live {
		k := accountKey{s.Platform, s.Account}
		isLive[k] = true
		state := event.State("unknown")
		if e, ok := c.m.states[k]; ok {
			state = e.state
		}
		counts[key{s.Platform, state}]++
	}
	// Forget the accounts that no longer have a session here.
	for k, e := range c.m.states {
		if !isLive[k] && e.seq <= before {
			delete(c.m.states, k)
		}
	}
	c.m.mu.Unlock()
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(n), string(k.platform), string(k.state))
	}
}
