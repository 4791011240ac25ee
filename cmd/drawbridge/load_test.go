package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// The load test's knobs (go test -bench Load ./cmd/drawbridge -args ...).
var (
	loadUsers    = flag.Int("load.users", 50, "linked sandbox users sending in parallel")
	loadMessages = flag.Int("load.messages", 20000, "messages of the throughput phase")
	loadWindow   = flag.Int("load.window", 500, "messages in flight at most in the throughput phase")
	loadRate     = flag.Int("load.rate", 1000, "offered messages/s of the latency phase")
	loadSeconds  = flag.Int("load.seconds", 5, "length of the latency phase in seconds")
	loadProfile  = flag.String("load.cpuprofile", "", "write the gateway's CPU profile of the throughput phase to this file (BACKEND is replaced by the store)")
)

const (
	loadDomain = "gw.load.test"
	loadSecret = "load-test-secret"
	loadWait   = 60 * time.Second
	// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times.
	clockTicks = 100
)

// BenchmarkLoad is the component-level load test: a Go program playing the
// XMPP server's side of XEP-0114 (load_server_test.go) drives the real
// gateway binary, whose linked sandbox users all write to the Echo Bot.
// It reports, per store backend, the relayed messages/s with a bounded
// window, the latency percentiles at a fixed offered rate (user message
// in, echo out: two trips through the gateway and the sandbox), the
// gateway's CPU time per relayed message pair and its resident memory.
// Each iteration is a whole run; nothing is asserted about time.
func BenchmarkLoad(b *testing.B) {
	if testing.Short() {
		b.Skip("load test: builds and runs the gateway binary")
	}
	bin := filepath.Join(b.TempDir(), "drawbridge")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, backend := range []string{"sqlite", "redis"} {
		b.Run(backend, func(b *testing.B) {
			if _, err := exec.LookPath("redis-server"); backend == "redis" && err != nil {
				b.Skip("redis-server is not installed")
			}
			var r loadResult
			for b.Loop() {
				r = runLoad(b, bin, backend)
			}
			b.ReportMetric(r.throughput, "msgs/s")
			b.ReportMetric(r.cpuPerMsg, "cpu-µs/msg")
			b.ReportMetric(float64(r.p50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
			b.ReportMetric(r.rssMiB, "rss-MiB")
			b.ReportMetric(r.tripsPerMsg, "store-trips/msg")
			b.Logf("%s: %.0f msgs/s relayed (window %d, %d users); at %d msgs/s offered: p50 %v, p99 %v; %.1f µs CPU per message; %.3f store round trips per message; RSS %.1f MiB",
				backend, r.throughput, *loadWindow, *loadUsers, *loadRate, r.p50, r.p99, r.cpuPerMsg, r.tripsPerMsg, r.rssMiB)
		})
	}
}

type loadResult struct {
	throughput, cpuPerMsg, rssMiB float64
	// tripsPerMsg is the store's round trips per message of the
	// throughput phase (drawbridge_store_round_trips_total).
	tripsPerMsg float64
	p50, p99    time.Duration
}

// loadRun is one run's state, shared with the server's read goroutine.
type loadRun struct {
	tb     testing.TB
	srv    *loadServer
	setup  chan loadStanza // stanzas to users while linking
	sent   []atomic.Int64  // send time of message i, ns
	recv   []atomic.Int64  // time its echo came back, ns
	got    atomic.Int64
	errors atomic.Int64
}

func (l *loadRun) onStanza(s loadStanza) {
	if s.Type == "error" {
		if l.errors.Add(1) <= 3 {
			l.tb.Logf("error stanza: %+v", s)
		}
		return
	}
	if n, ok := strings.CutPrefix(s.Body, "echo: L"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(l.recv) {
			l.recv[i].Store(time.Now().UnixNano())
			l.got.Add(1)
		}
		return
	}
	select {
	case l.setup <- s:
	default: // nobody waits for it
	}
}

func runLoad(tb testing.TB, bin, backend string) loadResult {
	total := *loadMessages + *loadRate**loadSeconds + *loadUsers
	l := &loadRun{tb: tb, setup: make(chan loadStanza, 1024), sent: make([]atomic.Int64, total), recv: make([]atomic.Int64, total)}
	l.srv = startLoadServer(tb, loadDomain, loadSecret, l.onStanza)
	// The gateway's metrics endpoint: its store round trips, and its CPU
	// profile when asked for.
	ops := testutil.FreeAddr(tb)
	tb.Setenv("DRAWBRIDGE_METRICS_LISTEN", ops)
	if *loadProfile != "" {
		tb.Setenv("DRAWBRIDGE_METRICS_PROFILING", "true")
	}
	pid := startGatewayProcess(tb, bin, loadConfig(tb, backend, l.srv.addr()))
	select {
	case <-l.srv.ready:
	case err := <-l.srv.done:
		tb.Fatalf("fake server: %v", err)
	case <-time.After(loadWait):
		tb.Fatal("the gateway did not connect")
	}
	for u := range *loadUsers {
		l.link(u)
	}
	next := 0
	// Warm-up: one message per user.
	for u := range *loadUsers {
		l.send(next, u)
		next++
	}
	l.waitFor(int64(next))

	// Throughput: as fast as the gateway relays, at most window in flight.
	if *loadProfile != "" {
		profile := profileCPU(tb, ops, strings.ReplaceAll(*loadProfile, "BACKEND", backend))
		defer profile()
	}
	trips0 := storeRoundTrips(tb, ops)
	cpu0 := cpuTicks(tb, pid)
	start := time.Now()
	first := next
	for next < first+*loadMessages {
		if int64(next)-l.got.Load() >= int64(*loadWindow) {
			l.waitFor(int64(next - *loadWindow/2))
			continue
		}
		l.send(next, next%*loadUsers)
		next++
	}
	l.waitFor(int64(next))
	elapsed := time.Since(start)
	cpu := cpuTicks(tb, pid) - cpu0
	trips := storeRoundTrips(tb, ops) - trips0
	res := loadResult{
		throughput:  float64(*loadMessages) / elapsed.Seconds(),
		cpuPerMsg:   float64(cpu) * 1e6 / clockTicks / float64(*loadMessages),
		tripsPerMsg: trips / float64(*loadMessages),
	}

	// Latency at a fixed offered rate.
	first = next
	n := *loadRate * *loadSeconds
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start = time.Now()
	for next < first+n {
		due := first + int(time.Since(start).Seconds()*float64(*loadRate))
		for ; next < min(due, first+n); next++ {
			l.send(next, next%*loadUsers)
		}
		<-tick.C
	}
	l.waitFor(int64(next))
	lat := make([]time.Duration, 0, n)
	for i := first; i < next; i++ {
		lat = append(lat, time.Duration(l.recv[i].Load()-l.sent[i].Load()))
	}
	slices.Sort(lat)
	res.p50, res.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	res.rssMiB = rssMiB(tb, pid)
	if e := l.errors.Load(); e > 0 {
		tb.Errorf("%d error stanzas during the run", e)
	}
	return res
}

func loadUser(u int) string { return fmt.Sprintf("u%03d@load.test", u) }

// link links user u's sandbox account with the ad-hoc command and waits
// until its session is connected.
func (l *loadRun) link(u int) {
	jid := loadUser(u)
	cmd := `<iq type='set' id='link%d-%d' from='` + jid + `/r' to='` + loadDomain + `'><command xmlns='http://jabber.org/protocol/commands' node='link' %s</iq>`
	l.write(fmt.Sprintf(cmd, u, 1, `action='execute'/>`))
	res := l.wait(func(s loadStanza) bool { return s.ID == fmt.Sprintf("link%d-1", u) })
	if res.Command == nil || res.Command.SessionID == "" {
		l.tb.Fatalf("link %s: %+v", jid, res)
	}
	form := fmt.Sprintf(`sessionid='%s'><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>+1555700%04d</value></field></x></command>`, res.Command.SessionID, u)
	l.write(fmt.Sprintf(cmd, u, 2, form))
	l.wait(func(s loadStanza) bool {
		return strings.HasPrefix(s.To, jid) && strings.HasPrefix(s.Body, "Connected to ")
	})
}

func (l *loadRun) send(i, u int) {
	l.sent[i].Store(time.Now().UnixNano())
	l.write(fmt.Sprintf(`<message type='chat' id='L%d' from='%s/r' to='%s@%s'><body>L%d</body></message>`, i, loadUser(u), sandbox.EchoBot, loadDomain, i))
}

func (l *loadRun) write(raw string) {
	if err := l.srv.write(raw); err != nil {
		l.tb.Fatalf("write to the gateway: %v", err)
	}
}

// wait returns the first setup stanza matching match.
func (l *loadRun) wait(match func(loadStanza) bool) loadStanza {
	deadline := time.After(loadWait)
	for {
		select {
		case s := <-l.setup:
			if match(s) {
				return s
			}
		case err := <-l.srv.done:
			l.tb.Fatalf("fake server: %v", err)
		case <-deadline:
			l.tb.Fatal("timed out during setup")
		}
	}
}

// waitFor waits until n echoes have come back, polling the counter on a
// ticker (the echoes arrive on the server's goroutine).
func (l *loadRun) waitFor(n int64) {
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	deadline := time.After(loadWait)
	for l.got.Load() < n {
		select {
		case <-tick.C:
		case err := <-l.srv.done:
			l.tb.Fatalf("fake server: %v", err)
		case <-deadline:
			l.tb.Fatalf("timed out: %d of %d echoes", l.got.Load(), n)
		}
	}
}

// loadConfig writes the gateway's configuration for a run.
func loadConfig(tb testing.TB, backend, server string) string {
	redis := ""
	if backend == config.BackendRedis {
		redis = storetest.StartRedis(tb)
	}
	return gatewayConfig(tb, idleStore(tb, backend, redis, 0), server, `""`, false)
}

// startGatewayProcess runs the binary and stops it when the test ends.
func startGatewayProcess(tb testing.TB, bin, config string) int {
	return runGateway(tb, bin, config).pid
}

// gatewayProcess is one run of the binary.
type gatewayProcess struct {
	pid     int
	started time.Time
	stop    func()
}

// gatewayEnv adds environment variables to every gateway binary the
// benchmarks start, e.g. -gateway.env GOGC=50 to measure memory against
// the garbage collector's headroom (BenchmarkIdleAccounts).
var gatewayEnv = flag.String("gateway.env", "", "comma-separated KEY=VALUE pairs added to the environment of the gateway binaries the benchmarks start (e.g. GOGC=50,GOMEMLIMIT=64MiB)")

// runGateway runs the binary on config, with -gateway.env added to its
// environment; stop (also called at cleanup) ends it with SIGTERM, or
// SIGKILL after 30 s, and waits. Its log is shown if the test failed.
func runGateway(tb testing.TB, bin, config string) *gatewayProcess {
	started := time.Now()
	cmd := exec.Command(bin, "run", "--config", config)
	if *gatewayEnv != "" {
		cmd.Env = append(os.Environ(), strings.Split(*gatewayEnv, ",")...)
	}
	proc, err := testutil.Start(cmd, filepath.Join(tb.TempDir(), "gateway.log"))
	if err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = proc.Stop(30 * time.Second)
			if tb.Failed() {
				tb.Logf("gateway log:\n%s", proc.Tail(40))
			}
		})
	}
	tb.Cleanup(stop)
	return &gatewayProcess{pid: proc.Pid(), started: started, stop: stop}
}

