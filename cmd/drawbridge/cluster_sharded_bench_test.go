package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// Sharded takeover benchmark (`make bench-cluster`): three sharded
// gateway processes on one Redis and one Prosody, 300 idle accounts and
// three users, run as in TestShardedCluster. A user whose owner is served
// by a process that is not the front chats with the Echo Bot at a steady
// rate (measureTakeover) while one process is killed with SIGKILL,
// clusterBenchRuns times each:
//
//   - front: the holder of the front lease (the user's worker lives on;
//     the link is down until another process takes the lease);
//   - worker: the process serving the user (the link stays up; the
//     user's messages wait in its inbox until another process claims it);
//   - front SIGTERM: the front stops cleanly (its users handed over, then
//     the link: the lease is released and another process takes it).
//
// A fresh process replaces each killed one. Figures as in
// BenchmarkClusterTakeover.
// shardedTakeoverKinds are the stops BenchmarkShardedTakeover measures:
// SIGKILL of the front, of the user's worker, and SIGTERM of the front.
var shardedTakeoverKinds = []string{"front", "worker", "front SIGTERM"}

func BenchmarkShardedTakeover(b *testing.B) {
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
	st := idleStore(b, config.BackendRedis, redisAddr, 0)
	cfg := gatewayConfig(b, st, p.ComponentAddr, `""`, false)
	editFile(b, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)
	seedShardOwners(b, st, linkTemplate(b, bin), shardedAccounts)

	nodes := map[string]*clusterNode{}
	next := 0
	spawn := func() {
		next++
		id := fmt.Sprintf("shard-%02d", next)
		nodes[id] = startShardNode(b, bin, cfg, id)
	}
	for range 3 {
		spawn()
	}
	users := 0
	settle := func() {
		ownedOnce(b, rc, nodes, shardedAccounts+users)
	}
	settle()
	e := &e2e{t: b, prosody: p}
	var us []*user
	for i, name := range []string{"ann", "ben", "cat"} {
		u := e.user(name)
		if i == 0 {
			waitComponent(b, u, true)
		}
		linkPhone(b, u, fmt.Sprintf("+1555766300%d", i))
		us = append(us, u)
		users++
	}
	// pick returns a user whose owner is held by a live process other
	// than the front, and that process; nil if every user is on the front.
	pick := func(front string) (*user, string) {
		for _, u := range us {
			if h := holderOf(b, rc, u.bare); h != "" && h != front && nodes[h] != nil {
				return u, h
			}
		}
		return nil, ""
	}

	results := map[string][]takeoverRun{}
	b.ResetTimer()
	for b.Loop() {
		for _, kind := range shardedTakeoverKinds {
			for run := 0; run < clusterBenchRuns; {
				settle()
				front := waitFront(b, rc).Holder
				u, worker := pick(front)
				if u == nil {
					// Every user on the front: replace the front and look again.
					fmt.Printf("%s run %d: every user is served by the front %s; replacing it first\n", kind, run, front)
					if err := nodes[front].proc.Kill(); err != nil {
						b.Fatal(err)
					}
					delete(nodes, front)
					spawn()
					continue
				}
				victim, stop := front, nodes[front].proc.Kill
				switch kind {
				case "worker":
					victim, stop = worker, nodes[worker].proc.Kill
				case "front SIGTERM":
					stop = func() error { return nodes[front].proc.Signal(syscall.SIGTERM) }
				}
				waitComponent(b, u, true)
				r := measureTakeover(b, u, fmt.Sprintf("K%s%02d-", kind[:1]+kind[len(kind)-1:], run), stop)
				results[kind] = append(results[kind], r)
				fmt.Printf("%s run %d: %s killed (front %s, user's worker %s), takeover %v, gap %v, %d sent, %d bounced, %d lost %v\n", kind, run, victim, front, worker,
					r.takeover.Round(time.Millisecond), r.gap.Round(time.Millisecond), r.sent, r.bounced, len(r.lost), r.lost)
				select {
				case <-nodes[victim].proc.Exited():
				case <-time.After(e2eWait):
					b.Fatalf("%s did not exit", victim)
				}
				delete(nodes, victim)
				spawn()
				run++
			}
		}
	}
	b.StopTimer()
	printTakeoverTable(b, results, shardedTakeoverKinds)
	for _, kind := range shardedTakeoverKinds {
		takeovers := durations(results[kind], func(r takeoverRun) time.Duration { return r.takeover })
		name := strings.ReplaceAll(kind, " ", "-")
		b.ReportMetric(percentile(takeovers, 50).Seconds()*1000, "takeover-"+name+"-p50-ms")
		b.ReportMetric(percentile(takeovers, 99).Seconds()*1000, "takeover-"+name+"-p99-ms")
	}
}
