package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The knobs of BenchmarkProsodyLoad (go test -bench ProsodyLoad
// ./cmd/drawbridge -args -prosody.rate 5000 ...).
var (
	plUsers    = flag.Int("prosody.users", 50, "c2s users of the Prosody load test, each linked to a sandbox account")
	plMessages = flag.Int("prosody.messages", 20000, "messages of each throughput phase of the Prosody load test")
	plWindow   = flag.Int("prosody.window", 500, "messages in flight at most in the Prosody load test's throughput phases")
	plRate     = flag.Int("prosody.rate", 500, "offered messages/s of the Prosody load test's latency phases")
	plSeconds  = flag.Int("prosody.seconds", 5, "length of each latency phase of the Prosody load test, in seconds")
	plStore    = flag.String("prosody.store", "sqlite", "the gateway's store backend in the Prosody load test (sqlite or redis)")
	plNoDelay  = flag.Bool("prosody.nodelay", false, "turn Prosody's Nagle algorithm off (network_settings = { nagle = false }; default: Prosody's default, on)")
	plEchoBare = flag.Bool("prosody.echobare", false, "add a target echo4bare: echo4 addressing its replies to the user's bare JID, as the gateway does, instead of the full JID the message came from")
	plProfile  = flag.String("prosody.profile", "", "write the gateway's CPU and allocation profiles of the throughput phase to FILE.cpu and FILE.allocs (through metrics.profiling)")
	plOneReply = flag.Bool("prosody.onereply", false, "run the gateway's sandbox with echo_reply_only, so that the Echo Bot answers with its echo alone, like the one-reply echo component")
	plShapes   = flag.Bool("prosody.shapes", false, "add targets echo4gw-before and echo4gw: echo4 writing the gateway's four stanzas byte for byte as it wrote them before and after the byte cuts of issue 20 (ids, resource, extensions), to the bare JID, so that Prosody's CPU for the stanzas' shape is measured without the gateway's own work")
)

const (
	plDomain    = "load.test"        // Prosody's VirtualHost
	plEcho      = "echo.load.test"   // the minimal echo component
	plEcho4     = "echo4.load.test"  // the echo component that also sends what the Echo Bot sends
	plEcho4Bare = "echo4b.load.test" // echo4 writing to bare JIDs (-prosody.echobare)
	// echo4 writing the gateway's stanzas before and after the byte cuts
	// (-prosody.shapes), with JIDs as long as the gateway's.
	plEcho4GwB  = "gb.load.test"
	plEcho4Gw   = "ga.load.test"
	plEchoEnv   = "DRAWBRIDGE_BENCH_ECHO_COMPONENT"
	plWait      = 60 * time.Second
	plEchoReady = "echo component ready"
)

// plTarget is one component the c2s users write to.
type plTarget struct {
	name string // sub-benchmark name
	to   string // the JID the users write to
	pid  int    // the component's process
	desc string
	// metrics is the component's Prometheus endpoint, if it has one.
	metrics string
	// workers are more processes of the component (the other gateway
	// processes of a sharded cluster): their CPU counts with pid's.
	workers []int
	// redisAddr and redisPID name the component's redis-server when its
	// CPU and commands are measured too (redisPID 0: they are not).
	redisAddr string
	redisPID  int
}

// plResult is one target's figures.
type plResult struct {
	throughput          float64 // messages/s relayed, bounded window
	compCPU, prosodyCPU float64 // µs of CPU per message, throughput phase
	clientCPU           float64 // µs of the load generator (this process) per message
	p50, p99            time.Duration
	rssMiB              float64 // the component's resident memory at the end
	stanzasPerMsg       float64 // stanzas the users received per message
	compOut, compIn     float64 // stanzas the component wrote and read per message (from its metrics)
	relay               string  // the hub's mean relay time by direction and kind in the latency phase
	pings               float64 // XEP-0199 pings the component wrote per message (from its metrics)
	latencyPings        float64 // the same in the latency phase
	wire                plWire  // bytes per message on each side of Prosody, throughput phase
	errors              int64
	// With tg.workers: the workers' µs of CPU per message (also in compCPU).
	workersCPU float64
	// With tg.redisPID: redis-server's µs of CPU per message and the
	// commands it ran per message, in all and by name (INFO
	// commandstats), throughput phase.
	redisCPU  float64
	redisOps  float64
	redisCmds map[string]float64
}

// BenchmarkProsodyLoad drives one real Prosody with real c2s clients and
// measures, in the same run and on the same server, three XEP-0114
// components the clients write to:
//
//   - echo: a minimal component (a separate process, raw bytes, no XML
//     parser) that answers every <message> with one <message> carrying the
//     same body: the server's own cost per message;
//   - echo4: the same component, answering with the four stanzas the
//     sandbox Echo Bot produces (delivery receipt, typing notification,
//     the reply, displayed marker), so that Prosody routes exactly as
//     many stanzas as for the gateway;
//   - gateway: the real drawbridge binary, whose linked sandbox users
//     write to the Echo Bot (one message in, receipt + typing + echo +
//     displayed marker out).
//
// Per target it reports the relayed messages/s with a bounded window in
// flight, p50/p99 latency (message written by the client to its reply
// read by the client) at a fixed offered rate, and the CPU time per message
// of the component's process, of Prosody and of the load generator. The
// clients log in with their own lean c2s code (SASL PLAIN, bind, then
// byte scanning for <body>), so that they cost less than the server.
func BenchmarkProsodyLoad(b *testing.B) {
	if testing.Short() {
		b.Skip("load test: runs Prosody, the gateway binary and an echo component")
	}
	if _, err := exec.LookPath("prosody"); err != nil {
		b.Skip("prosody is not installed")
	}
	if _, err := exec.LookPath("redis-server"); *plStore == "redis" && err != nil {
		b.Skip("redis-server is not installed")
	}
	bin := filepath.Join(b.TempDir(), "drawbridge")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	env := startProsodyLoad(b, bin)
	results := map[string]plResult{}
	for _, tg := range env.targets {
		b.Run(tg.name, func(b *testing.B) {
			var r plResult
			for b.Loop() {
				r = env.run(b, tg)
			}
			results[tg.name] = r
			b.ReportMetric(r.throughput, "msgs/s")
			b.ReportMetric(float64(r.p50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
			b.ReportMetric(r.compCPU, "comp-cpu-µs/msg")
			b.ReportMetric(r.prosodyCPU, "prosody-cpu-µs/msg")
			b.ReportMetric(r.clientCPU, "client-cpu-µs/msg")
			b.Logf("%s (%s): %.0f msgs/s relayed (window %d, %d users, %.1f stanzas to the user per message); at %d msgs/s offered: p50 %v, p99 %v; CPU per message: component %.1f µs, Prosody %.1f µs, load generator %.1f µs; component RSS %.1f MiB",
				tg.name, tg.desc, r.throughput, *plWindow, *plUsers, r.stanzasPerMsg, *plRate, r.p50, r.p99, r.compCPU, r.prosodyCPU, r.clientCPU, r.rssMiB)
			if tg.metrics != "" {
				b.Logf("%s: per message the component wrote %.2f stanzas and %.3f pings (%.3f in the latency phase) and read %.2f stanzas (drawbridge_xmpp_stanzas_total, _pings_total); mean hub relay time in the latency phase (drawbridge_relay_duration_seconds): %s",
					tg.name, r.compOut, r.pings, r.latencyPings, r.compIn, r.relay)
			}
			b.Logf("%s: bytes per message: %s", tg.name, r.wire)
			b.ReportMetric(r.wire.compOut, "comp-out-B/msg")
			if echo, ok := results["echo"]; ok && tg.name != "echo" {
				ratio := 100 * r.throughput / echo.throughput
				b.ReportMetric(ratio, "%-of-echo")
				b.Logf("%s vs echo: %.1f %% of the throughput; added latency p50 %v, p99 %v; added Prosody CPU %.1f µs/msg",
					tg.name, ratio, r.p50-echo.p50, r.p99-echo.p99, r.prosodyCPU-echo.prosodyCPU)
			}
		})
	}
}

// plEnv is the shared set-up: Prosody, the components and the users.
type plEnv struct {
	prosody    *xmpptest.Prosody
	prosodyPID int
	targets    []plTarget
	users      []*plClient
}

func startProsodyLoad(b *testing.B, bin string) *plEnv {
	extra := ""
	if *plNoDelay {
		extra = "network_settings = { nagle = false }"
	}
	p := xmpptest.StartProsody(b, xmpptest.ProsodyOptions{
		Domain:      plDomain,
		LogLevel:    "warn",
		ExtraGlobal: extra,
		Components: []xmpptest.ComponentSpec{
			{Domain: loadDomain, Secret: loadSecret},
			{Domain: plEcho, Secret: loadSecret},
			{Domain: plEcho4, Secret: loadSecret},
			{Domain: plEcho4Bare, Secret: loadSecret},
			{Domain: plEcho4GwB, Secret: loadSecret},
			{Domain: plEcho4Gw, Secret: loadSecret},
		},
	})
	env := &plEnv{prosody: p, prosodyPID: prosodyPID(b, p)}
	registerUsers(b, p, *plUsers)

	// The load test's configuration, with the metrics endpoint on.
	cfgPath := loadConfig(b, *plStore, p.ComponentAddr)
	metrics := testutil.FreeAddr(b)
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("metrics:\n  listen: \"\""), []byte("metrics:\n  listen: "+metrics), 1)
	if *plProfile != "" {
		cfg = bytes.Replace(cfg, []byte("  profiling: false\n"), []byte("  profiling: true\n"), 1)
	}
	if *plOneReply {
		cfg = bytes.Replace(cfg, []byte("    auto_confirm: true\n"), []byte("    auto_confirm: true\n    echo_reply_only: true\n"), 1)
	}
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	gwPID := startGatewayProcess(b, bin, cfgPath)
	env.targets = []plTarget{
		{name: "echo", to: "bot@" + plEcho, pid: startEchoComponent(b, p.ComponentAddr, plEcho, "plain"),
			desc: "minimal echo component: one reply"},
		{name: "echo4", to: "bot@" + plEcho4, pid: startEchoComponent(b, p.ComponentAddr, plEcho4, "extras"),
			desc: "echo component answering like the Echo Bot: receipt, typing, reply, displayed"},
		{name: "gateway", to: string(sandbox.EchoBot) + "@" + loadDomain, pid: gwPID,
			desc: "drawbridge " + *plStore + ", sandbox Echo Bot", metrics: "http://" + metrics + "/metrics"},
	}
	if *plEchoBare {
		env.targets = slices.Insert(env.targets, 2, plTarget{name: "echo4bare", to: "bot@" + plEcho4Bare,
			pid: startEchoComponent(b, p.ComponentAddr, plEcho4Bare, "bare"), desc: "echo4 answering to the user's bare JID"})
	}
	if *plShapes {
		env.targets = slices.Insert(env.targets, len(env.targets)-1,
			plTarget{name: "echo4gw-before", to: string(sandbox.EchoBot) + "@" + plEcho4GwB, pid: startEchoComponent(b, p.ComponentAddr, plEcho4GwB, "gwbefore"),
				desc: "echo4 writing the gateway's stanzas as before the byte cuts"},
			plTarget{name: "echo4gw", to: string(sandbox.EchoBot) + "@" + plEcho4Gw, pid: startEchoComponent(b, p.ComponentAddr, plEcho4Gw, "gw"),
				desc: "echo4 writing the gateway's stanzas"})
	}
	if *plOneReply {
		env.targets[len(env.targets)-1].desc += " (echo_reply_only: one reply)"
	}
	env.dialUsers(b, *plUsers)
	env.linkUsers(b)
	return env
}

// dialUsers logs n registered users in with the lean c2s client.
func (env *plEnv) dialUsers(tb testing.TB, n int) {
	for u := range n {
		c, err := dialLean(env.prosody.C2SAddr, plUserName(u), plDomain, "pw")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(c.close)
		env.users = append(env.users, c)
	}
}

// linkUsers links a sandbox account for each user, through the gateway's
// chat commands.
func (env *plEnv) linkUsers(tb testing.TB) {
	for u, c := range env.users {
		if err := c.linkSandbox(fmt.Sprintf("+1555700%04d", u)); err != nil {
			tb.Fatalf("linking %s: %v", plUserName(u), err)
		}
	}
}

func plUserName(u int) string { return fmt.Sprintf("p%03d", u) }

// registerUsers creates the users with prosodyctl, a few at a time.
func registerUsers(tb testing.TB, p *xmpptest.Prosody, n int) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 4)
	)
	for u := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cmd := exec.Command("prosodyctl", "--config", p.ConfigPath, "register", plUserName(u), p.Domain, "pw")
			cmd.Dir = p.Dir
			if out, err := cmd.CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("prosodyctl register %s: %v\n%s", plUserName(u), err, out))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
}

