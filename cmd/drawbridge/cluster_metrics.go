package main

import (
	"errors"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/metrics"
)

// clusterMetricsOptions adds the drawbridge_cluster_* series to opts when
// the process runs in a cluster; the role is read from a.cluster at each
// scrape (set once the app is built).
func clusterMetricsOptions(a *app, enabled bool, opts metrics.Options) metrics.Options {
	if !enabled {
		return opts
	}
	opts.ClusterRole = func() string {
		if a.cluster == nil {
			return ""
		}
		return a.cluster.elector.Role()
	}
	opts.ClusterRoles = []string{cluster.RoleStandby, cluster.RoleActive, cluster.RoleStopping}
	opts.ClusterOwners = func() int {
		if a.shard == nil || a.shard.worker == nil {
			return 0
		}
		return len(a.shard.worker.Assigner().Owned())
	}
	opts.RenewErrorKind = func(err error) string {
		if errors.Is(err, cluster.ErrNotHeld) {
			return "lost"
		}
		return "error"
	}
	return opts
}

// observe makes m the observer of the elector (renewals, takeovers) and
// of the fenced store (refused writes).
func (c *appCluster) observe(m *metrics.Metrics) {
	c.elector.SetObserver(m)
	c.fenced.OnFenced(m.FencedRefusal)
}
