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
// MONITOR: those clients sent (round trips, MULTI/EXEC and EVALSHA
// counted once each) apart from those Lua scripts ran.
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

// monitorSample sends n+1 messages of the first user to tg one at a time
// (each once the previous one's reply came back) with MONITOR on tg's
// redis-server, and returns the commands per message from the first
// reply to the last: round trips (top) and commands run by Lua scripts,
// in all and by name. Background work (lease renewals, blocking reads
// that time out) in that window counts too.
func (env *plEnv) monitorSample(tb testing.TB, tg plTarget, n int) (top, lua float64, topBy, luaBy map[string]float64) {
	m := startRedisMonitor(tb, tg.redisAddr)
	defer m.stop()
	c := env.users[0]
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
	for i := 1; i <= n; i++ {
		send(i)
	}
	top1, lua1 := m.counts()
	top, topBy = perMessage(top0, top1, n)
	lua, luaBy = perMessage(lua0, lua1, n)
	return top, lua, topBy, luaBy
}
