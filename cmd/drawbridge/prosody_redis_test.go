package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// workersTicks is the CPU time of tg's workers, summed, in clock ticks.
func (tg plTarget) workersTicks(tb testing.TB) int64 {
	var sum int64
	for _, pid := range tg.workers {
		sum += cpuTicks(tb, pid)
	}
	return sum
}

// redisTicks is the CPU time of tg's redis-server (0 if not measured).
func (tg plTarget) redisTicks(tb testing.TB) int64 {
	if tg.redisPID == 0 {
		return 0
	}
	return cpuTicks(tb, tg.redisPID)
}

// redisCommands is the calls of each command tg's redis-server ran so
// far (INFO commandstats; nil if not measured).
func (tg plTarget) redisCommands(tb testing.TB) map[string]int64 {
	if tg.redisPID == 0 {
		return nil
	}
	text := redisInfo(tb, tg.redisAddr, "commandstats")
	return parseCommandStats(text)
}

// redisInfo runs INFO section on the server at addr.
func redisInfo(tb testing.TB, addr, section string) string {
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text, err := rc.Info(ctx, section).Result()
	if err != nil {
		tb.Fatalf("redis INFO %s at %s: %v", section, addr, err)
	}
	return text
}

// redisPIDAt is the pid of the redis-server at addr (INFO server's
// process_id).
func redisPIDAt(tb testing.TB, addr string) int {
	for line := range strings.Lines(redisInfo(tb, addr, "server")) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				tb.Fatalf("redis process_id %q: %v", v, err)
			}
			return pid
		}
	}
	tb.Fatalf("no process_id in INFO server of %s", addr)
	return 0
}

// parseCommandStats reads the calls of each command from INFO
// commandstats ("cmdstat_xadd:calls=12,usec=..."). The INFO commands
// the benchmark itself sends are left out. Commands a Lua script runs
// count as well as the EVALSHA that ran them.
func parseCommandStats(text string) map[string]int64 {
	out := map[string]int64{}
	for line := range strings.Lines(text) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd || name == "info" {
			continue
		}
		for field := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(field, "calls="); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					out[name] = n
				}
			}
		}
	}
	return out
}

// commandsPerMessage is the commands run between two readings of
// INFO commandstats, per message: in all, and by command.
func commandsPerMessage(before, after map[string]int64, n float64) (float64, map[string]float64) {
	var total float64
	by := map[string]float64{}
	for name, calls := range after {
		if d := calls - before[name]; d > 0 {
			by[name] = float64(d) / n
			total += float64(d) / n
		}
	}
	return total, by
}

// formatCommands writes commands per message as "xadd 1.00, evalsha
// 2.00, ...", most frequent first, leaving out those under 0.01.
func formatCommands(by map[string]float64) string {
	names := slices.Collect(maps.Keys(by))
	slices.SortFunc(names, func(a, b string) int {
		if by[a] != by[b] {
			if by[a] > by[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, name := range names {
		if by[name] >= 0.01 {
			parts = append(parts, fmt.Sprintf("%s %.2f", name, by[name]))
		}
	}
	return strings.Join(parts, ", ")
}
