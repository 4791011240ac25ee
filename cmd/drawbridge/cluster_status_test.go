package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// TestClusterStatusCommand: `drawbridge cluster status` reads the
// registry and the front lease from the configured Redis: an active
// instance holding the lease, a standby, the token and the TTL left; the
// same in JSON; and it refuses a configuration on the sqlite store.
func TestClusterStatusCommand(t *testing.T) {
	addr := storetest.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	ctx := t.Context()
	newElector := func(id string) *cluster.Elector {
		e, err := cluster.NewElector(cluster.ElectorOptions{
			Client: c, Prefix: redisstore.DefaultKeyPrefix,
			Instance: cluster.Instance{ID: id, Host: "host-" + id, PID: 42, Started: time.Now(), Version: "v-test"},
			TTL:      time.Minute, RenewEvery: time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	g, err := newElector("gw-1").Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	standbyCtx, stopStandby := context.WithCancel(ctx)
	defer stopStandby()
	go func() { _, _ = newElector("gw-2").Campaign(standbyCtx) }()

	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\nstore:\n  backend: redis\n  redis:\n    url: redis://%s/0\n", addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	waitFor(t, "both instances in the status", func() bool {
		out.Reset()
		if err := run(ctx, []string{"cluster", "status", "--config", cfg}, &out, &errb); err != nil {
			t.Fatalf("cluster status: %v\n%s", err, errb.String())
		}
		return strings.Contains(out.String(), "gw-2")
	})
	text := out.String()
	for _, want := range []string{
		fmt.Sprintf("front lease: gw-1, token %d,", g.Token),
		"INSTANCE", "gw-1      active   host-gw-1", "gw-2      standby  host-gw-2", "v-test",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}

	out.Reset()
	if err := run(ctx, []string{"cluster", "status", "--config", cfg, "--json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var js clusterStatusJSON
	if err := json.Unmarshal(out.Bytes(), &js); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if js.Front.Holder != "gw-1" || js.Front.Token != g.Token || js.Front.TTLMs <= 0 || len(js.Instances) != 2 {
		t.Errorf("JSON status %+v", js)
	}

	sqlite := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(sqlite, []byte("component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"cluster", "status", "--config", sqlite}, &out, &errb); err == nil || !strings.Contains(err.Error(), "store.backend is sqlite") {
		t.Errorf("cluster status on sqlite: %v, want a refusal naming store.backend", err)
	}
	if err := run(ctx, []string{"cluster"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("cluster without a subcommand: %v, want the usage", err)
	}
}

// TestExitCodeLeaseLost: a process that lost the front lease exits with
// status 3 (a supervisor restarts it as a standby), however the error is
// wrapped or joined with the shutdown's; other errors stay 2.
func TestExitCodeLeaseLost(t *testing.T) {
	lost := fmt.Errorf("%w: no renewal within the TTL", cluster.ErrLeaseLost)
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{lost, exitLeaseLost},
		{errors.Join(lost, errors.New("stopping the API: timeout")), exitLeaseLost},
		{errors.New("store: unreachable"), 2},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
