package mgmt_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

var testCluster = mgmt.ClusterStatus{
	Instance: "gw-a",
	Instances: []mgmt.ClusterInstance{
		{ID: "gw-a", Host: "h1", PID: 11, Role: "active", Version: "v1", Started: time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC), HeartbeatTTL: 2500 * time.Millisecond},
		{ID: "gw-b", Host: "h2", PID: 12, Role: "standby", Version: "v1", Started: time.Date(2026, 12, 7, 5, 1, 0, 0, time.UTC), HeartbeatTTL: 2900 * time.Millisecond},
	},
	Front: mgmt.ClusterLease{Name: "front", Holder: "gw-a", Token: 7, LastToken: 7, TTL: 2800 * time.Millisecond},
}

// TestClusterStatusAPI: GetClusterStatus over gRPC and REST reports what
// the reader returns, behind the same token as every call; without a
// cluster it is FAILED_PRECONDITION, and a Redis error UNAVAILABLE.
func TestClusterStatusAPI(t *testing.T) {
	h := newHub(t)
	var readErr atomic.Pointer[error]
	a := startAPIWith(t, h, mgmt.Options{
		Auth: mgmt.Auth{Token: testToken},
		Cluster: func(context.Context) (mgmt.ClusterStatus, error) {
			if err := readErr.Load(); err != nil {
				return mgmt.ClusterStatus{}, *err
			}
			return testCluster, nil
		},
	})
	ctx := ctxT(t)
	plain := grpc.WithTransportCredentials(insecure.NewCredentials())

	_, err := dial(t, a.addr, plain).GetClusterStatus(ctx, &adminv1.GetClusterStatusRequest{})
	wantCode(t, "gRPC without the token", err, codes.Unauthenticated)
	good := dial(t, a.addr, plain, grpc.WithPerRPCCredentials(bearer(testToken)))
	st, err := good.GetClusterStatus(ctx, &adminv1.GetClusterStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetInstance() != "gw-a" || len(st.GetInstances()) != 2 ||
		st.GetInstances()[1].GetId() != "gw-b" || st.GetInstances()[1].GetRole() != "standby" || st.GetInstances()[1].GetPid() != 12 ||
		st.GetInstances()[0].GetHeartbeatTtlMs() != 2500 || !st.GetInstances()[0].GetStarted().AsTime().Equal(testCluster.Instances[0].Started) {
		t.Errorf("instances: %v", st)
	}
	if f := st.GetFront(); f.GetName() != "front" || f.GetHolder() != "gw-a" || f.GetToken() != 7 || f.GetLastToken() != 7 || f.GetTtlMs() != 2800 {
		t.Errorf("front lease: %v", f)
	}

	// REST: the same answer at GET /v1/cluster, and 401 without the token.
	get := func(token string, out any) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/v1/cluster", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if out != nil && res.StatusCode == http.StatusOK {
			if err := decodeJSON(res, out); err != nil {
				t.Fatal(err)
			}
		}
		return res.StatusCode
	}
	if code := get("", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/cluster without the token: %d, want 401", code)
	}
	var rs struct {
		Instance  string `json:"instance"`
		Instances []struct {
			ID   string `json:"id"`
			Role string `json:"role"`
		} `json:"instances"`
		Front struct {
			Holder string `json:"holder"`
			Token  string `json:"token"` // int64 is a JSON string
			TTLMs  string `json:"ttl_ms"`
		} `json:"front"`
	}
	if code := get(testToken, &rs); code != http.StatusOK || rs.Instance != "gw-a" || len(rs.Instances) != 2 ||
		rs.Instances[0].Role != "active" || rs.Front.Holder != "gw-a" || rs.Front.Token != "7" || rs.Front.TTLMs != "2800" {
		t.Errorf("GET /v1/cluster: %d %+v", code, rs)
	}

	down := errors.New("dial tcp 127.0.0.1:1: connection refused")
	readErr.Store(&down)
	_, err = good.GetClusterStatus(ctx, &adminv1.GetClusterStatusRequest{})
	wantCode(t, "with Redis down", err, codes.Unavailable)
}

// TestClusterStatusSingleProcess: a process without a cluster answers
// FAILED_PRECONDITION, saying why.
func TestClusterStatusSingleProcess(t *testing.T) {
	a := startAPI(t, newHub(t), mgmt0())
	_, err := a.gc.GetClusterStatus(ctxT(t), &adminv1.GetClusterStatusRequest{})
	wantCode(t, "single process", err, codes.FailedPrecondition)
	var e restError
	if code := a.rest(t, "GET", "/v1/cluster", "", &e); code != http.StatusBadRequest || e.Code != int(codes.FailedPrecondition) {
		t.Errorf("GET /v1/cluster of a single process: %d %+v", code, e)
	}
}
