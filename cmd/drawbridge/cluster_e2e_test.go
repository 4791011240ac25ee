package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The cluster tests' lease: short, so that a takeover after a crash comes
// quickly, and renewed often enough to survive a loaded machine.
const (
	clusterLeaseTTL   = 3 * time.Second
	clusterRenewEvery = 500 * time.Millisecond
)

// takeoverMargin is what a takeover may take beyond the lease's TTL and
// one renew interval: starting the hub, the handshake with Prosody, and
// the probe that sees the link up (componentProbeWait when one is lost).
const takeoverMargin = 3 * componentProbeWait

// clusterNode is one gateway process of a cluster test.
type clusterNode struct {
	id      string
	proc    *testutil.Process
	metrics string // host:port of /healthz, /readyz
}

// startClusterNode runs the binary with cfg plus a cluster section naming
// it id, and its metrics endpoint on a free port.
func startClusterNode(t testing.TB, bin, cfg, id string) *clusterNode {
	t.Helper()
	return startClusterNodeWith(t, bin, cfg, id, "")
}

// startClusterNodeWith is startClusterNode with more lines (indented) in
// the cluster section.
func startClusterNodeWith(t testing.TB, bin, cfg, id, extra string) *clusterNode {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	metrics := testutil.FreeAddr(t)
	text := strings.Replace(string(data), "metrics:\n  listen: \"\"", "metrics:\n  listen: "+metrics, 1)
	text += fmt.Sprintf("cluster:\n  enabled: true\n  instance_id: %s\n  lease_ttl: %v\n  renew_every: %v\n", id, clusterLeaseTTL, clusterRenewEvery) + extra
	path := filepath.Join(t.TempDir(), id+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	proc, err := testutil.Start(exec.Command(bin, "run", "--config", path), filepath.Join(t.TempDir(), id+".log"))
	if err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{id: id, proc: proc, metrics: metrics}
	t.Cleanup(func() {
		_ = proc.Signal(syscall.SIGCONT)
		_ = proc.Stop(30 * time.Second)
		if t.Failed() {
			t.Logf("%s log:\n%s", id, proc.Tail(40))
		}
	})
	return n
}

// get fetches an endpoint of the node's metrics server.
func (n *clusterNode) get(path string) (int, string, error) {
	resp, err := http.Get("http://" + n.metrics + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(body), nil
}

// clusterStatus reads the registry and the front lease.
func clusterStatus(t testing.TB, c redis.UniversalClient) cluster.Status {
	t.Helper()
	st, err := cluster.ReadStatus(t.Context(), c, redisstore.DefaultKeyPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitFront waits for a holder of the front lease other than those in
// not, and returns the lease.
func waitFront(t testing.TB, c redis.UniversalClient, not ...string) cluster.LeaseState {
	t.Helper()
	var front cluster.LeaseState
	waitFor(t, fmt.Sprintf("a holder of the front lease other than %v", not), func() bool {
		front = clusterStatus(t, c).Front
		return front.Holder != "" && !slices.Contains(not, front.Holder)
	})
	return front
}

// TestClusterFailover runs three gateway processes on one Redis and one
// Prosody: one holds the front lease and the XEP-0114 link, the others
// stand by (/readyz says so). A user chats with the Echo Bot; the active
// process is killed with SIGKILL right after an echo reached the user
// (its journal entry may still be unconfirmed); a standby takes the link
// within the lease's TTL and replays what the dead one left in the shared
// journal. Then the new active process is stopped with SIGSTOP past its
// TTL; a third takes over; on SIGCONT the stopped one finds it lost the
// lease and exits with status 3, and a journal append with its token is
// refused by Redis. Last, SIGTERM on the active process releases the
// lease and the remaining standby takes over. Every message is echoed in
// the end (a message Prosody bounced while no process held the link is
// sent again, as a client would), and copies only carry the original's
// origin-id.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody and redis-server")
	}
	bin := buildGateway(t)
	redisAddr := storetest.StartRedis(t)
	rc, p, cfg := clusterOnProsody(t, redisAddr)
	editFile(t, cfg, "level: warn", "level: info")
	// A file server on loopback that answers once released: the message
	// that links to it holds its chat up until then.
	release := make(chan struct{})
	files := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("a file"))
	}))
	t.Cleanup(files.Close)
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	fetched := make(chan struct{}, 16)
	files.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			select {
			case fetched <- struct{}{}:
			default:
			}
		}
	}
	files.Start()
	editFile(t, cfg, "  server_upload: false\n", "  server_upload: false\n  allow_private_fetch: true\n")

	nodes := map[string]*clusterNode{}
	for _, id := range []string{"gw-a", "gw-b", "gw-c"} {
		nodes[id] = startClusterNode(t, bin, cfg, id)
	}
	waitFor(t, "three registered instances", func() bool { return len(clusterStatus(t, rc).Instances) == 3 })
	front := waitFront(t, rc)
	first := nodes[front.Holder]
	t.Logf("active: %s (token %d)", front.Holder, front.Token)

	// /healthz: all alive; /readyz: only the active one.
	for id, n := range nodes {
		if id == first.id {
			waitFor(t, "the active process to be ready", func() bool {
				code, _, err := n.get("/readyz")
				return err == nil && code == http.StatusOK
			})
			continue
		}
		waitFor(t, id+"'s health endpoints", func() bool {
			code, _, err := n.get("/healthz")
			return err == nil && code == http.StatusOK
		})
		code, body, err := n.get("/readyz")
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "standby") {
			t.Errorf("%s /readyz: %d %q (%v), want 503 saying standby", id, code, body, err)
		}
	}

	e := &e2e{t: t, prosody: p}
	u := e.user("alice")
	waitComponent(t, u, true)
	linkByChat(t, u)

	r := &echoReader{bounced: map[string]string{}}
	k := func(i int) string { return fmt.Sprintf("K%03d", i) }
	send := func(i int) {
		u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, k(i), k(i)))
	}
	// chat sends messages from..to-1 one by one, each once the previous
	// one was echoed; one that Prosody bounces (no process holds the
	// link) is sent again once the component is back.
	resent := 0
	settle := func(i int) {
		t.Helper()
		for {
			r.readUntil(t, u, func() bool { return r.has(k(i)) || r.bounced[k(i)] != "" })
			if r.has(k(i)) {
				return
			}
			resent++
			waitComponent(t, u, true)
			delete(r.bounced, k(i))
			send(i)
		}
	}
	chat := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			send(i)
			settle(i)
		}
	}
	chat(0, 10)

	// Mid-conversation: the chat's next message links a file that the
	// file server does not serve yet, so the ten after it wait their turn
	// in the active process, recorded in the shared intake journal. Then
	// SIGKILL.
	u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='KS00'><body>KS00</body><x xmlns='jabber:x:oob'><url>%s/file.txt</url></x></message>`, echoJID, files.URL))
	select {
	case <-fetched:
	case <-time.After(e2eWait):
		t.Fatal("the active process did not fetch the stuck message's file")
	}
	for i := 10; i < 20; i++ {
		send(i)
	}
	intake := redisstore.New(redis.NewClient(&redis.Options{Addr: redisAddr}), redisstore.Options{})
	t.Cleanup(func() { intake.Close() })
	waitFor(t, "the waiting messages in the intake journal", func() bool {
		items, err := intake.Pending(t.Context(), ids.Owner("xmppin:"+u.bare), 0)
		if err != nil {
			return false
		}
		recorded := 0
		for i := 10; i < 20; i++ {
			if slices.ContainsFunc(items, func(it store.QueueItem) bool { return strings.Contains(string(it.Data), k(i)) }) {
				recorded++
			}
		}
		return recorded == 10
	})
	killed := time.Now()
	if err := first.proc.Kill(); err != nil {
		t.Fatal(err)
	}
	releaseOnce.Do(func() { close(release) }) // the file server answers the next process
	// While no process holds the link (once Prosody saw the link go: a
	// stanza it writes to the dying connection before is lost, as with
	// any crash of a component): bounced, sent again below.
	waitComponent(t, u, false)
	send(20)
	second := nodes[waitFront(t, rc, first.id).Holder]
	waitComponent(t, u, true)
	takeover := time.Since(killed)
	t.Logf("takeover after SIGKILL of %s: %s holds the link after %v (lease TTL %v)", first.id, second.id, takeover.Round(time.Millisecond), clusterLeaseTTL)
	// The standby tries every renew interval, so it holds the lease at
	// most a TTL and an interval after the last renewal; the margin is
	// for the probes that find the link up on a loaded machine, not a
	// speed test.
	if bound := clusterLeaseTTL + clusterRenewEvery + takeoverMargin; takeover > bound {
		t.Errorf("takeover after SIGKILL took %v, more than the lease TTL + renew interval + %v", takeover, takeoverMargin)
	}
	// The new active process replays what the dead one recorded: the
	// stuck message, then the ten behind it.
	r.readUntil(t, u, func() bool {
		for i := 10; i < 20; i++ {
			if !r.has(k(i)) {
				return false
			}
		}
		return r.has("KS00")
	})
	settle(20)
	chat(21, 25)
	secondGrant := clusterStatus(t, rc).Front
	if secondGrant.Holder != second.id {
		t.Fatalf("front %+v, want %s", secondGrant, second.id)
	}

	// SIGSTOP the active process past its TTL: another takes over.
	if err := second.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	third := nodes[waitFront(t, rc, first.id, second.id).Holder]
	waitComponent(t, u, true)
	t.Logf("takeover after SIGSTOP of %s: %s holds the link after %v", second.id, third.id, time.Since(stopped).Round(time.Millisecond))
	chat(25, 30)

	// The stopped process wakes up: its writes with its old token are
	// refused by Redis (a journal append with its token, from here), and
	// it steps down: exit status 3.
	stale := redisstore.New(redis.NewClient(&redis.Options{Addr: redisAddr}), redisstore.Options{})
	t.Cleanup(func() { stale.Close() })
	fence := cluster.Fence{Key: cluster.NewLease(rc, redisstore.DefaultKeyPrefix, cluster.FrontLease).Key(), Token: secondGrant.Token}
	stale.SetFence(&fence)
	if _, err := stale.Enqueue(t.Context(), ids.Owner(u.bare), []byte("stale")); !errors.Is(err, store.ErrFenced) {
		t.Errorf("journal append with %s's token %d after the takeover: %v, want store.ErrFenced", second.id, secondGrant.Token, err)
	} else {
		t.Logf("stale append refused: %v", err)
	}
	if err := second.proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.proc.Exited():
	case <-time.After(e2eWait):
		t.Fatalf("%s did not step down after SIGCONT", second.id)
	}
	var exit *exec.ExitError
	if err := second.proc.ExitErr(); !errors.As(err, &exit) || exit.ExitCode() != exitLeaseLost {
		t.Errorf("%s exited with %v, want status %d", second.id, err, exitLeaseLost)
	}
	if err := second.proc.WaitLog(e2eWait, second.proc.LogPath(), "lost the front lease"); err != nil {
		t.Errorf("%s's log: %v", second.id, err)
	}
	chat(30, 40)

	// SIGTERM releases the lease: the standby left (first was killed,
	// second stepped down: none) — restart one, then stop the active one.
	spare := startClusterNode(t, bin, cfg, "gw-d")
	waitFor(t, "gw-d to register", func() bool {
		return slices.ContainsFunc(clusterStatus(t, rc).Instances, func(i cluster.Instance) bool { return i.ID == spare.id })
	})
	termed := time.Now()
	if err := third.proc.Stop(e2eWait); err != nil {
		t.Fatal(err)
	}
	if err := third.proc.ExitErr(); err != nil {
		t.Errorf("%s after SIGTERM: %v, want a clean exit", third.id, err)
	}
	if err := third.proc.WaitLog(e2eWait, third.proc.LogPath(), "released the front lease"); err != nil {
		t.Errorf("%s's log: %v", third.id, err)
	}
	waitFront(t, rc, first.id, second.id, third.id)
	waitComponent(t, u, true)
	t.Logf("takeover after SIGTERM of %s: %s holds the link after %v", third.id, spare.id, time.Since(termed).Round(time.Millisecond))
	chat(40, 50)
	r.readAvailable(t, u)

	// One link per term: the stopped process, once woken, did not connect
	// again (it asks Redis first, and Prosody's kick_old would have let it
	// replace the active process's link).
	logData, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(logData), "External component successfully authenticated"); n != 4 {
		t.Errorf("Prosody authenticated the component %d times, want 4 (one per active process)", n)
	}

	// The counts: every message echoed; copies only with one origin-id.
	origins := map[string]map[string]bool{}
	copies := 0
	for _, e := range r.echoes {
		if origins[e.body] == nil {
			origins[e.body] = map[string]bool{}
		} else {
			copies++
		}
		origins[e.body][e.originID] = true
	}
	for _, m := range append([]string{"KS00"}, func() []string {
		var all []string
		for i := range 50 {
			all = append(all, k(i))
		}
		return all
	}()...) {
		switch o := origins[m]; {
		case len(o) == 0:
			t.Errorf("%s was never echoed", m)
		case len(o) > 1:
			t.Errorf("%s reached the platform %d times (origin-ids %v)", m, len(o), o)
		}
	}
	t.Logf("51 messages (11 of them replayed from the killed process's intake): %d echoes (%d copies replayed with their original origin-id), %d sent again after a bounce while no process held the link", len(r.echoes), copies, resent)
}

// clusterOnProsody starts a Prosody with the end-to-end tests' component
// and writes a gateway configuration for it on the Redis store at
// redisAddr (database 0, the component's domain set); rc is a client of
// that Redis, closed at cleanup.
func clusterOnProsody(t *testing.T, redisAddr string) (rc *redis.Client, p *xmpptest.Prosody, cfg string) {
	t.Helper()
	rc = redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rc.Close() })
	p = xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: loadSecret}},
	})
	cfg = gatewayConfig(t, idleStore(t, config.BackendRedis, redisAddr, 0), p.ComponentAddr, `""`, false)
	editFile(t, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)
	return rc, p, cfg
}