// prosodyPID finds the Prosody process of p: its pid file, or the process
// whose command line names p's config.
func prosodyPID(tb testing.TB, p *xmpptest.Prosody) int {
	if data, err := os.ReadFile(filepath.Join(p.Dir, "prosody.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			return pid
		}
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		data, err := os.ReadFile(f)
		if err == nil && bytes.Contains(data, []byte(p.ConfigPath)) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	tb.Fatal("cannot find Prosody's pid")
	return 0
}

// run measures one target: warm-up, throughput with a bounded window,
// latency at a fixed offered rate.
func (env *plEnv) run(tb testing.TB, tg plTarget) plResult {
	users := env.users
	total := len(users) + *plMessages + *plRate**plSeconds
	ph := &plPhase{sent: make([]atomic.Int64, total), recv: make([]atomic.Int64, total)}
	for _, c := range users {
		c.phase.Store(ph)
		c.stanzas.Store(0)
	}
	defer func() {
		for _, c := range users {
			c.phase.Store(nil)
		}
	}()
	send := func(i int) {
		c := users[i%len(users)]
		ph.sent[i].Store(time.Now().UnixNano())
		if err := c.write(fmt.Appendf(nil, `<message type='chat' id='L%d' to='%s'><body>L%d</body></message>`, i, tg.to, i)); err != nil {
			tb.Fatalf("write: %v", err)
		}
	}
	next := 0
	for range users { // warm-up: one message per user
		send(next)
		next++
	}
	ph.waitFor(tb, int64(next))

	cpu0, pcpu0, self0 := cpuTicks(tb, tg.pid), cpuTicks(tb, env.prosodyPID), cpuTicks(tb, os.Getpid())
	wcpu0, rcpu0, cmds0 := tg.workersTicks(tb), tg.redisTicks(tb), tg.redisCommands(tb)
	var stanzas0 int64
	for _, c := range users {
		stanzas0 += c.stanzas.Load()
	}
	out0, in0 := componentStanzas(tg.metrics)
	pings0 := componentPings(tg.metrics)
	wire0 := env.wireCounters(tb, tg)
	if *plProfile != "" && tg.metrics != "" {
		ops := strings.TrimSuffix(strings.TrimPrefix(tg.metrics, "http://"), "/metrics")
		for _, kind := range []string{"profile", "allocs"} {
			done := profileGateway(tb, ops, kind, *plProfile+map[string]string{"profile": ".cpu", "allocs": ".allocs"}[kind])
			defer done()
		}
	}
	start := time.Now()
	first := next
	for next < first+*plMessages {
		if int64(next)-ph.got.Load() >= int64(*plWindow) {
			ph.waitFor(tb, int64(next-*plWindow/2))
			continue
		}
		send(next)
		next++
	}
	ph.waitFor(tb, int64(next))
	elapsed := time.Since(start)
	n := float64(*plMessages)
	perMsg := func(ticks int64) float64 { return float64(ticks) * 1e6 / clockTicks / n }
	res := plResult{
		throughput: n / elapsed.Seconds(),
		compCPU:    perMsg(cpuTicks(tb, tg.pid) - cpu0),
		prosodyCPU: perMsg(cpuTicks(tb, env.prosodyPID) - pcpu0),
		clientCPU:  perMsg(cpuTicks(tb, os.Getpid()) - self0),
		workersCPU: perMsg(tg.workersTicks(tb) - wcpu0),
		redisCPU:   perMsg(tg.redisTicks(tb) - rcpu0),
	}
	res.compCPU += res.workersCPU
	if tg.redisPID != 0 {
		res.redisOps, res.redisCmds = commandsPerMessage(cmds0, tg.redisCommands(tb), n)
	}
	var stanzas int64
	for _, c := range users {
		stanzas += c.stanzas.Load()
	}
	res.stanzasPerMsg = float64(stanzas-stanzas0) / n
	out1, in1 := componentStanzas(tg.metrics)
	res.compOut, res.compIn = (out1-out0)/n, (in1-in0)/n
	res.pings = (componentPings(tg.metrics) - pings0) / n
	res.wire = env.wireCounters(tb, tg).perMessage(wire0, n)

	// Latency at a fixed offered rate.
	before, _ := scrapeOrNil(tg.metrics)
	pings0 = componentPings(tg.metrics)
	first = next
	count := *plRate * *plSeconds
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start = time.Now()
	for next < first+count {
		due := first + int(time.Since(start).Seconds()*float64(*plRate))
		for ; next < min(due, first+count); next++ {
			send(next)
		}
		<-tick.C
	}
	ph.waitFor(tb, int64(next))
	res.latencyPings = (componentPings(tg.metrics) - pings0) / float64(count)
	lat := make([]time.Duration, 0, count)
	for i := first; i < next; i++ {
		lat = append(lat, time.Duration(ph.recv[i].Load()-ph.sent[i].Load()))
	}
	slices.Sort(lat)
	res.p50, res.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	if after, err := scrapeOrNil(tg.metrics); err == nil && after != nil {
		res.relay = relayMeans(before, after)
	}
	res.rssMiB = rssMiB(tb, tg.pid)
	res.errors = ph.errors.Load()
	if res.errors > 0 {
		tb.Errorf("%s: %d error stanzas during the run", tg.name, res.errors)
	}
	return res
}

// componentStanzas reads the stanzas a component wrote and read from its
// metrics endpoint (zero without one).
func componentStanzas(url string) (out, in float64) {
	if url == "" {
		return 0, 0
	}
	m, err := scrapeMetrics(url)
	if err != nil {
		return 0, 0
	}
	return m[`drawbridge_xmpp_stanzas_total{direction="out"}`], m[`drawbridge_xmpp_stanzas_total{direction="in"}`]
}

func scrapeOrNil(url string) (map[string]float64, error) {
	if url == "" {
		return nil, nil
	}
	return scrapeMetrics(url)
}

// relayMeans is the mean of each drawbridge_relay_duration_seconds series
// between two scrapes, in the text form "direction/kind 1.2ms, ...".
func relayMeans(before, after map[string]float64) string {
	const sum, count = "drawbridge_relay_duration_seconds_sum", "drawbridge_relay_duration_seconds_count"
	var out []string
	for k, v := range after {
		labels, ok := strings.CutPrefix(k, sum)
		if !ok {
			continue
		}
		n := after[count+labels] - before[count+labels]
		if n <= 0 {
			continue
		}
		mean := time.Duration((v - before[k]) / n * float64(time.Second))
		out = append(out, fmt.Sprintf("%s ×%.0f: %v", labels, n, mean.Round(time.Microsecond)))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// plPhase records one target's messages: send and reply times by index.
type plPhase struct {
	sent, recv []atomic.Int64
	got        atomic.Int64
	errors     atomic.Int64
}

// reply records the reply to message i (the first one only).
func (ph *plPhase) reply(i int) {
	if i >= 0 && i < len(ph.recv) && ph.recv[i].CompareAndSwap(0, time.Now().UnixNano()) {
		ph.got.Add(1)
	}
}

// waitFor waits until n replies came back.
func (ph *plPhase) waitFor(tb testing.TB, n int64) {
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	deadline := time.Now().Add(plWait)
	for ph.got.Load() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out: %d of %d replies (%d error stanzas)", ph.got.Load(), n, ph.errors.Load())
		}
		<-tick.C
	}
}

// plClient is a lean c2s client: it logs in with SASL PLAIN and binds a
// resource, then reads its stream as bytes, looking only at <message>
// elements and their <body>.
type plClient struct {
	jid     string
	nc      net.Conn
	br      *bufio.Reader
	wmu     sync.Mutex
	phase   atomic.Pointer[plPhase]
	stanzas atomic.Int64 // messages received
	// bytesIn and bytesOut count the bytes read from and written to
	// Prosody since the client logged in.
	bytesIn, bytesOut atomic.Int64
	setup             chan []byte   // messages received while no phase runs
	done              chan struct{} // the reader ended
	once              sync.Once
}

var (
	bindJIDRE = regexp.MustCompile(`<jid>([^<]+)</jid>`)
	idAttrRE  = regexp.MustCompile(`\sid=['"]([^'"]+)['"]`)
)

// dialLean logs user@domain in at addr (plaintext, SASL PLAIN), binds a
// resource, sends initial presence and starts reading.
func dialLean(addr, user, domain, password string) (*plClient, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &plClient{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), setup: make(chan []byte, 256), done: make(chan struct{})}
	header := `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='` + domain + `'>`
	fail := func(err error) (*plClient, error) {
		nc.Close()
		return nil, fmt.Errorf("lean login %s@%s: %w", user, domain, err)
	}
	if err := c.write([]byte(header)); err != nil {
		return fail(err)
	}
	if _, err := c.readUntil(func(b []byte) bool { return bytes.HasSuffix(b, []byte("</stream:features>")) }); err != nil {
		return fail(err)
	}
	creds := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	if err := c.write([]byte(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` + creds + `</auth>`)); err != nil {
		return fail(err)
	}
	got, err := c.readUntil(func(b []byte) bool {
		return (bytes.Contains(b, []byte("<success")) || bytes.Contains(b, []byte("<failure"))) &&
			(bytes.HasSuffix(b, []byte("/>")) || bytes.HasSuffix(b, []byte("</success>")) || bytes.HasSuffix(b, []byte("</failure>")))
	})
	if err != nil {
		return fail(err)
	}
	if !bytes.Contains(got, []byte("<success")) {
		return fail(fmt.Errorf("authentication failed: %s", got))
	}
	if err := c.write([]byte(header)); err != nil {
		return fail(err)
	}
	features, err := c.readUntil(func(b []byte) bool { return bytes.HasSuffix(b, []byte("</stream:features>")) })
	if err != nil {
		return fail(err)
	}
	if err := c.write([]byte(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`)); err != nil {
		return fail(err)
	}
	got, err = c.readUntil(func(b []byte) bool { return bytes.HasSuffix(b, []byte("</iq>")) })
	if err != nil {
		return fail(err)
	}
	m := bindJIDRE.FindSubmatch(got)
	if m == nil {
		return fail(fmt.Errorf("no bound JID in %s", got))
	}
	c.jid = string(m[1])
	if bytes.Contains(features, []byte("xmpp-session")) && !bytes.Contains(features, []byte("<optional")) {
		if err := c.write([]byte(`<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`)); err != nil {
			return fail(err)
		}
		if _, err := c.readUntil(func(b []byte) bool {
			return bytes.Contains(b, []byte("sess1")) && (bytes.HasSuffix(b, []byte("/>")) || bytes.HasSuffix(b, []byte("</iq>")))
		}); err != nil {
			return fail(err)
		}
	}
	_ = nc.SetDeadline(time.Time{})
	if err := c.write([]byte(`<presence/>`)); err != nil {
		return fail(err)
	}
	go c.readLoop()
	return c, nil
}

