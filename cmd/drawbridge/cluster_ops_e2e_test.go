package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

const clusterAPIToken = "cluster-ops-t0ken-5b1e"

// opsNode is a cluster node whose management API listens on api.
type opsNode struct {
	*clusterNode
	api string
}

// startOpsNode runs a cluster node of cfg with its API on a free port
// behind clusterAPIToken.
func startOpsNode(t *testing.T, bin, cfg, id string) *opsNode {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	api := testutil.FreeAddr(t)
	text := strings.Replace(string(data), "api:\n  listen: \"\"", "api:\n  listen: "+api+"\n  token: "+clusterAPIToken, 1)
	path := filepath.Join(t.TempDir(), id+"-api.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &opsNode{clusterNode: startClusterNode(t, bin, path, id), api: api}
}

// scrape reads the node's whole /metrics page.
func (n *opsNode) scrape() (string, error) {
	resp, err := http.Get("http://" + n.metrics + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// metric is the value of the sample line that starts with series, or -1.
func metric(page, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// restClusterStatus is the JSON of GET /v1/cluster.
type restClusterStatus struct {
	Instance  string `json:"instance"`
	Instances []struct {
		ID   string `json:"id"`
		Role string `json:"role"`
	} `json:"instances"`
	Front struct {
		Name   string `json:"name"`
		Holder string `json:"holder"`
		Token  string `json:"token"`
		TTLMs  string `json:"ttl_ms"`
	} `json:"front"`
}

// clusterAPI calls GET /v1/cluster on the node's API with token ("":
// none) and decodes a 200 answer.
func (n *opsNode) clusterAPI(token string) (int, restClusterStatus, error) {
	var st restClusterStatus
	req, err := http.NewRequest(http.MethodGet, "http://"+n.api+"/v1/cluster", nil)
	if err != nil {
		return 0, st, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&st)
	}
	return resp.StatusCode, st, err
}

// TestClusterOperations runs two gateway processes on one Redis and one
// Prosody and checks what an operator sees: the active process's API
// reports both instances, their roles and the front lease (REST, behind
// the API token); each process's metrics show its role, the active one's
// takeover and lease renewals. After SIGTERM of the active process the
// standby takes over, and its metrics and API say so.
func TestClusterOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody and redis-server")
	}
	bin := buildGateway(t)
	redisAddr := storetest.StartRedis(t)
	rc, _, cfg := clusterOnProsody(t, redisAddr)

	nodes := map[string]*opsNode{}
	for _, id := range []string{"ops-a", "ops-b"} {
		nodes[id] = startOpsNode(t, bin, cfg, id)
	}
	waitFor(t, "two registered instances", func() bool { return len(clusterStatus(t, rc).Instances) == 2 })
	front := waitFront(t, rc)
	active := nodes[front.Holder]
	var standby *opsNode
	for id, n := range nodes {
		if id != active.id {
			standby = n
		}
	}

	// The API of the active process: the cluster as Redis holds it.
	var st restClusterStatus
	waitFor(t, "the active process's API to report both instances", func() bool {
		code, s, err := active.clusterAPI(clusterAPIToken)
		st = s
		return err == nil && code == http.StatusOK && len(s.Instances) == 2
	})
	roles := map[string]string{}
	for _, in := range st.Instances {
		roles[in.ID] = in.Role
	}
	if st.Instance != active.id || roles[active.id] != "active" || roles[standby.id] != "standby" {
		t.Errorf("GET /v1/cluster: instance %q, roles %v; want %s active, %s standby", st.Instance, roles, active.id, standby.id)
	}
	if st.Front.Name != "front" || st.Front.Holder != active.id || st.Front.Token != strconv.FormatInt(front.Token, 10) {
		t.Errorf("GET /v1/cluster front lease %+v, want held by %s with token %d", st.Front, active.id, front.Token)
	}
	if ttl, _ := strconv.Atoi(st.Front.TTLMs); ttl <= 0 || ttl > int(clusterLeaseTTL.Milliseconds()) {
		t.Errorf("front lease TTL %s ms, want within (0, %d]", st.Front.TTLMs, clusterLeaseTTL.Milliseconds())
	}
	if code, _, err := active.clusterAPI(""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("GET /v1/cluster without the token: %d (%v), want 401", code, err)
	}

	// Metrics: the role of each, the takeover and the renewals of the
	// active one (renewals go on: the count grows).
	renewals := func(n *opsNode) float64 {
		page, err := n.scrape()
		if err != nil {
			return -1
		}
		return metric(page, `drawbridge_cluster_lease_renew_duration_seconds_count{lease="front",result="ok"}`)
	}
	var first float64
	waitFor(t, "a renewal in the active process's metrics", func() bool { first = renewals(active); return first >= 1 })
	waitFor(t, "more renewals", func() bool { return renewals(active) > first })
	page, err := active.scrape()
	if err != nil {
		t.Fatal(err)
	}
	for series, want := range map[string]float64{
		`drawbridge_cluster_role{role="active"}`:            1,
		`drawbridge_cluster_role{role="standby"}`:           0,
		`drawbridge_cluster_takeovers_total{lease="front"}`: 1,
		`drawbridge_cluster_fenced_refusals_total`:          0,
	} {
		if got := metric(page, series); got != want {
			t.Errorf("%s metrics: %s = %v, want %v", active.id, series, got, want)
		}
	}
	page, err = standby.scrape()
	if err != nil {
		t.Fatal(err)
	}
	if got := metric(page, `drawbridge_cluster_role{role="standby"}`); got != 1 {
		t.Errorf("%s metrics: standby role %v, want 1", standby.id, got)
	}
	if got := metric(page, `drawbridge_cluster_takeovers_total{lease="front"}`); got != -1 {
		t.Errorf("%s metrics: takeovers %v before any, want no series", standby.id, got)
	}

	// SIGTERM: the standby takes over; its metrics and API say so.
	if err := active.proc.Stop(e2eWait); err != nil {
		t.Fatal(err)
	}
	waitFront(t, rc, active.id)
	waitFor(t, "the new active process's metrics", func() bool {
		page, err := standby.scrape()
		return err == nil && metric(page, `drawbridge_cluster_role{role="active"}`) == 1 &&
			metric(page, `drawbridge_cluster_takeovers_total{lease="front"}`) == 1
	})
	waitFor(t, "the new active process's API", func() bool {
		code, s, err := standby.clusterAPI(clusterAPIToken)
		return err == nil && code == http.StatusOK && s.Instance == standby.id && s.Front.Holder == standby.id && len(s.Instances) == 1
	})
	t.Logf("takeover seen through the API and metrics of %s", standby.id)
}
