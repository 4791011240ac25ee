package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// Takeover benchmark (`make bench-cluster`): three gateway processes on
// one Redis and one Prosody, built and run as in TestClusterFailover
// (its helpers, its lease: clusterLeaseTTL, clusterRenewEvery). A user
// chats with the Echo Bot at a steady rate while the active process is
// stopped, clusterBenchRuns times with SIGKILL and as many with SIGTERM
// (a fresh standby replaces each stopped process). Per run:
//
//   - takeover: from the signal to the first echo of a message sent after
//     it (the new active process carries traffic end to end);
//   - gap: from the last echo before the signal to the first after it;
//   - bounced: messages Prosody returned with an error while no process
//     held the link (the sender sees them fail and may send again);
//   - lost: messages neither echoed nor bounced once all settled.
//
// p50 is the median; p99 over 10 runs is the largest run (nearest rank).

const (
	clusterBenchRuns = 10
	// clusterBenchEvery is the user's sending interval: 20 messages/s.
	clusterBenchEvery = 50 * time.Millisecond
	// clusterBenchSettle bounds the wait for the last echoes of a run.
	clusterBenchSettle = 10 * time.Second
)

// takeoverRun is one measured stop of the active process.
type takeoverRun struct {
	takeover, gap         time.Duration
	sent, echoed, bounced int
	// lost are the ids of the messages neither echoed nor bounced, each
	// with how long before (-) or after the signal it was sent.
	lost []string
}

func BenchmarkClusterTakeover(b *testing.B) {
	if testing.Short() {
		b.Skip("runs three gateway processes, Prosody and Redis")
	}
	bin := buildGateway(b)
	redisAddr := storetest.StartRedis(b)
	rc := redis.NewClient(&redis.Options{Addr: redisAddr})
	b.Cleanup(func() { rc.Close() })
	p := xmpptest.StartProsody(b, xmpptest.ProsodyOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: loadSecret}},
	})
	cfg := gatewayConfig(b, idleStore(b, config.BackendRedis, redisAddr, 0), p.ComponentAddr, `""`, false)
	editFile(b, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)

	nodes := map[string]*clusterNode{}
	next := 0
	spawn := func() {
		next++
		id := fmt.Sprintf("bench-%02d", next)
		nodes[id] = startClusterNode(b, bin, cfg, id)
	}
	for range 3 {
		spawn()
	}
	// live waits for three registered instances and a holder of the link.
	live := func() *clusterNode {
		waitFor(b, "three registered instances", func() bool { return len(clusterStatus(b, rc).Instances) == 3 })
		return nodes[waitFront(b, rc).Holder]
	}
	live()
	e := &e2e{t: b, prosody: p}
	u := e.user("alice")
	waitComponent(b, u, true)
	linkByChat(b, u)

	results := map[string][]takeoverRun{}
	kinds := []struct {
		name string
		stop func(n *clusterNode) error
	}{
		{"SIGKILL", func(n *clusterNode) error { return n.proc.Kill() }},
		{"SIGTERM", func(n *clusterNode) error { return n.proc.Signal(syscall.SIGTERM) }},
	}
	b.ResetTimer()
	for b.Loop() {
		for _, kind := range kinds {
			for run := range clusterBenchRuns {
				active := live()
				waitComponent(b, u, true)
				r := measureTakeover(b, u, fmt.Sprintf("K%s%02d-", kind.name[3:], run), func() error { return kind.stop(active) })
				results[kind.name] = append(results[kind.name], r)
				// To stdout: benchmark logs are cut after a few lines.
				fmt.Printf("%s run %d: %s stopped, takeover %v, gap %v, %d sent, %d bounced, %d lost %v\n", kind.name, run, active.id,
					r.takeover.Round(time.Millisecond), r.gap.Round(time.Millisecond), r.sent, r.bounced, len(r.lost), r.lost)
				select {
				case <-active.proc.Exited():
				case <-time.After(e2eWait):
					b.Fatalf("%s did not exit after %s", active.id, kind.name)
				}
				delete(nodes, active.id)
				spawn()
			}
		}
	}
	b.StopTimer()
	printTakeoverTable(b, results, []string{"SIGKILL", "SIGTERM"})
	for _, kind := range []string{"SIGKILL", "SIGTERM"} {
		takeovers := durations(results[kind], func(r takeoverRun) time.Duration { return r.takeover })
		b.ReportMetric(percentile(takeovers, 50).Seconds()*1000, "takeover-"+kind+"-p50-ms")
		b.ReportMetric(percentile(takeovers, 99).Seconds()*1000, "takeover-"+kind+"-p99-ms")
	}
}