// readUntil reads (during login) until done is true of what was read.
func (c *plClient) readUntil(done func([]byte) bool) ([]byte, error) {
	var b []byte
	for {
		ch, err := c.br.ReadByte()
		if err != nil {
			return b, err
		}
		b = append(b, ch)
		if ch == '>' && done(b) {
			return b, nil
		}
		if ch == '>' && bytes.Contains(b, []byte("stream:error")) && bytes.HasSuffix(b, []byte("</stream:error>")) {
			return b, fmt.Errorf("stream error: %s", b)
		}
	}
}

func (c *plClient) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := c.nc.Write(p)
	c.bytesOut.Add(int64(n))
	return err
}

func (c *plClient) close() {
	c.once.Do(func() {
		_ = c.write([]byte("</stream:stream>"))
		c.nc.Close()
		<-c.done
	})
}

// readLoop reads the stream until it ends and hands on each <message>.
func (c *plClient) readLoop() {
	defer close(c.done)
	buf := make([]byte, 0, 128<<10)
	chunk := make([]byte, 64<<10)
	for {
		n, err := c.br.Read(chunk)
		c.bytesIn.Add(int64(n))
		buf = append(buf, chunk[:n]...)
		buf = scanMessages(buf, c.onMessage)
		if err != nil {
			return
		}
	}
}

