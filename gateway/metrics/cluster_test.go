package metrics_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/drawbridge-im/drawbridge/gateway/metrics"
)

// TestClusterMetrics: the role gauge follows the role function at each
// scrape; renewals, takeovers and fenced refusals move their series.
func TestClusterMetrics(t *testing.T) {
	var role atomic.Value
	role.Store("standby")
	errLost := errors.New("lost")
	m := metrics.New(metrics.Options{
		ClusterRole:  func() string { return role.Load().(string) },
		ClusterRoles: []string{"standby", "active", "stopping"},
		RenewErrorKind: func(err error) string {
			if errors.Is(err, errLost) {
				return "lost"
			}
			return "error"
		},
	})
	roleIs := func(want string) {
		t.Helper()
		exp := `
# HELP drawbridge_cluster_role 1 for this instance's role in the cluster (standby, active, stopping), 0 for the others.
# TYPE drawbridge_cluster_role gauge
`
		for _, r := range []string{"active", "standby", "stopping"} {
			v := "0"
			if r == want {
				v = "1"
			}
			exp += `drawbridge_cluster_role{role="` + r + `"} ` + v + "\n"
		}
		if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(exp), "drawbridge_cluster_role"); err != nil {
			t.Error(err)
		}
	}
	roleIs("standby")
	role.Store("active")
	m.LeaseAcquired("front", 7)
	roleIs("active")
	m.LeaseRenewed("front", 2*time.Millisecond, nil)
	m.LeaseRenewed("front", 3*time.Millisecond, nil)
	m.LeaseRenewed("front", time.Second, errLost)
	m.LeaseRenewed("front", time.Second, errors.New("i/o timeout"))
	m.FencedRefusal(errors.New("fenced"))
	m.FencedRefusal(errors.New("fenced"))

	exp := `
# HELP drawbridge_cluster_takeovers_total Times this instance took a lease (became the active process for the front lease), by lease.
# TYPE drawbridge_cluster_takeovers_total counter
drawbridge_cluster_takeovers_total{lease="front"} 1
# HELP drawbridge_cluster_fenced_refusals_total Writes of this instance that Redis refused because its lease's fencing token was no longer current.
# TYPE drawbridge_cluster_fenced_refusals_total counter
drawbridge_cluster_fenced_refusals_total 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(exp), "drawbridge_cluster_takeovers_total", "drawbridge_cluster_fenced_refusals_total"); err != nil {
		t.Error(err)
	}
	for result, want := range map[string]uint64{"ok": 2, "lost": 1, "error": 1} {
		if n := histogramCount(t, m, "drawbridge_cluster_lease_renew_duration_seconds", "result", result); n != want {
			t.Errorf("renewals with result %s: %d, want %d", result, n, want)
		}
	}
	role.Store("stopping")
	roleIs("stopping")
}

// TestSingleProcessHasNoClusterSeries: without ClusterRole (a single
// process) nothing of the cluster is exported, and its hooks do nothing.
func TestSingleProcessHasNoClusterSeries(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.LeaseAcquired("front", 1)
	m.LeaseRenewed("front", time.Millisecond, nil)
	m.FencedRefusal(errors.New("fenced"))
	n := testutil.CollectAndCount(m.Registry(), "drawbridge_cluster_role", "drawbridge_cluster_takeovers_total",
		"drawbridge_cluster_fenced_refusals_total", "drawbridge_cluster_lease_renew_duration_seconds")
	if n != 0 {
		t.Errorf("%d cluster series in a single process", n)
	}
}

// histogramCount is the sample count of the histogram name's series whose
// label is value.
func histogramCount(t *testing.T, m *metrics.Metrics, name, label, value string) uint64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return s.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}
