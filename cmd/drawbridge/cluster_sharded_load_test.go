package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// shardLoadConfigs are the configurations of BenchmarkShardedLoad: the
// single gateway process on Redis without cluster, then sharded clusters
// of 1, 2 and 3 processes (0: no cluster).
var shardLoadConfigs = []struct {
	name  string
	procs int
}{
	{"single", 0},
	{"procs=1", 1},
	{"procs=2", 2},
	{"procs=3", 3},
}

// shardMonitorMessages is how many messages BenchmarkShardedLoad sends one
// at a time, after the measured phases, with MONITOR on Redis.
const shardMonitorMessages = 100

// BenchmarkShardedLoad (issue 18) measures a sharded cluster of 1, 2 and
// 3 gateway processes (cluster.mode: sharded) with one Prosody and one
// Redis, and, in the same run on the same Prosody and users, the single
// gateway process on Redis without cluster. The -prosody.users lean c2s
// users each link a sandbox account (so each user's owner lives on the
// worker rendezvous hashing prefers) and write to the Echo Bot, as in
// BenchmarkProsodyLoad's gateway target, whose run this is: relayed
// msgs/s with a bounded window, p50/p99 at the offered -prosody.rate.
//
// Each configuration gets a fresh redis-server. CPU per message (of the
// throughput phase) is reported for the gateway processes summed
// (comp-cpu), split into the front (the holder of the front lease and the
// XEP-0114 link; a worker too) and the other workers, for Prosody and
// for redis-server, with the Redis commands run per message (INFO
// commandstats, lease renewals included; under load the hub batches its
// store writes). Then shardMonitorMessages messages, one at a time, with
// MONITOR on Redis count the commands clients sent per message
// (redis-sent-cmds: a script call is one, a pipeline counts each of its
// commands) apart from those Lua scripts run, less the background
// counted for a while after (redis-idle-cmds/s). The extra CPU per
// message of routing through Redis Streams is procs=1 minus single,
// logged by procs=1.
func BenchmarkShardedLoad(b *testing.B) {
	if testing.Short() {
		b.Skip("load test: runs Prosody, Redis and up to three gateway processes")
	}
	for _, cmd := range []string{"prosody", "redis-server"} {
		if _, err := exec.LookPath(cmd); err != nil {
			b.Skipf("%s is not installed", cmd)
		}
	}
	bin := filepath.Join(b.TempDir(), "drawbridge")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	p := xmpptest.StartProsody(b, xmpptest.ProsodyOptions{
		Domain:     plDomain,
		LogLevel:   "warn",
		Components: []xmpptest.ComponentSpec{{Domain: loadDomain, Secret: loadSecret}},
	})
	env := &plEnv{prosody: p, prosodyPID: prosodyPID(b, p)}
	registerUsers(b, p, *plUsers)
	env.dialUsers(b, *plUsers)

	results := map[string]plResult{}
	for _, c := range shardLoadConfigs {
		b.Run(c.name, func(b *testing.B) {
			tg, sample, where := env.startShardTarget(b, bin, c.name, c.procs)
			var r plResult
			for b.Loop() {
				r = env.run(b, tg)
			}
			results[c.name] = r
			reportShardLoad(b, tg, r)
			rs := env.monitorSample(b, tg, sample, shardMonitorMessages)
			b.ReportMetric(rs.top, "redis-sent-cmds/msg")
			b.ReportMetric(rs.lua, "redis-lua-cmds/msg")
			b.ReportMetric(rs.background, "redis-idle-cmds/s")
			b.Logf("%s: Redis per message, %d messages one at a time of a user %s (MONITOR, less the background of %.0f commands/s): %.2f commands sent (%s); %.2f run by Lua scripts (%s)",
				c.name, shardMonitorMessages, where, rs.background, rs.top, formatCommands(rs.topBy), rs.lua, formatCommands(rs.luaBy))
			if single, ok := results["single"]; ok && c.procs == 1 {
				b.ReportMetric(r.compCPU-single.compCPU, "extra-gw-cpu-µs/msg")
				b.ReportMetric(r.redisCPU-single.redisCPU, "extra-redis-cpu-µs/msg")
				b.Logf("routing through Redis Streams (procs=1 - single) costs per message: gateway %+.1f µs, redis-server %+.1f µs, Prosody %+.1f µs, %+.2f Redis commands; throughput %.0f %% of single",
					r.compCPU-single.compCPU, r.redisCPU-single.redisCPU, r.prosodyCPU-single.prosodyCPU,
					r.redisOps-single.redisOps, 100*r.throughput/single.throughput)
			}
		})
	}
}

