package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RenewBuckets suit a lease renewal: one Lua script on Redis, normally
// well under a millisecond, seconds when Redis or the process stalls.
var RenewBuckets = []float64{.0002, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// clusterMetrics are the series of one instance of a cluster
// (cluster.enabled); a single process exports none of them.
type clusterMetrics struct {
	role      func() string
	owners    func() int
	roles     []string
	renew     *prometheus.HistogramVec
	takeovers *prometheus.CounterVec
	fenced    prometheus.Counter
}

var descClusterRole = prometheus.NewDesc(Namespace+"_cluster_role",
	"1 for this instance's role in the cluster (standby, active, stopping), 0 for the others.", []string{"role"}, nil)

var descClusterOwners = prometheus.NewDesc(Namespace+"_cluster_owners",
	"Owners (users with a linked account) whose lease this worker holds and whom it serves, in a sharded cluster.", nil, nil)

func newClusterMetrics(role func() string, roles []string, owners func() int) *clusterMetrics {
	return &clusterMetrics{
		role:   role,
		owners: owners,
		roles:  roles,
		renew: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "cluster_lease_renew_duration_seconds",
			Help:    "Time of each renewal call of a lease this instance holds, by lease and result (ok, lost, error).",
			Buckets: RenewBuckets,
		}, []string{"lease", "result"}),
		takeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "cluster_takeovers_total",
			Help: "Times this instance took a lease (became the active process for the front lease), by lease.",
		}, []string{"lease"}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "cluster_fenced_refusals_total",
			Help: "Writes of this instance that Redis refused because its lease's fencing token was no longer current.",
		}),
	}
}

func (c *clusterMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descClusterRole
	if c.owners != nil {
		ch <- descClusterOwners
	}
	c.renew.Describe(ch)
	c.takeovers.Describe(ch)
	c.fenced.Describe(ch)
}

func (c *clusterMetrics) Collect(ch chan<- prometheus.Metric) {
	cur := c.role()
	seen := false
	for _, r := range c.roles {
		v := 0.0
		if r == cur {
			v, seen = 1, true
		}
		ch <- prometheus.MustNewConstMetric(descClusterRole, prometheus.GaugeValue, v, r)
	}
	if !seen && cur != "" {
		ch <- prometheus.MustNewConstMetric(descClusterRole, prometheus.GaugeValue, 1, cur)
	}
	if c.owners != nil {
		ch <- prometheus.MustNewConstMetric(descClusterOwners, prometheus.GaugeValue, float64(c.owners()))
	}
	c.renew.Collect(ch)
	c.takeovers.Collect(ch)
	c.fenced.Collect(ch)
}

// ErrorKinder classifies a renewal error for the result label: "lost"
// when the lease is not the caller's any more, else "error".
type ErrorKinder func(error) string

// LeaseRenewed implements cluster.Observer: one renewal call of lease
// took d and ended with err. Without cluster options it does nothing.
func (m *Metrics) LeaseRenewed(lease string, d time.Duration, err error) {
	if m.cluster == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
		if m.renewKind != nil {
			result = m.renewKind(err)
		}
	}
	m.cluster.renew.WithLabelValues(lease, result).Observe(d.Seconds())
}

// LeaseAcquired implements cluster.Observer: this instance took lease.
func (m *Metrics) LeaseAcquired(lease string, _ int64) {
	if m.cluster == nil {
		return
	}
	m.cluster.takeovers.WithLabelValues(lease).Inc()
}

// FencedRefusal counts one write that the fence refused (the store's
// OnFenced hook).
func (m *Metrics) FencedRefusal(error) {
	if m.cluster == nil {
		return
	}
	m.cluster.fenced.Inc()
}
