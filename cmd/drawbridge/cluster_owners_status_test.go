package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// TestClusterStatusShowsOwnersPerWorker: with two workers that spread 40
// owners between them and a dead worker whose lease has not expired yet,
// `drawbridge cluster status` lists each worker with the number of owners
// it holds (in text and JSON), the dead one as "gone", and the counts add
// up to every owner; the lag of the owners' inboxes (read and not
// acknowledged, not read) by worker, and the front outbox's.
func TestClusterStatusShowsOwnersPerWorker(t *testing.T) {
	addr := storetest.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	ctx := t.Context()
	var owners []string
	for i := range 40 {
		owners = append(owners, fmt.Sprintf("user%02d@example.org", i))
	}
	newWorker := func(id string) *cluster.Assigner {
		a, err := cluster.NewAssigner(cluster.AssignerOptions{
			Client: c, Prefix: redisstore.DefaultKeyPrefix,
			Instance: cluster.Instance{ID: id}, TTL: time.Minute, RenewEvery: time.Second, MaxMovesPerSecond: 1000,
			Owners: func(context.Context) ([]string, error) { return owners[1:], nil },
			Start:  func(context.Context, string, cluster.Grant) error { return nil },
			Stop:   func(context.Context, string) {},
		})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	w1, w2 := newWorker("gw-w1"), newWorker("gw-w2")
	// Both register first, then each claims what it prefers among both.
	for _, w := range []*cluster.Assigner{w1, w2, w1, w2} {
		if err := w.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cluster.NewOwnerLease(c, redisstore.DefaultKeyPrefix, owners[0]).Acquire(ctx, "gw-dead", time.Minute); err != nil {
		t.Fatal(err)
	}
	n1, n2 := len(w1.Owned()), len(w2.Owned())
	if n1+n2 != 39 || n1 == 0 || n2 == 0 {
		t.Fatalf("the workers own %d and %d of 39 owners", n1, n2)
	}
	// Three stanzas for one of gw-w1's owners, one of them read and not
	// acknowledged; two for XMPP in the front's outbox.
	inbox := cluster.NewOwnerInbox(c, redisstore.DefaultKeyPrefix, w1.Owned()[0])
	for range 3 {
		if _, err := inbox.Post(ctx, []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
	}
	if es, err := inbox.Reader("gw-w1").Read(ctx, 1, 0); err != nil || len(es) != 1 {
		t.Fatalf("read %v, %v", es, err)
	}
	for range 2 {
		if _, err := cluster.NewFrontOutbox(c, redisstore.DefaultKeyPrefix).Post(ctx, []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
	}

	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\nstore:\n  backend: redis\n  redis:\n    url: redis://%s/0\n", addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"cluster", "status", "--config", cfg}, &out, &errb); err != nil {
		t.Fatalf("cluster status: %v\n%s", err, errb.String())
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^WORKER\s+ROLE\s+OWNERS\s+INBOX PENDING\s+INBOX UNREAD`),
		regexp.MustCompile(fmt.Sprintf(`(?m)^gw-w1\s+worker\s+%d\s+1\s+2\s`, n1)),
		regexp.MustCompile(fmt.Sprintf(`(?m)^gw-w2\s+worker\s+%d\s+0\s+0\s`, n2)),
		regexp.MustCompile(`(?m)^gw-dead\s+gone\s+1\s+0\s+0\s`),
		regexp.MustCompile(`(?m)^front outbox: 0 pending, 2 unread$`),
	} {
		if !want.MatchString(out.String()) {
			t.Errorf("status does not match %s:\n%s", want, out.String())
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
	total := 0
	got := map[string]workerJSON{}
	for _, w := range js.Workers {
		total += w.Owners
		got[w.ID] = w
	}
	if total != 40 || got["gw-w1"].Owners != n1 || got["gw-w2"].Owners != n2 || got["gw-dead"].Role != roleGone || got["gw-w1"].TTLMs <= 0 ||
		got["gw-w1"].Inbox != (lagJSON{Pending: 1, Unread: 2}) || js.Outbox != (lagJSON{Unread: 2}) {
		t.Errorf("JSON workers %+v; want gw-w1 %d, gw-w2 %d, gw-dead gone 1", js.Workers, n1, n2)
	}
}
