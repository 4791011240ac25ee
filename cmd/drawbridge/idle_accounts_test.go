package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// The knob of BenchmarkIdleAccounts (go test -bench IdleAccounts
// ./cmd/drawbridge -args -idle.accounts 1000).
var idleAccounts = flag.Int("idle.accounts", 10000, "linked sandbox accounts in the store at start-up (BenchmarkIdleAccounts)")

// idleProfile, if set, is a folder where BenchmarkIdleAccounts writes, for
// each backend, a CPU profile of the start-up with accounts (from the
// moment the metrics endpoint answers, for idle.cpu) and a heap profile
// once it settled (metrics.profiling: go tool pprof -sample_index=inuse_space).
var (
	idleProfile = flag.String("idle.profile", "", "folder for CPU and heap profiles of the gateway (BenchmarkIdleAccounts)")
	idleCPU     = flag.Duration("idle.cpu", 15*time.Second, "length of the start-up CPU profile (idle.profile)")
)

const (
	idleWait   = 120 * time.Second
	idleQuiet  = time.Second            // no relayed item for this long: start-up traffic is over
	idleStall  = 15 * time.Second       // no session connected for this long and no handshake: start-up is stuck
	idlePoll   = 100 * time.Millisecond // metrics scrape interval while waiting (a scrape lists every session)
	idleTokenK = "device_token"         // the sandbox adapter's key (adapters/sandbox kvDeviceToken)
)

// idleTemplate is what a real link through the chat/ad-hoc flow left in
// the store for one account: the account record, its contacts and the
// sandbox adapter's device token. BenchmarkIdleAccounts copies it.
type idleTemplate struct {
	account  store.Account
	contacts []store.Contact
	token    []byte
}

// idleResult is one start of the binary.
type idleResult struct {
	accounts    int
	handshake   time.Duration // process start to the XEP-0114 handshake
	connected   time.Duration // process start to every session reported connected
	cpu         time.Duration // CPU time (user+system) the gateway used until then
	settled     time.Duration // process start to the last relayed item of the start-up traffic
	rssMiB      float64
	heapAlloc   float64 // go_memstats_heap_alloc_bytes, MiB
	heapLive    float64 // go_memstats_next_gc_bytes/(1+GOGC/100): the live heap at the last GC, MiB
	stackMiB    float64 // go_memstats_stack_inuse_bytes, MiB
	goroutines  float64
	stanzasRead int64 // stanzas the fake server received
}