// scanMessages calls f with each complete <message>...</message> element
// in buf (skipping empty <message/> ones and everything else) and returns
// what is left to complete, moved to the front of buf.
func scanMessages(buf []byte, f func(msg []byte)) []byte {
	rest := buf
	for {
		i := bytes.Index(rest, []byte("<message"))
		if i < 0 {
			keep := max(0, len(rest)-len("<message"))
			return append(buf[:0], rest[keep:]...)
		}
		rest = rest[i:]
		gt := bytes.IndexByte(rest, '>')
		if gt < 0 {
			return append(buf[:0], rest...)
		}
		if rest[gt-1] == '/' {
			rest = rest[gt+1:]
			continue
		}
		end := bytes.Index(rest, []byte("</message>"))
		if end < 0 {
			return append(buf[:0], rest...)
		}
		end += len("</message>")
		f(rest[:end])
		rest = rest[end:]
	}
}

// msgBody returns the raw (escaped) text of msg's <body>, if any.
func msgBody(msg []byte) ([]byte, bool) {
	i := bytes.Index(msg, []byte("<body"))
	if i < 0 {
		return nil, false
	}
	gt := bytes.IndexByte(msg[i:], '>')
	if gt < 0 {
		return nil, false
	}
	start := i + gt + 1
	end := bytes.Index(msg[start:], []byte("</body>"))
	if end < 0 {
		return nil, false
	}
	return msg[start : start+end], true
}