// measureTakeover sends a message every clusterBenchEvery (ids prefix
// and a number) while reading the echoes; stop is called once the stream
// runs, and the stream goes on until an echo of a message sent after
// stop arrived and a second more; then it waits for every message to be
// echoed or bounced (or clusterBenchSettle).
func measureTakeover(b *testing.B, u *user, prefix string, stop func() error) takeoverRun {
	b.Helper()
	r := &echoReader{bounced: map[string]string{}}
	var (
		sentAt   = map[string]time.Time{}
		order    []string
		stopped  time.Time
		lastPre  time.Time // the last echo before stop
		firstNew time.Time // the first echo of a message sent after stop
		run      takeoverRun
	)
	seen := 0
	// take reads what arrives until deadline and stamps new echoes.
	take := func(deadline time.Time) {
		ctx, cancel := context.WithDeadline(b.Context(), deadline)
		defer cancel()
		for {
			s, err := u.c.Next(ctx)
			if err != nil {
				return
			}
			r.record(b, s)
			for ; seen < len(r.echoes); seen++ {
				now := time.Now()
				sent := sentAt[r.echoes[seen].body]
				switch {
				case stopped.IsZero():
					lastPre = now
				case firstNew.IsZero() && !sent.IsZero() && sent.After(stopped):
					firstNew = now
				}
			}
		}
	}
	send := func() {
		id := fmt.Sprintf("%s%05d", prefix, len(order))
		sentAt[id] = time.Now()
		order = append(order, id)
		u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, id, id))
	}
	tick := time.Now()
	for i := 0; ; i++ {
		send()
		tick = tick.Add(clusterBenchEvery)
		take(tick)
		if i == 10 && stopped.IsZero() {
			stopped = time.Now()
			if err := stop(); err != nil {
				b.Fatal(err)
			}
		}
		if !firstNew.IsZero() && time.Since(firstNew) > time.Second {
			break
		}
		if !stopped.IsZero() && time.Since(stopped) > 2*e2eWait {
			b.Fatalf("no echo within %v of the stop", 2*e2eWait)
		}
	}
	// Settle: every message echoed or bounced, or clusterBenchSettle.
	settled := func() bool {
		for _, id := range order {
			if !r.has(id) && r.bounced[id] == "" {
				return false
			}
		}
		return true
	}
	end := time.Now().Add(clusterBenchSettle)
	for !settled() && time.Now().Before(end) {
		take(time.Now().Add(200 * time.Millisecond))
	}
	run.sent = len(order)
	for _, id := range order {
		switch {
		case r.has(id):
			run.echoed++
		case r.bounced[id] != "":
			run.bounced++
		default:
			run.lost = append(run.lost, fmt.Sprintf("%s(%+dms)", id, sentAt[id].Sub(stopped).Milliseconds()))
		}
	}
	run.takeover = firstNew.Sub(stopped)
	run.gap = firstNew.Sub(lastPre)
	return run
}

func durations(runs []takeoverRun, f func(takeoverRun) time.Duration) []time.Duration {
	out := make([]time.Duration, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// percentile is the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

// printTakeoverTable prints the p50/p99 of each kind's runs to stdout.
func printTakeoverTable(b *testing.B, results map[string][]takeoverRun, kinds []string) {
	b.Helper()
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "\nstop of the active process\truns\ttakeover p50\ttakeover p99\tgap p50\tgap p99\tbounced p50/max\tlost total\n")
	for _, kind := range kinds {
		runs := results[kind]
		bounced := make([]time.Duration, len(runs)) // counts, sorted as durations
		lost := 0
		for i, r := range runs {
			bounced[i] = time.Duration(r.bounced)
			lost += len(r.lost)
		}
		takeovers := durations(runs, func(r takeoverRun) time.Duration { return r.takeover })
		gaps := durations(runs, func(r takeoverRun) time.Duration { return r.gap })
		fmt.Fprintf(w, "%s\t%d\t%v\t%v\t%v\t%v\t%d/%d\t%d\n", kind, len(runs),
			percentile(takeovers, 50).Round(time.Millisecond), percentile(takeovers, 99).Round(time.Millisecond),
			percentile(gaps, 50).Round(time.Millisecond), percentile(gaps, 99).Round(time.Millisecond),
			int(percentile(bounced, 50)), int(percentile(bounced, 100)), lost)
	}
	fmt.Fprintf(w, "(lease_ttl %v, renew_every %v; one message every %v)\n", clusterLeaseTTL, clusterRenewEvery, clusterBenchEvery)
	if err := w.Flush(); err != nil {
		b.Error(err)
	}
}
