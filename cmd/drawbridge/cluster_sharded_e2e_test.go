package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
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
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// steadyMax bounds the messages of the steady sender of the rolling
// restart (100 ms apart: far more than the restart takes).
const steadyMax = 3000

// shardedAccounts is how many idle linked accounts the sharded cluster
// test spreads over its workers (issue 18: 300).
const shardedAccounts = 300

// startShardNode runs the binary as one process of a sharded cluster.
func startShardNode(t testing.TB, bin, cfg, id string) *clusterNode {
	t.Helper()
	return startClusterNodeWith(t, bin, cfg, id, "  mode: sharded\n")
}

// seedShardOwners writes n linked sandbox accounts shaped like t, owned
// by s000@… on Prosody's domain (no such Prosody user: what the gateway
// sends them is dropped there).
func seedShardOwners(tb testing.TB, cfg config.StoreConfig, t idleTemplate, n int) []string {
	s := openIdleStore(tb, cfg)
	defer s.Close()
	ctx := context.Background()
	owners := make([]string, n)
	for i := range n {
		now := time.Now()
		a := t.account
		a.Owner = ids.Owner(fmt.Sprintf("s%03d@%s", i, e2eDomain))
		a.ID = ids.AccountID(fmt.Sprintf("+1557%07d", i))
		a.Registered, a.Updated = now, now
		if err := s.PutAccount(ctx, a); err != nil {
			tb.Fatal(err)
		}
		if err := s.SetKV(ctx, a.Platform, a.ID, idleTokenK, fmt.Appendf(nil, "sbdev-shard-%d", i)); err != nil {
			tb.Fatal(err)
		}
		owners[i] = string(a.Owner)
	}
	return owners
}

// ownedOnce waits until the owner leases in Redis are held by exactly the
// processes live (each at least one), total owners in all, and each
// process's drawbridge_cluster_owners says as many as Redis counts for
// it: every owner served by exactly one process.
func ownedOnce(t testing.TB, rc redis.UniversalClient, live map[string]*clusterNode, total int) map[string]int {
	t.Helper()
	var counts map[string]int
	waitFor(t, fmt.Sprintf("%d owners held by %d processes, each as its metrics say", total, len(live)), func() bool {
		byWorker, err := cluster.OwnersByWorker(t.Context(), rc, redisstore.DefaultKeyPrefix)
		if err != nil {
			return false
		}
		sum := 0
		for id, n := range byWorker {
			if live[id] == nil || n == 0 {
				return false
			}
			sum += n
		}
		if sum != total || len(byWorker) != len(live) {
			return false
		}
		for id, n := range live {
			m, err := scrapeMetrics("http://" + n.metrics + "/metrics")
			if err != nil || int(m["drawbridge_cluster_owners"]) != byWorker[id] {
				return false
			}
		}
		counts = byWorker
		return true
	})
	return counts
}

