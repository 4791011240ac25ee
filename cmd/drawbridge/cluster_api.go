package main

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
)

// clusterReader serves the management API's GetClusterStatus: the
// registry and the front lease, read from Redis as `drawbridge cluster
// status` reads them. Nil without a cluster.
func (a *app) clusterReader() mgmt.ClusterReader {
	c := a.cluster
	if c == nil {
		return nil
	}
	prefix := redisConfig(a.cfg.Store.Redis).EffectiveKeyPrefix()
	return func(ctx context.Context) (mgmt.ClusterStatus, error) {
		st, err := cluster.ReadStatus(ctx, c.client, prefix)
		if err != nil {
			return mgmt.ClusterStatus{}, err
		}
		out := mgmt.ClusterStatus{
			Instance: c.id,
			Front: mgmt.ClusterLease{
				Name: st.Front.Name, Holder: st.Front.Holder, Token: st.Front.Token,
				LastToken: st.Front.LastToken, TTL: st.Front.TTL,
			},
		}
		for _, in := range st.Instances {
			out.Instances = append(out.Instances, mgmt.ClusterInstance{
				ID: in.ID, Host: in.Host, PID: in.PID, Role: in.Role, Version: in.Version,
				Started: in.Started, HeartbeatTTL: in.TTL,
			})
		}
		return out, nil
	}
}
