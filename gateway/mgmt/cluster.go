package mgmt

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// ClusterStatus is what GetClusterStatus reports: the instances sharing
// the gateway's Redis and the front lease. The binary reads it from Redis
// (this package knows no Redis).
type ClusterStatus struct {
	// Instance is the id of the process that answers.
	Instance  string
	Instances []ClusterInstance
	Front     ClusterLease
}

// ClusterInstance is one process as the cluster's registry lists it.
type ClusterInstance struct {
	ID, Host      string
	PID           int
	Role, Version string
	Started       time.Time
	// HeartbeatTTL is how long the entry lives without a heartbeat.
	HeartbeatTTL time.Duration
}

// ClusterLease is a lease: its holder ("" when free), the holder's
// fencing token, the latest token granted and the TTL left.
type ClusterLease struct {
	Name, Holder     string
	Token, LastToken int64
	TTL              time.Duration
}

// ClusterReader reads the cluster's status; Options.Cluster.
type ClusterReader func(ctx context.Context) (ClusterStatus, error)

// GetClusterStatus implements adminv1.AdminServiceServer.
func (s *service) GetClusterStatus(ctx context.Context, _ *adminv1.GetClusterStatusRequest) (*adminv1.ClusterStatus, error) {
	if s.cluster == nil {
		return nil, status.Error(codes.FailedPrecondition, "this gateway runs as a single process (cluster.enabled is false): there is no cluster to report")
	}
	st, err := s.cluster(ctx)
	if err != nil {
		s.log.Warn("api: reading the cluster status", "err", err)
		return nil, status.Errorf(codes.Unavailable, "reading the cluster status from Redis: %v", err)
	}
	return clusterPB(st), nil
}

func clusterPB(st ClusterStatus) *adminv1.ClusterStatus {
	out := &adminv1.ClusterStatus{
		Instance:  st.Instance,
		Instances: make([]*adminv1.ClusterInstance, 0, len(st.Instances)),
		Front: &adminv1.ClusterLease{
			Name: st.Front.Name, Holder: st.Front.Holder, Token: st.Front.Token,
			LastToken: st.Front.LastToken, TtlMs: st.Front.TTL.Milliseconds(),
		},
	}
	for _, in := range st.Instances {
		pb := &adminv1.ClusterInstance{
			Id: in.ID, Host: in.Host, Pid: int32(in.PID), Role: in.Role, Version: in.Version,
			HeartbeatTtlMs: in.HeartbeatTTL.Milliseconds(),
		}
		if !in.Started.IsZero() {
			pb.Started = timestamppb.New(in.Started)
		}
		out.Instances = append(out.Instances, pb)
	}
	return out
}