// BenchmarkIdleAccounts measures memory per linked idle account and the
// start-up time with many accounts. It links one sandbox account for real
// (the ad-hoc command through the fake XEP-0114 server of
// load_server_test.go) and reads back what that stored; it writes
// -idle.accounts copies of it (other owners, other phone numbers, own
// device tokens) straight into the store with the store API, then starts
// `drawbridge run` with the metrics endpoint on and measures the time from
// process start until drawbridge_sessions{state="connected"} counts every
// account, and until the start-up traffic (account states, contacts,
// presences) is over. Memory: resident set, Go heap and goroutines once
// settled, against the same binary started on an empty store; the
// difference divided by the accounts is the cost of one idle account.
func BenchmarkIdleAccounts(b *testing.B) {
	if testing.Short() {
		b.Skip("start-up test: builds and runs the gateway binary")
	}
	bin := filepath.Join(b.TempDir(), "drawbridge")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	tmpl := linkTemplate(b, bin)
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis} {
		b.Run(backend, func(b *testing.B) {
			if _, err := exec.LookPath("redis-server"); backend == config.BackendRedis && err != nil {
				b.Skip("redis-server is not installed")
			}
			var (
				empty, full idleResult
				cmds        map[string]int64 // redis commands run for the start with accounts
			)
			for b.Loop() {
				redis := ""
				if backend == config.BackendRedis {
					redis = storetest.StartRedis(b)
				}
				empty = runIdle(b, bin, idleStore(b, backend, redis, 1), 0, "")
				st := idleStore(b, backend, redis, 2)
				populate(b, st, tmpl, *idleAccounts)
				prof := ""
				if *idleProfile != "" {
					prof = filepath.Join(*idleProfile, backend)
				}
				var before map[string]int64
				if redis != "" {
					before = parseCommandStats(redisInfo(b, redis, "commandstats"))
				}
				full = runIdle(b, bin, st, *idleAccounts, prof)
				if redis != "" {
					cmds = parseCommandStats(redisInfo(b, redis, "commandstats"))
					for name, n := range before {
						cmds[name] -= n
					}
				}
			}
			n := float64(full.accounts)
			perAcct := func(a, b float64) float64 { return (a - b) * (1 << 20) / n }
			b.ReportMetric(full.connected.Seconds(), "s-all-connected")
			b.ReportMetric(full.cpu.Seconds(), "cpu-s-connected")
			b.ReportMetric(full.settled.Seconds(), "s-settled")
			b.ReportMetric(perAcct(full.rssMiB, empty.rssMiB), "rss-B/account")
			b.ReportMetric(perAcct(full.heapLive, empty.heapLive), "live-heap-B/account")
			b.ReportMetric(full.rssMiB, "rss-MiB")
			if cmds != nil {
				// The store's reads and writes of the start-up (until the
				// start-up traffic was over): contacts are HGET (one) and
				// HGETALL (all of an account's).
				var all int64
				names := slices.Sorted(maps.Keys(cmds))
				parts := make([]string, 0, len(names))
				for _, name := range names {
					if cmds[name] > 0 {
						all += cmds[name]
						parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(cmds[name])/n))
					}
				}
				b.ReportMetric(float64(all)/n, "redis-cmds/account")
				b.ReportMetric(float64(cmds["hget"]+cmds["hgetall"])/n, "hget+hgetall/account")
				b.Logf("redis commands per account until settled: %s", strings.Join(parts, ", "))
			}
			b.Logf("%s, %d accounts: XEP-0114 handshake after %v, all sessions connected after %v (%v of CPU), start-up traffic over after %v (%d stanzas to the server); RSS %.1f MiB (empty store: %.1f MiB, handshake after %v), Go heap alloc %.1f MiB (empty %.1f), live heap at last GC ≈ %.1f MiB (empty %.1f), %.0f goroutines (empty %.0f)",
				backend, full.accounts, full.handshake.Round(time.Millisecond), full.connected.Round(time.Millisecond), full.cpu, full.settled.Round(time.Millisecond), full.stanzasRead,
				full.rssMiB, empty.rssMiB, empty.handshake.Round(time.Millisecond), full.heapAlloc, empty.heapAlloc, full.heapLive, empty.heapLive, full.goroutines, empty.goroutines)
			b.Logf("%s per idle account: %.0f B resident, %.0f B live heap, %.0f B heap alloc, %.0f B goroutine stacks, %.2f goroutines",
				backend, perAcct(full.rssMiB, empty.rssMiB), perAcct(full.heapLive, empty.heapLive), perAcct(full.heapAlloc, empty.heapAlloc),
				perAcct(full.stackMiB, empty.stackMiB), (full.goroutines-empty.goroutines)/n)
		})
	}
}

// idleStore returns the store configuration of one run: a new sqlite file,
// or database db of the redis server at redis.
func idleStore(tb testing.TB, backend, redis string, db int) config.StoreConfig {
	st := config.Default().Store
	st.Backend = backend
	if backend == config.BackendRedis {
		st.Redis.URL = fmt.Sprintf("redis://%s/%d", redis, db)
	} else {
		st.SQLite.Path = filepath.Join(tb.TempDir(), "drawbridge.db")
	}
	return st
}