// isErrorStanza reports whether msg's start tag says type='error'.
func isErrorStanza(msg []byte) bool {
	tag := msg[:bytes.IndexByte(msg, '>')+1]
	return bytes.Contains(tag, []byte(`type='error'`)) || bytes.Contains(tag, []byte(`type="error"`))
}

func (c *plClient) onMessage(msg []byte) {
	ph := c.phase.Load()
	if ph == nil {
		select {
		case c.setup <- bytes.Clone(msg):
		default: // nobody waits for it
		}
		return
	}
	c.stanzas.Add(1)
	if isErrorStanza(msg) {
		if ph.errors.Add(1) <= 3 {
			fmt.Fprintf(os.Stderr, "error stanza: %s\n", msg)
		}
		return
	}
	body, ok := msgBody(msg)
	if !ok {
		return
	}
	body = bytes.TrimPrefix(body, []byte("echo: "))
	if len(body) > 1 && body[0] == 'L' {
		if i, err := strconv.Atoi(string(body[1:])); err == nil {
			ph.reply(i)
		}
	}
}

// waitBodies waits until a message containing each of parts arrived
// (in any order, not necessarily in one message).
func (c *plClient) waitBodies(parts ...string) error {
	deadline := time.After(plWait)
	left := slices.Clone(parts)
	for len(left) > 0 {
		select {
		case msg := <-c.setup:
			if isErrorStanza(msg) {
				return fmt.Errorf("error stanza: %s", msg)
			}
			body, _ := msgBody(msg)
			left = slices.DeleteFunc(left, func(p string) bool { return bytes.Contains(body, []byte(p)) })
		case <-c.done:
			return errors.New("the connection ended")
		case <-deadline:
			return fmt.Errorf("timed out waiting for %q", left)
		}
	}
	return nil
}