// reportShardLoad reports one configuration's figures.
func reportShardLoad(b *testing.B, tg plTarget, r plResult) {
	b.ReportMetric(r.throughput, "msgs/s")
	b.ReportMetric(float64(r.p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
	b.ReportMetric(r.compCPU, "comp-cpu-µs/msg")
	b.ReportMetric(r.compCPU-r.workersCPU, "front-cpu-µs/msg")
	b.ReportMetric(r.workersCPU, "workers-cpu-µs/msg")
	b.ReportMetric(r.prosodyCPU, "prosody-cpu-µs/msg")
	b.ReportMetric(r.redisCPU, "redis-cpu-µs/msg")
	b.ReportMetric(r.compCPU+r.prosodyCPU+r.redisCPU, "server-cpu-µs/msg")
	b.ReportMetric(r.clientCPU, "client-cpu-µs/msg")
	b.ReportMetric(r.redisOps, "redis-cmds/msg")
	b.Logf("%s (%s): %.0f msgs/s relayed (window %d, %d users, %.1f stanzas to the user per message); at %d msgs/s offered: p50 %v, p99 %v; CPU per message: gateway %.1f µs (front %.1f, %d other workers %.1f), Prosody %.1f µs, redis-server %.1f µs, load generator %.1f µs; front RSS %.1f MiB",
		tg.name, tg.desc, r.throughput, *plWindow, *plUsers, r.stanzasPerMsg, *plRate, r.p50, r.p99,
		r.compCPU, r.compCPU-r.workersCPU, len(tg.workers), r.workersCPU, r.prosodyCPU, r.redisCPU, r.clientCPU, r.rssMiB)
	b.Logf("%s: Redis commands per message (throughput phase, lease renewals included): %.2f: %s", tg.name, r.redisOps, formatCommands(r.redisCmds))
	b.Logf("%s: per message the front's link wrote %.2f stanzas and read %.2f; mean hub relay time in the latency phase (front's drawbridge_relay_duration_seconds): %s",
		tg.name, r.compOut, r.compIn, r.relay)
}

// startShardTarget starts a fresh redis-server and, on it, the single
// gateway process (procs 0) or a sharded cluster of procs processes
// (shard-1, the front, first), links the users and waits until each
// user's owner is held by the worker rendezvous hashing prefers.
// Everything stops when b ends. It returns the target, and the user
// whose messages monitorSample counts, with where its owner lives: on a
// worker other than the front when there is one (the case of most users
// in a cluster of several).
func (env *plEnv) startShardTarget(b *testing.B, bin, name string, procs int) (tg plTarget, sample int, where string) {
	addr := storetest.StartRedisProcess(b).Addr()
	cfg := gatewayConfig(b, idleStore(b, config.BackendRedis, addr, 0), env.prosody.ComponentAddr, `""`, false)
	tg = plTarget{name: name, to: string(sandbox.EchoBot) + "@" + loadDomain, redisAddr: addr, redisPID: redisPIDAt(b, addr)}
	if procs == 0 {
		metrics := testutil.FreeAddr(b)
		editFile(b, cfg, "metrics:\n  listen: \"\"", "metrics:\n  listen: "+metrics)
		tg.pid = startGatewayProcess(b, bin, cfg)
		tg.metrics = "http://" + metrics + "/metrics"
		tg.desc = "one gateway process on Redis, no cluster"
		env.linkUsers(b)
		return tg, 0, "of the single process"
	}
	rc := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { rc.Close() })
	nodes := map[string]*clusterNode{}
	var ids []string
	for i := range procs {
		id := fmt.Sprintf("shard-%d", i+1)
		n := startShardNode(b, bin, cfg, id)
		nodes[id], ids = n, append(ids, id)
		if i == 0 {
			if front := waitFront(b, rc); front.Holder != id {
				b.Fatalf("front %+v, want %s", front, id)
			}
			tg.pid, tg.metrics = n.proc.Pid(), "http://"+n.metrics+"/metrics"
		} else {
			tg.workers = append(tg.workers, n.proc.Pid())
		}
	}
	waitFor(b, fmt.Sprintf("%d workers registered", procs), func() bool { return len(clusterStatus(b, rc).Workers) == procs })
	tg.desc = fmt.Sprintf("sharded cluster of %d processes on Redis", procs)
	env.linkUsers(b)
	ownedOnce(b, rc, nodes, len(env.users))
	waitFor(b, "every user's owner held by the worker rendezvous hashing prefers", func() bool {
		for u := range env.users {
			owner := plUserName(u) + "@" + plDomain
			if holderOf(b, rc, owner) != cluster.Preferred(owner, ids) {
				return false
			}
		}
		return true
	})
	where = "served by the front (" + ids[0] + ")"
	for u := range env.users {
		if h := cluster.Preferred(plUserName(u)+"@"+plDomain, ids); h != ids[0] {
			return tg, u, "served by " + h + ", not the front"
		}
	}
	return tg, 0, where
}