// holderOf is the process holding owner's lease ("" for none).
func holderOf(t testing.TB, rc redis.UniversalClient, owner string) string {
	t.Helper()
	st, err := cluster.NewOwnerLease(rc, redisstore.DefaultKeyPrefix, owner).State(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st.Holder
}

// inboxAdded is how many entries were ever posted to owner's inbox.
func inboxAdded(t testing.TB, rc redis.UniversalClient, owner string) int64 {
	t.Helper()
	key := cluster.NewOwnerInbox(rc, redisstore.DefaultKeyPrefix, owner).Key()
	info, err := rc.XInfoStream(t.Context(), key).Result()
	if err != nil {
		return 0 // not created yet
	}
	return info.EntriesAdded
}

// inboxLeft is the data of the entries still in owner's inbox (posted
// and not acknowledged).
func inboxLeft(t testing.TB, rc redis.UniversalClient, owner string) []string {
	t.Helper()
	key := cluster.NewOwnerInbox(rc, redisstore.DefaultKeyPrefix, owner).Key()
	msgs, err := rc.XRange(t.Context(), key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		for _, v := range m.Values {
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}

// userOn picks a name from prefix0, prefix1, … whose bare JID rendezvous
// hashing gives to want among workers.
func userOn(t testing.TB, prefix, want string, workers []string) string {
	t.Helper()
	for i := range 1000 {
		name := fmt.Sprintf("%s%d", prefix, i)
		if cluster.Preferred(name+"@"+e2eDomain, workers) == want {
			return name
		}
	}
	t.Fatalf("no %s… name goes to %s", prefix, want)
	return ""
}

// shardChat is one user's conversation with the Echo Bot in the sharded
// test: messages K000…, each with its origin-id, and the echoes read.
type shardChat struct {
	t      testing.TB
	u      *user
	r      *echoReader
	resent int
	// again holds the messages sent again after a bounce: the client
	// put them after the others, so they are out of the order check.
	again map[string]bool
	// next is the number of the next message to send.
	next int
}

func newShardChat(t testing.TB, u *user) *shardChat {
	return &shardChat{t: t, u: u, r: &echoReader{bounced: map[string]string{}}}
}

func shardKey(i int) string { return fmt.Sprintf("K%03d", i) }

func (c *shardChat) send(i int) {
	k := shardKey(i)
	c.u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body><origin-id xmlns='urn:xmpp:sid:0' id='o-%s'/></message>`, echoJID, k, k, k))
}

// settle waits for i's echo; a message Prosody bounced (no front held
// the link) is sent again once the component answers, as a client would.
func (c *shardChat) settle(i int) {
	c.t.Helper()
	k := shardKey(i)
	for range 10 {
		c.r.readUntil(c.t, c.u, func() bool { return c.r.has(k) || c.r.bounced[k] != "" })
		if c.r.has(k) {
			return
		}
		c.resent++
		if c.again == nil {
			c.again = map[string]bool{}
		}
		c.again[k] = true
		waitComponent(c.t, c.u, true)
		delete(c.r.bounced, k)
		c.send(i)
	}
	c.t.Fatalf("%s bounced ten times", k)
}

// chat sends from..to-1, each once the previous one was echoed.
func (c *shardChat) chat(from, to int) {
	c.t.Helper()
	for i := from; i < to; i++ {
		c.send(i)
		c.settle(i)
	}
	c.next = max(c.next, to)
}

// check asserts the conversation's counts for messages 0..n-1: each
// echoed; the first echoes in the order sent (but for those the client
// sent again after a bounce, which it put after the others); copies
// only of the original (same origin-id as the first).
func (c *shardChat) check(n int) {
	c.t.Helper()
	var order []string
	origins := map[string]map[string]bool{}
	copies := 0
	for _, e := range c.r.echoes {
		if origins[e.body] == nil {
			origins[e.body] = map[string]bool{}
			if !c.again[e.body] {
				order = append(order, e.body)
			}
		} else {
			copies++
		}
		origins[e.body][e.originID] = true
	}
	var want []string
	for i := range n {
		k := shardKey(i)
		if !c.again[k] {
			want = append(want, k)
		}
		switch o := origins[k]; {
		case len(o) == 0:
			c.t.Errorf("%s: %s was never echoed", c.u.bare, k)
		case len(o) > 1:
			c.t.Errorf("%s: %s reached the platform as %d different messages (origin-ids %v)", c.u.bare, k, len(o), o)
		}
	}
	if !slices.Equal(order, want) {
		c.t.Errorf("%s: first echoes in the order %v, want %v", c.u.bare, order, want)
	}
	c.t.Logf("%s: %d messages, %d echoes (%d copies with the original's origin-id), %d sent again after a bounce", c.u.bare, n, len(c.r.echoes), copies, c.resent)
}

// burst sends from..to-1 at once and waits until the front posted them
// all to the sender's inbox.
func (c *shardChat) burst(rc redis.UniversalClient, from, to int) {
	c.t.Helper()
	before := inboxAdded(c.t, rc, c.u.bare)
	for i := from; i < to; i++ {
		c.send(i)
	}
	waitFor(c.t, fmt.Sprintf("%d messages of %s routed to its inbox", to-from, c.u.bare), func() bool {
		return inboxAdded(c.t, rc, c.u.bare)-before >= int64(to-from)
	})
	c.next = max(c.next, to)
}

// TestShardedCluster runs gateway processes in sharded mode on one Redis
// (append-only file) and one Prosody, with 300 idle linked sandbox
// accounts and three real users chatting with the Echo Bot. After every
// step each owner is held by exactly one live process: Redis's owner
// leases and each process's drawbridge_cluster_owners agree.
//
//   - SIGKILL of the front right after a burst of 20 messages was routed:
//     another process takes the link within the lease TTL; the worker
//     handles the burst, the new front writes the echoes that waited in
//     the outbox; the dead process's owners move to the others.
//   - A fourth process joins and takes its share (rendezvous hashing).
//   - SIGKILL of a worker holding a user's owner while it waits for a
//     file (the burst's first message) with 19 messages behind it: none
//     acknowledged; the next holder handles all 20, in order.
//   - SIGSTOP of a worker past its TTL: the others take its owners; a
//     journal append with one of its old owner tokens is refused by
//     Redis; after SIGCONT it sees its leases lost and takes its share
//     again.
//   - Redis restarts (SIGTERM, append-only file): the processes carry on.
//   - Rolling restart under steady load (one user sends every 100 ms):
//     each process gets a successor, then SIGTERM (it hands its owners
//     over, and the link if it is the front).
//
// Counts, per user: every message echoed, the first echoes in the order
// sent, copies only with the original's origin-id (a copy is an echo
// written again because its confirmation was lost with a front).
func TestShardedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody and redis-server")
	}
	bin := buildGateway(t)
	rp := storetest.StartRedisProcess(t, "--appendonly", "yes", "--appendfsync", "always")
	redisAddr := rp.Addr()
	rc := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rc.Close() })
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: loadSecret}},
	})
	st := idleStore(t, config.BackendRedis, redisAddr, 0)
	cfg := gatewayConfig(t, st, p.ComponentAddr, `""`, false)
	editFile(t, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)
	editFile(t, cfg, "level: warn", "level: info")
	files := newStuckFiles(t)
	editFile(t, cfg, "  server_upload: false\n", "  server_upload: false\n  allow_private_fetch: true\n")
	seedShardOwners(t, st, linkTemplate(t, bin), shardedAccounts)

	// gw-a first, so that it is the front; then the two others.
	nodes := map[string]*clusterNode{"gw-a": startShardNode(t, bin, cfg, "gw-a")}
	if front := waitFront(t, rc); front.Holder != "gw-a" {
		t.Fatalf("front %+v, want gw-a", front)
	}
	for _, id := range []string{"gw-b", "gw-c"} {
		nodes[id] = startShardNode(t, bin, cfg, id)
	}
	counts := ownedOnce(t, rc, nodes, shardedAccounts)
	t.Logf("%d owners over three processes: %v", shardedAccounts, counts)

	// Users whose owners rendezvous hashing gives to gw-b and gw-c (not
	// the front), and later one to gw-d.
	e := &e2e{t: t, prosody: p}
	abc := []string{"gw-a", "gw-b", "gw-c"}
	ub := e.user(userOn(t, "bee", "gw-b", abc))
	uc := e.user(userOn(t, "sea", "gw-c", abc))
	waitComponent(t, ub, true)
	linkPhone(t, ub, "+15557661001")
	linkPhone(t, uc, "+15557661002")
	waitFor(t, "the users' owners held by gw-b and gw-c", func() bool {
		return holderOf(t, rc, ub.bare) == "gw-b" && holderOf(t, rc, uc.bare) == "gw-c"
	})
	cb, cc := newShardChat(t, ub), newShardChat(t, uc)
	cb.chat(0, 5)
	cc.chat(0, 5)

	// SIGKILL the front once a burst of 20 was routed to gw-b.
	cb.burst(rc, 5, 25)
	killed := time.Now()
	if err := nodes["gw-a"].proc.Kill(); err != nil {
		t.Fatal(err)
	}
	delete(nodes, "gw-a")
	front := waitFront(t, rc, "gw-a")
	waitComponent(t, uc, true)
	t.Logf("takeover after SIGKILL of the front gw-a: %s holds the link after %v (lease TTL %v)", front.Holder, time.Since(killed).Round(time.Millisecond), clusterLeaseTTL)
	cb.r.readUntil(t, ub, func() bool {
		for i := 5; i < 25; i++ {
			if !cb.r.has(shardKey(i)) {
				return false
			}
		}
		return true
	})
	cc.chat(5, 10)
	cb.chat(25, 30)
	counts = ownedOnce(t, rc, nodes, shardedAccounts+2)
	t.Logf("after the front's death: %v", counts)

	// A fourth process joins and takes its share; a user of its own.
	nodes["gw-d"] = startShardNode(t, bin, cfg, "gw-d")
	counts = ownedOnce(t, rc, nodes, shardedAccounts+2)
	t.Logf("after gw-d joined: %v", counts)
	ud := e.user(userOn(t, "dee", "gw-d", []string{"gw-b", "gw-c", "gw-d"}))
	linkPhone(t, ud, "+15557661003")
	waitFor(t, "the new user's owner held by gw-d", func() bool { return holderOf(t, rc, ud.bare) == "gw-d" })
	cd := newShardChat(t, ud)
	cd.chat(0, 5)

	// SIGKILL gw-d (a worker, not the front) mid-conversation: the
	// burst's first message links a file the file server does not serve
	// yet, so gw-d holds it (its download) and the 19 behind it, read and
	// not acknowledged. Nothing of the burst reached gw-d's platform: the
	// next holder handles all 20, in order.
	cd.u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body><x xmlns='jabber:x:oob'><url>%s/file.txt</url></x></message>`, echoJID, shardKey(5), shardKey(5), files.URL))
	select {
	case <-files.fetched:
	case <-time.After(e2eWait):
		t.Fatal("gw-d did not fetch the stuck message's file")
	}
	cd.burst(rc, 6, 25)
	if err := nodes["gw-d"].proc.Kill(); err != nil {
		t.Fatal(err)
	}
	delete(nodes, "gw-d")
	if left := inboxLeft(t, rc, ud.bare); len(left) < 20 {
		t.Errorf("%d entries left in the inbox after gw-d's death, want the burst's 20 (none acknowledged)", len(left))
	}
	files.release()
	waitFor(t, "the new user's owner held by another process", func() bool {
		h := holderOf(t, rc, ud.bare)
		return h != "" && h != "gw-d"
	})
	cd.r.readUntil(t, ud, func() bool {
		for i := 5; i < 25; i++ {
			if !cd.r.has(shardKey(i)) {
				return false
			}
		}
		return true
	})
	cd.chat(25, 30)
	counts = ownedOnce(t, rc, nodes, shardedAccounts+3)
	t.Logf("after gw-d's death: %v", counts)

	// SIGSTOP a worker that is not the front past its leases' TTL: the
	// others take its owners; a write with one of its old owner tokens is
	// refused by Redis; on SIGCONT it finds its leases lost, and takes its
	// share again.
	nodes["gw-e"] = startShardNode(t, bin, cfg, "gw-e")
	counts = ownedOnce(t, rc, nodes, shardedAccounts+3)
	front = waitFront(t, rc)
	stopped := "gw-e"
	if front.Holder == stopped {
		t.Fatalf("gw-e, just started, holds the front lease %+v", front)
	}
	var staleOwner string
	var staleToken int64
	for i := range shardedAccounts {
		o := fmt.Sprintf("s%03d@%s", i, e2eDomain)
		if st, err := cluster.NewOwnerLease(rc, redisstore.DefaultKeyPrefix, o).State(t.Context()); err == nil && st.Holder == stopped {
			staleOwner, staleToken = o, st.Token
			break
		}
	}
	if staleOwner == "" {
		t.Fatalf("%s holds no owner (%v)", stopped, counts)
	}
	if err := nodes[stopped].proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	live := maps.Clone(nodes)
	delete(live, stopped)
	counts = ownedOnce(t, rc, live, shardedAccounts+3)
	t.Logf("with %s stopped: %v", stopped, counts)
	stale := redisstore.New(redis.NewClient(&redis.Options{Addr: redisAddr}), redisstore.Options{})
	t.Cleanup(func() { stale.Close() })
	staleFence := cluster.Fence{Key: cluster.NewOwnerLease(rc, redisstore.DefaultKeyPrefix, staleOwner).Key(), Token: staleToken}
	stale.SetOwnerFences(func(ids.Owner) (cluster.Fence, bool) { return staleFence, true })
	if _, err := stale.Enqueue(t.Context(), ids.Owner(staleOwner), []byte("stale")); !errors.Is(err, store.ErrFenced) {
		t.Errorf("journal append for %s with %s's old token %d: %v, want store.ErrFenced", staleOwner, stopped, staleToken, err)
	}
	if err := nodes[stopped].proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := nodes[stopped].proc.WaitLog(e2eWait, nodes[stopped].proc.LogPath(), "lost an owner lease"); err != nil {
		t.Errorf("%s's log: %v", stopped, err)
	}
	counts = ownedOnce(t, rc, nodes, shardedAccounts+3)
	t.Logf("after SIGCONT of %s: %v", stopped, counts)
	for _, c := range []*shardChat{cb, cc, cd} {
		c.chat(c.next, c.next+3)
	}

	// Redis restarts (append-only file): the processes carry on, each
	// owner still held once.
	rp.Stop()
	rp.Restart()
	counts = ownedOnce(t, rc, nodes, shardedAccounts+3)
	t.Logf("after a Redis restart: %v", counts)
	for _, c := range []*shardChat{cb, cc, cd} {
		c.chat(c.next, c.next+3)
	}

	// Rolling restart under steady load: each process in turn gets a
	// successor, then SIGTERM (it hands its owners over, and the link if
	// it is the front), while one user sends a message every 100 ms
	// throughout and the two others chat between the steps.
	steadyFrom := cc.next
	steadyStop := make(chan struct{})
	steadyDone := make(chan error, 1)
	var steadySent atomic.Int64
	steadySent.Store(int64(steadyFrom))
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := steadyFrom; i < steadyFrom+steadyMax; i++ {
			select {
			case <-steadyStop:
				steadyDone <- nil
				return
			case <-tick.C:
			}
			k := shardKey(i)
			if err := uc.c.SendRaw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, k, k)); err != nil {
				steadyDone <- err
				return
			}
			steadySent.Store(int64(i + 1))
		}
		steadyDone <- fmt.Errorf("the steady sender reached its bound of %d messages", steadyMax)
	}()
	for _, old := range slices.Sorted(maps.Keys(nodes)) {
		succ := old + "-next"
		nodes[succ] = startShardNode(t, bin, cfg, succ)
		ownedOnce(t, rc, nodes, shardedAccounts+3)
		if err := nodes[old].proc.Stop(e2eWait); err != nil {
			t.Fatal(err)
		}
		if err := nodes[old].proc.ExitErr(); err != nil {
			t.Errorf("%s after SIGTERM: %v, want a clean exit", old, err)
		}
		delete(nodes, old)
		counts = ownedOnce(t, rc, nodes, shardedAccounts+3)
		t.Logf("%s replaced by %s: %v", old, succ, counts)
		waitComponent(t, ub, true)
		for _, c := range []*shardChat{cb, cd} {
			c.chat(c.next, c.next+2)
		}
	}
	close(steadyStop)
	if err := <-steadyDone; err != nil {
		t.Fatal(err)
	}
	// Each steady message echoed, or bounced while the link moved and
	// sent again, as a client would.
	cc.next = int(steadySent.Load())
	for i := steadyFrom; i < cc.next; i++ {
		cc.settle(i)
	}
	t.Logf("%d messages sent every 100 ms during the rolling restart", cc.next-steadyFrom)

	for _, c := range []*shardChat{cb, cc, cd} {
		c.r.readAvailable(t, c.u)
		c.check(c.next)
	}
}