// linkSandbox links phone with the gateway's chat commands. The first
// "link" is retried while the gateway is not yet connected to Prosody.
func (c *plClient) linkSandbox(phone string) error {
	deadline := time.Now().Add(plWait)
	for {
		if err := c.write([]byte(`<message type='chat' id='link' to='` + loadDomain + `'><body>link</body></message>`)); err != nil {
			return err
		}
		err := c.waitBodies("Reply with your phone number")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := c.write([]byte(`<message type='chat' id='phone' to='` + loadDomain + `'><body>` + phone + `</body></message>`)); err != nil {
		return err
	}
	return c.waitBodies("is now linked", "Connected to ")
}

// startEchoComponent runs the echo component in a child process (this
// test binary, TestProsodyEchoComponent) so that its CPU time is its own,
// and returns its pid once its handshake succeeded.
// mode is plain (one reply), extras (the Echo Bot's four stanzas), bare
// (extras, to the sender's bare JID), gw (the gateway's four stanzas) or
// gwbefore (the gateway's four stanzas before the byte cuts): see
// runEchoComponent.
func startEchoComponent(tb testing.TB, addr, domain, mode string) int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestProsodyEchoComponent$", "-test.timeout=0", "-test.count=1")
	cmd.Env = append(os.Environ(), plEchoEnv+"="+strings.Join([]string{addr, domain, loadSecret, mode}, " "))
	proc, err := testutil.Start(cmd, filepath.Join(tb.TempDir(), "echo-"+domain+".log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = proc.Stop(10 * time.Second) })
	if err := proc.WaitLog(plWait, proc.LogPath(), plEchoReady); err != nil {
		tb.Fatalf("echo component %s did not connect: %v\n%s", domain, err, proc.Tail(20))
	}
	return proc.Pid()
}

// TestProsodyEchoComponent is not a test: it is the echo component process
// of BenchmarkProsodyLoad, run by startEchoComponent (skipped otherwise).
func TestProsodyEchoComponent(t *testing.T) {
	spec := os.Getenv(plEchoEnv)
	if spec == "" {
		t.Skip("the echo component process of BenchmarkProsodyLoad")
	}
	f := strings.Fields(spec)
	if len(f) != 4 {
		t.Fatalf("%s=%q: want ADDR DOMAIN SECRET MODE", plEchoEnv, spec)
	}
	err := runEchoComponent(f[0], f[1], f[2], f[3], func() { fmt.Println(plEchoReady) })
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
}

// runEchoComponent is a minimal XEP-0114 component: handshake, then for
// every <message> with a body one <message> back to its sender with the
// same body, to the sender's full JID (mode plain). Mode extras adds a
// delivery receipt and a typing notification before it and a displayed
// marker after it, like the sandbox Echo Bot; bare does the same to the
// sender's bare JID. Modes gw and gwbefore write what the gateway writes
// for the Echo Bot's answer (gwStanzas), byte for byte but for the random
// ids. It parses nothing but the attributes it needs and writes its
// replies once per read.
func runEchoComponent(addr, domain, secret, mode string, ready func()) error {
	extras, bare := mode != "plain", mode == "bare"
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64<<10)
	w := bufio.NewWriterSize(nc, 64<<10)
	if _, err := io.WriteString(nc, `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='`+domain+`'>`); err != nil {
		return err
	}
	var header []byte
	for !(bytes.Contains(header, []byte("<stream:stream")) && bytes.HasSuffix(header, []byte(">"))) {
		ch, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("reading the stream header: %w", err)
		}
		header = append(header, ch)
	}
	m := idAttrRE.FindSubmatch(header[bytes.Index(header, []byte("<stream:stream")):])
	if m == nil {
		return fmt.Errorf("no stream id in %s", header)
	}
	sum := sha1.Sum(append(m[1], secret...))
	if _, err := io.WriteString(nc, "<handshake>"+hex.EncodeToString(sum[:])+"</handshake>"); err != nil {
		return err
	}
	var hs []byte
	for !(bytes.Contains(hs, []byte("handshake")) && bytes.HasSuffix(hs, []byte(">"))) {
		ch, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("reading the handshake reply: %w", err)
		}
		hs = append(hs, ch)
		if bytes.Contains(hs, []byte("stream:error")) && bytes.HasSuffix(hs, []byte("</stream:error>")) {
			return fmt.Errorf("handshake refused: %s", hs)
		}
	}
	ready()
	buf := make([]byte, 0, 128<<10)
	chunk := make([]byte, 64<<10)
	var werr error
	var n int // messages answered
	reply := func(msg []byte) {
		body, ok := msgBody(msg)
		if !ok || isErrorStanza(msg) {
			return
		}
		tag := msg[:bytes.IndexByte(msg, '>')]
		from, to, id := attrValue(tag, "from"), attrValue(tag, "to"), attrValue(tag, "id")
		if mode == "gw" || mode == "gwbefore" {
			n++
			gwStanzas(w, mode == "gwbefore", to, from, id, body, n)
			return
		}
		if i := bytes.IndexByte(from, '/'); bare && i >= 0 {
			from = from[:i]
		}
		head := func() {
			_, _ = w.WriteString(`<message type='chat' from='`)
			_, _ = w.Write(to)
			_, _ = w.WriteString(`' to='`)
			_, _ = w.Write(from)
			_, _ = w.WriteString(`'>`)
		}
		if extras {
			head()
			_, _ = w.WriteString(`<received xmlns='urn:xmpp:receipts' id='`)
			_, _ = w.Write(id)
			_, _ = w.WriteString(`'/><no-store xmlns='urn:xmpp:hints'/></message>`)
			head()
			_, _ = w.WriteString(`<composing xmlns='http://jabber.org/protocol/chatstates'/><no-store xmlns='urn:xmpp:hints'/></message>`)
		}
		head()
		_, _ = w.WriteString(`<body>`)
		_, _ = w.Write(body)
		_, _ = w.WriteString(`</body></message>`)
		if extras {
			head()
			_, _ = w.WriteString(`<displayed xmlns='urn:xmpp:chat-markers:0' id='`)
			_, _ = w.Write(id)
			_, werr = w.WriteString(`'/><no-store xmlns='urn:xmpp:hints'/></message>`)
		}
	}
	for {
		n, rerr := br.Read(chunk)
		buf = append(buf, chunk[:n]...)
		buf = scanMessages(buf, reply)
		if werr != nil {
			return werr
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if rerr != nil {
			return rerr
		}
	}
}