// gatewayConfig writes the configuration of the binary in the load,
// idle-account and fault tests: the Go XEP-0114 server (or Prosody) at
// server, the given store, rate limits off, the API and file host off,
// the metrics endpoint on metrics (`""`: off), with or without profiling.
func gatewayConfig(tb testing.TB, st config.StoreConfig, server, metrics string, profiling bool) string {
	storeYAML := "store:\n  backend: sqlite\n  sqlite:\n    path: " + st.SQLite.Path + "\n"
	if st.Backend == config.BackendRedis {
		storeYAML = "store:\n  backend: redis\n  redis:\n    url: " + st.Redis.URL + "\n"
	}
	cfg := `component:
  jid: ` + loadDomain + `
  server: ` + server + `
  secret: ` + loadSecret + `
` + storeYAML + `log:
  level: warn
api:
  listen: ""
metrics:
  listen: ` + metrics + `
  profiling: ` + strconv.FormatBool(profiling) + `
files:
  listen: ""
  server_upload: false
limits:
  messages:
    per_jid: 0
    global: 0
platforms:
  sandbox:
    enabled: true
    auto_confirm: true
`
	path := filepath.Join(tb.TempDir(), "drawbridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// linkTemplate links one sandbox account for real and returns what the
// gateway stored for it.
func linkTemplate(tb testing.TB, bin string) idleTemplate {
	st := idleStore(tb, config.BackendSQLite, "", 0)
	l := &loadRun{tb: tb, setup: make(chan loadStanza, 1024)}
	// The session reports its contacts (the sandbox's seeded users) right
	// after connecting; the hub stores each one, then the component asks
	// the user for a subscription to it. A subscription request from
	// every seeded user means every contact is in the store.
	p := sandbox.NewPlatform(sandbox.Options{})
	pending := map[string]bool{}
	for _, u := range p.Users() {
		pending[string(u.ID)] = true
	}
	p.Close()
	var mu sync.Mutex
	contactsStored := make(chan struct{})
	l.srv = startLoadServer(tb, loadDomain, loadSecret, func(s loadStanza) {
		if s.XMLName.Local == "presence" && s.Type == "subscribe" {
			user, _, _ := strings.Cut(s.From, "@")
			mu.Lock()
			if pending[user] {
				delete(pending, user)
				if len(pending) == 0 {
					close(contactsStored)
				}
			}
			mu.Unlock()
		}
		l.onStanza(s)
	})
	gw := runGateway(tb, bin, gatewayConfig(tb, st, l.srv.addr(), `""`, false))
	select {
	case <-l.srv.ready:
	case err := <-l.srv.done:
		tb.Fatalf("fake server: %v", err)
	case <-time.After(loadWait):
		tb.Fatal("the gateway did not connect")
	}
	l.link(0)
	select {
	case <-contactsStored:
	case err := <-l.srv.done:
		tb.Fatalf("fake server: %v", err)
	case <-time.After(loadWait):
		mu.Lock()
		missing := slices.Sorted(maps.Keys(pending))
		mu.Unlock()
		tb.Fatalf("no subscription request from the contacts %v within %v: their contact records may not be stored", missing, loadWait)
	}
	gw.stop()

	ctx := context.Background()
	s := openIdleStore(tb, st)
	defer s.Close()
	accts, err := s.ListAccounts(ctx)
	if err != nil || len(accts) != 1 || accts[0].ID == "" {
		tb.Fatalf("after one link the store holds %+v (%v)", accts, err)
	}
	t := idleTemplate{account: accts[0]}
	if t.contacts, err = s.ListContacts(ctx, t.account.Owner, t.account.Platform); err != nil {
		tb.Fatal(err)
	}
	if t.token, err = s.GetKV(ctx, t.account.Platform, t.account.ID, idleTokenK); err != nil {
		tb.Fatalf("the sandbox's device token: %v", err)
	}
	names := make([]string, 0, len(t.contacts))
	for _, c := range t.contacts {
		names = append(names, fmt.Sprintf("%s %q subscribed=%v", c.User, c.Name, c.Subscribed))
	}
	tb.Logf("one real link stored: account %s → %s %s state %s; KV %s=%q; %d contacts: %s",
		t.account.Owner, t.account.Platform, t.account.ID, t.account.State, idleTokenK, t.token, len(t.contacts), strings.Join(names, ", "))
	return t
}

func openIdleStore(tb testing.TB, cfg config.StoreConfig) store.Store {
	s, err := openStore(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if s, err = sealStore(s, cfg); err != nil {
		tb.Fatal(err)
	}
	return s
}

// populate writes n linked accounts shaped like t: owner i%05d@load.test,
// phone +1556NNNNNNN, device token sbdev-idle-N, t's contacts.
func populate(tb testing.TB, cfg config.StoreConfig, t idleTemplate, n int) {
	s := openIdleStore(tb, cfg)
	defer s.Close()
	ctx := context.Background()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := putIdleAccount(ctx, s, t, i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("wrote %d accounts (%d contacts each) with the store API in %v", n, len(t.contacts), time.Since(start).Round(time.Millisecond))
}

func putIdleAccount(ctx context.Context, s store.Store, t idleTemplate, i int) error {
	now := time.Now()
	a := t.account
	a.Owner = ids.Owner(fmt.Sprintf("i%05d@load.test", i))
	a.ID = ids.AccountID(fmt.Sprintf("+1556%07d", i))
	a.Registered, a.Updated = now, now
	if err := s.PutAccount(ctx, a); err != nil {
		return err
	}
	if err := s.SetKV(ctx, a.Platform, a.ID, idleTokenK, fmt.Appendf(nil, "sbdev-idle-%d", i)); err != nil {
		return err
	}
	for _, c := range t.contacts {
		c.Updated = now
		if err := s.PutContact(ctx, a.Owner, c); err != nil {
			return err
		}
	}
	return nil
}

// runIdle starts the binary on st (holding n accounts) and measures it.
// With a non-empty prof, it writes prof-cpu.pprof (the start-up) and
// prof-heap.pprof (once settled).
func runIdle(tb testing.TB, bin string, st config.StoreConfig, n int, prof string) idleResult {
	var stanzas atomic.Int64
	srv := startLoadServer(tb, loadDomain, loadSecret, func(loadStanza) { stanzas.Add(1) })
	metrics := testutil.FreeAddr(tb)
	p := runGateway(tb, bin, gatewayConfig(tb, st, srv.addr(), metrics, prof != ""))
	defer p.stop()
	if prof != "" {
		if err := os.MkdirAll(filepath.Dir(prof), 0o755); err != nil {
			tb.Fatal(err)
		}
		cpuDone := make(chan error, 1)
		go func() {
			testutil.Poll(idleWait-time.Since(p.started), func() bool {
				_, err := scrapeMetrics("http://" + metrics + "/metrics")
				return err == nil
			})
			cpuDone <- fetchProfile(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", metrics, int(idleCPU.Seconds())), prof+"-cpu.pprof")
		}()
		defer func() {
			if err := <-cpuDone; err != nil {
				tb.Errorf("CPU profile: %v", err)
			}
			if err := fetchProfile("http://"+metrics+"/debug/pprof/heap?gc=1", prof+"-heap.pprof"); err != nil {
				tb.Errorf("heap profile: %v", err)
			}
			tb.Logf("profiles written to %s-{cpu,heap}.pprof", prof)
		}()
	}
	res := idleResult{accounts: n}
	var handshake atomic.Int64
	go func() {
		select {
		case <-srv.ready:
			handshake.Store(int64(time.Since(p.started)))
		case <-time.After(idleWait):
		}
	}()
	url := "http://" + metrics + "/metrics"
	deadline := p.started.Add(idleWait)
	var last map[string]float64
	// Every session connected.
	const connectedKey = `drawbridge_sessions{platform="sandbox",state="connected"}`
	progress, progressAt := -1.0, time.Now()
	for {
		m, err := scrapeMetrics(url)
		if err == nil {
			last = m
			if m[connectedKey] >= float64(n) && handshake.Load() > 0 {
				res.connected = time.Since(p.started)
				res.cpu = time.Duration(cpuTicks(tb, p.pid)) * time.Second / clockTicks
				break
			}
			if m[connectedKey] != progress {
				progress, progressAt = m[connectedKey], time.Now()
			}
		}
		// No progress and no handshake is a stall (the hub's Start once
		// waited, with a few hundred accounts, for room in the outbound
		// XMPP queue, which drains only once Start returned and the link
		// is up: TestStartsWithManyAccounts).
		stalled := handshake.Load() == 0 && time.Since(progressAt) > idleStall
		if stalled || time.Now().After(deadline) {
			var series []string
			for k, v := range last {
				if strings.HasPrefix(k, "drawbridge_sessions") || strings.HasPrefix(k, "drawbridge_account_state") {
					series = append(series, fmt.Sprintf("%s %v", k, v))
				}
			}
			slices.Sort(series)
			tb.Fatalf("after %v (stalled: %v): %v connected sessions of %d, XEP-0114 handshake made: %v (scrape error %v): %s",
				time.Since(p.started).Round(time.Second), stalled, last[connectedKey], n, handshake.Load() > 0, err, strings.Join(series, "; "))
		}
		time.Sleep(idlePoll)
	}
	if n == 0 {
		res.connected = time.Duration(handshake.Load())
	}
	// The start-up traffic is over once nothing was relayed for idleQuiet.
	relayed, changed := -1.0, time.Now()
	for time.Since(changed) < idleQuiet {
		m, err := scrapeMetrics(url)
		if err != nil {
			tb.Fatal(err)
		}
		last = m
		if r := sumPrefix(m, "drawbridge_relayed_total{"); r != relayed {
			relayed, changed = r, time.Now()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the start-up traffic did not end within %v", idleWait)
		}
		time.Sleep(idlePoll)
	}
	res.handshake = time.Duration(handshake.Load())
	res.settled = changed.Sub(p.started)
	res.rssMiB = rssMiB(tb, p.pid)
	res.heapAlloc = last["go_memstats_heap_alloc_bytes"] / (1 << 20)
	res.heapLive = last["go_memstats_next_gc_bytes"] / (1 + gatewayGOGC(tb)/100) / (1 << 20)
	res.stackMiB = last["go_memstats_stack_inuse_bytes"] / (1 << 20)
	res.goroutines = last["go_goroutines"]
	res.stanzasRead = stanzas.Load()
	return res
}

// gatewayGOGC is the GOGC the benchmarks give the gateway (-gateway.env),
// 100 (Go's default) when not set.
func gatewayGOGC(tb testing.TB) float64 {
	for _, kv := range strings.Split(*gatewayEnv, ",") {
		if v, ok := strings.CutPrefix(kv, "GOGC="); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n <= 0 {
				tb.Fatalf("-gateway.env: GOGC=%s is not a positive percentage", v)
			}
			return n
		}
	}
	return 100
}

// fetchProfile writes what url answers to path.
func fetchProfile(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// scrapeMetrics reads a Prometheus text exposition into series → value.
func scrapeMetrics(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	m := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

func sumPrefix(m map[string]float64, prefix string) float64 {
	var sum float64
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			sum += v
		}
	}
	return sum
}

// TestStartsWithManyAccounts starts the binary on a store holding more
// linked accounts than the outbound XMPP queue has room for their start-up
// stanzas (each sandbox session says about 15 things as it connects: its
// state, contacts, presences). Sessions must connect after Start returned
// and the link is up; connecting them inside Start once filled the queue
// at about 690 accounts and the gateway never started.
func TestStartsWithManyAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("start-up test: builds and runs the gateway binary")
	}
	const n = 1500
	bin := buildGateway(t)
	st := idleStore(t, config.BackendSQLite, "", 0)
	populate(t, st, linkTemplate(t, bin), n)
	r := runIdle(t, bin, st, n, "")
	t.Logf("%d accounts: every session connected after %v, start-up traffic over after %v (%d stanzas)",
		n, r.connected.Round(time.Millisecond), r.settled.Round(time.Millisecond), r.stanzasRead)
}