// cpuTicks returns the process's user+system CPU time in clock ticks.
func cpuTicks(tb testing.TB, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name, which ends with the last ')': state
	// is field 3, utime 14 and stime 15.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("parsing /proc/%d/stat: %v %v", pid, err1, err2)
	}
	return utime + stime
}

// rssMiB returns the process's resident set size.
func rssMiB(tb testing.TB, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb / 1024
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

// profileCPU starts fetching a CPU profile from the gateway's
// /debug/pprof/profile (metrics.profiling); the returned function waits
// for it (the profile runs for load.seconds*2, or until the process ends)
// and writes it to path.
func profileCPU(tb testing.TB, ops, path string) func() {
	done := make(chan error, 1)
	go func() {
		res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", ops, 2**loadSeconds))
		if err != nil {
			done <- err
			return
		}
		defer res.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, res.Body)
		done <- errors.Join(err, f.Close())
	}()
	return func() {
		if err := <-done; err != nil {
			tb.Errorf("CPU profile: %v", err)
			return
		}
		tb.Logf("gateway CPU profile written to %s", path)
	}
}

// storeRoundTrips reads the gateway's drawbridge_store_round_trips_total
// from its metrics endpoint ops.
func storeRoundTrips(tb testing.TB, ops string) float64 {
	res, err := http.Get("http://" + ops + "/metrics")
	if err != nil {
		tb.Fatalf("metrics: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("metrics: %v", err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "drawbridge_store_round_trips_total "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				tb.Fatalf("metrics: %q: %v", line, err)
			}
			return n
		}
	}
	tb.Fatal("metrics: no drawbridge_store_round_trips_total")
	return 0
}