// gwStanzas writes to w the four stanzas the gateway writes for the Echo
// Bot's answer to a message (id and body, from the user's full JID user to
// the bot's JID bot; the nth message answered): delivery receipt, typing
// notification, the echo, displayed marker, from the bot's JID with the
// gateway's resource to the user's bare JID, with the gateway's ids and
// extensions; before the byte cuts (before: each stanza with an id, the
// typing notification with a no-store hint) or after them. The bot's
// platform id is a sandbox id ("SB" and a per-process part of 12
// characters, then a counter).
func gwStanzas(w *bufio.Writer, before bool, bot, user, id, body []byte, n int) {
	if i := bytes.IndexByte(user, '/'); i >= 0 {
		user = user[:i]
	}
	head := func(stanzaID string) {
		_, _ = w.WriteString(`<message type="chat"`)
		if stanzaID != "" {
			_, _ = w.WriteString(` id="` + stanzaID + `"`)
		}
		_, _ = w.WriteString(` from="`)
		_, _ = w.Write(bot)
		_, _ = w.WriteString(`/drawbridge" to="`)
		_, _ = w.Write(user)
		_, _ = w.WriteString(`">`)
	}
	randomID := func() string {
		if before {
			return fmt.Sprintf("db-%016X", n) // as long as newID's
		}
		return ""
	}
	platformID := fmt.Sprintf("SBdneifdl2j14w.%d", 2*n)
	const noStore = `<no-store xmlns="urn:xmpp:hints"/>`
	head(randomID())
	_, _ = w.WriteString(`<received xmlns="urn:xmpp:receipts" id="`)
	_, _ = w.Write(id)
	_, _ = w.WriteString(`"/>` + noStore + `</message>`)
	head(randomID())
	_, _ = w.WriteString(`<composing xmlns="http://jabber.org/protocol/chatstates"/>`)
	if before {
		_, _ = w.WriteString(noStore)
	}
	_, _ = w.WriteString(`</message>`)
	head(platformID)
	_, _ = w.WriteString(`<body>echo: `)
	_, _ = w.Write(body)
	_, _ = w.WriteString(`</body><origin-id xmlns="urn:xmpp:sid:0" id="` + platformID + `"/><request xmlns="urn:xmpp:receipts"/><markable xmlns="urn:xmpp:chat-markers:0"/><active xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	head(randomID())
	_, _ = w.WriteString(`<displayed xmlns="urn:xmpp:chat-markers:0" id="`)
	_, _ = w.Write(id)
	_, _ = w.WriteString(`"/>` + noStore + `</message>`)
}

// attrValue returns the value of attribute name in a start tag (quoted
// either way), still escaped, or nil.
func attrValue(tag []byte, name string) []byte {
	for _, q := range []byte{'\'', '"'} {
		key := append([]byte(" "+name+"="), q)
		if i := bytes.Index(tag, key); i >= 0 {
			v := tag[i+len(key):]
			if j := bytes.IndexByte(v, q); j >= 0 {
				return v[:j]
			}
		}
	}
	return nil
}