// stuckFiles is a file server on loopback that answers once released:
// a message that links to it holds its chat up until then.
type stuckFiles struct {
	URL     string
	fetched chan struct{}
	release func()
}

func newStuckFiles(t testing.TB) *stuckFiles {
	released := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-released:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("a file"))
	}))
	var once sync.Once
	f := &stuckFiles{fetched: make(chan struct{}, 16), release: func() { once.Do(func() { close(released) }) }}
	t.Cleanup(srv.Close)
	t.Cleanup(f.release)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			select {
			case f.fetched <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	f.URL = srv.URL
	return f
}

// TestShardedLinksEachOnEjabberd runs three sharded processes with
// cluster.links: each on ejabberd, which accepts several connections for
// one component domain and spreads the stanzas over them: every process
// holds its own link, routes what it reads to the owners' inboxes, and
// writes what its owners send on its own link. Three users chat with the
// Echo Bot; every link carries some of their stanzas; after SIGKILL of
// one process (at a quiet moment: ejabberd drops what it routed to the
// dead connection, as with any component's crash) its owners move and the
// conversations go on. Counts as in TestShardedCluster.
func TestShardedLinksEachOnEjabberd(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs ejabberd and redis-server")
	}
	const accounts = 30
	bin := buildGateway(t)
	redisAddr := storetest.StartRedis(t)
	rc := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rc.Close() })
	ej := xmpptest.StartEjabberd(t, xmpptest.EjabberdOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: loadSecret}},
	})
	st := idleStore(t, config.BackendRedis, redisAddr, 0)
	cfg := gatewayConfig(t, st, ej.ComponentAddr, `""`, false)
	editFile(t, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)
	editFile(t, cfg, "level: warn", "level: info")
	seedShardOwners(t, st, linkTemplate(t, bin), accounts)

	nodes := map[string]*clusterNode{}
	for _, id := range []string{"gw-a", "gw-b", "gw-c"} {
		nodes[id] = startClusterNodeWith(t, bin, cfg, id, "  mode: sharded\n  links: each\n")
	}
	ownedOnce(t, rc, nodes, accounts)
	waitFor(t, "three links up", func() bool {
		for _, n := range nodes {
			m, err := scrapeMetrics("http://" + n.metrics + "/metrics")
			if err != nil || m["drawbridge_xmpp_connected"] != 1 {
				return false
			}
		}
		return true
	})
	stanzasIn := func() map[string]float64 {
		out := map[string]float64{}
		for id, n := range nodes {
			m, err := scrapeMetrics("http://" + n.metrics + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			out[id] = m[`drawbridge_xmpp_stanzas_total{direction="in"}`]
		}
		return out
	}
	before := stanzasIn()

	var chats []*shardChat
	for i, name := range []string{"ann", "ben", "cat"} {
		ej.Register(t, name, "pw-"+name)
		u := dialUser(t, &e2e{t: t}, ej.C2SAddr, name+"@"+e2eDomain, "pw-"+name)
		if i == 0 {
			waitComponent(t, u, true)
		}
		linkPhone(t, u, fmt.Sprintf("+1555766200%d", i))
		chats = append(chats, newShardChat(t, u))
	}
	for _, c := range chats {
		c.chat(0, 10)
	}
	after := stanzasIn()
	for id := range nodes {
		if after[id] <= before[id] {
			t.Errorf("%s's link read no stanza while the users chatted (%v → %v): ejabberd did not spread them", id, before[id], after[id])
		}
	}
	t.Logf("stanzas read per link while three users chatted: before %v, after %v", before, after)

	if err := nodes["gw-b"].proc.Kill(); err != nil {
		t.Fatal(err)
	}
	delete(nodes, "gw-b")
	counts := ownedOnce(t, rc, nodes, accounts+3)
	t.Logf("after SIGKILL of gw-b: %v", counts)
	for _, c := range chats {
		c.chat(10, 20)
	}
	for _, c := range chats {
		c.r.readAvailable(t, c.u)
		c.check(20)
	}
}
