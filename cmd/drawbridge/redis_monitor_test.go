package main

import (
	"bufio"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// redisMonitor counts the commands a redis-server runs, by name, through
// MONITOR: those clients sent (an EVALSHA counts once, a pipeline or
// MULTI/EXEC each of its commands) apart from those Lua scripts ran.
type redisMonitor struct {
	nc   net.Conn
	done chan struct{}

	mu       sync.Mutex
	top, lua map[string]int
}

// startRedisMonitor starts MONITOR on the server at addr and returns once
// the server monitors. It stops when tb ends, or with stop.
func startRedisMonitor(tb testing.TB, addr string) *redisMonitor {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	m := &redisMonitor{nc: nc, done: make(chan struct{}), top: map[string]int{}, lua: map[string]int{}}
	br := bufio.NewReader(nc)
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte("MONITOR\r\n")); err != nil {
		nc.Close()
		tb.Fatal(err)
	}
	if line, err := br.ReadString('\n'); err != nil || strings.TrimSpace(line) != "+OK" {
		nc.Close()
		tb.Fatalf("MONITOR answered %q, %v", line, err)
	}
	_ = nc.SetDeadline(time.Time{})
	go func() {
		defer close(m.done)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			name, lua, ok := parseMonitorLine(strings.TrimSuffix(strings.TrimPrefix(line, "+"), "\r\n"))
			if !ok {
				continue
			}
			m.mu.Lock()
			if lua {
				m.lua[name]++
			} else {
				m.top[name]++
			}
			m.mu.Unlock()
		}
	}()
	tb.Cleanup(m.stop)
	return m
}

// stop ends MONITOR and waits for the reader.
func (m *redisMonitor) stop() {
	m.nc.Close()
	<-m.done
}

// counts returns copies of the counts so far.
func (m *redisMonitor) counts() (top, lua map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.top), maps.Clone(m.lua)
}

// parseMonitorLine reads the command name of one MONITOR line
// (`1700000000.123456 [0 127.0.0.1:6000] "xadd" "k" ...`), and whether a
// Lua script ran it (`[0 lua]`).
func parseMonitorLine(line string) (name string, lua, ok bool) {
	_, rest, ok := strings.Cut(line, " [")
	if !ok {
		return "", false, false
	}
	client, rest, ok := strings.Cut(rest, "] \"")
	if !ok {
		return "", false, false
	}
	name, _, ok = strings.Cut(rest, "\"")
	if !ok || name == "" {
		return "", false, false
	}
	return strings.ToLower(name), strings.HasSuffix(client, " lua"), true
}

// perMessage is the difference of two counts per message.
func perMessage(before, after map[string]int, n int) (float64, map[string]float64) {
	var total float64
	by := map[string]float64{}
	for name, v := range after {
		if d := v - before[name]; d > 0 {
			by[name] = float64(d) / float64(n)
			total += float64(d) / float64(n)
		}
	}
	return total, by
}

// monitorIdle is how long monitorSample counts the background commands
// after its messages: several rounds of lease renewals (renew_every
// 500ms in the cluster tests).
const monitorIdle = 2 * time.Second

// redisSample is what monitorSample counted, per message: the commands
// clients sent (an EVALSHA counts once, a pipeline each of its commands)
// and those Lua scripts ran, in all and by name, less the background
// (lease renewals, heartbeats, registry reads, blocking reads that time
// out), which is given per second.
type redisSample struct {
	top, lua     float64
	topBy, luaBy map[string]float64
	background   float64 // commands per second with no message
}

// monitorSample sends n+1 messages of user u to tg one at a time
// (each once the previous one's reply came back) with MONITOR on tg's
// redis-server and counts the commands from the first reply to the last;
// then it counts the background for monitorIdle with no message, and
// takes its share of the messages' time off.
func (env *plEnv) monitorSample(tb testing.TB, tg plTarget, u, n int) redisSample {
	m := startRedisMonitor(tb, tg.redisAddr)
	defer m.stop()
	c := env.users[u]
	ph := &plPhase{sent: make([]atomic.Int64, n+1), recv: make([]atomic.Int64, n+1)}
	c.phase.Store(ph)
	defer c.phase.Store(nil)
	send := func(i int) {
		ph.sent[i].Store(time.Now().UnixNano())
		if err := c.write(fmt.Appendf(nil, `<message type='chat' id='S%d' to='%s'><body>L%d</body></message>`, i, tg.to, i)); err != nil {
			tb.Fatalf("write: %v", err)
		}
		ph.waitFor(tb, int64(i+1))
	}
	send(0)
	top0, lua0 := m.counts()
	start := time.Now()
	for i := 1; i <= n; i++ {
		send(i)
	}
	busy := time.Since(start)
	top1, lua1 := m.counts()
	idle := time.NewTimer(monitorIdle)
	<-idle.C // counting the background: the measured interval, not a wait for an event
	top2, lua2 := m.counts()
	scale := busy.Seconds() / monitorIdle.Seconds()
	var r redisSample
	r.top, r.topBy = netPerMessage(top0, top1, top2, scale, n)
	r.lua, r.luaBy = netPerMessage(lua0, lua1, lua2, scale, n)
	bgTop, _ := perMessage(top1, top2, 1)
	bgLua, _ := perMessage(lua1, lua2, 1)
	r.background = (bgTop + bgLua) / monitorIdle.Seconds()
	return r
}

// netPerMessage is the counts from c0 to c1 less scale times those from
// c1 to c2 (the background), per message.
func netPerMessage(c0, c1, c2 map[string]int, scale float64, n int) (float64, map[string]float64) {
	var total float64
	by := map[string]float64{}
	for name, v1 := range c1 {
		d := float64(v1-c0[name]) - scale*float64(c2[name]-v1)
		if d > 0 {
			by[name] = d / float64(n)
			total += d / float64(n)
		}
	}
	return total, by
}
