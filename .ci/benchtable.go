// Command benchtable reads `go test -bench` output on stdin and prints the
// summary tables of BENCHMARKS.md (issue 20) in Markdown: relayed
// messages per second, the gateway's and Prosody's CPU per message,
// p50/p99 latency and the ratios to the echo4 component, from the metrics
// that BenchmarkLoad and BenchmarkProsodyLoad report; and the idle-account
// figures of BenchmarkIdleAccounts. Benchmarks that did not run are left
// out; with none of them it says so.
//
//	go test -run '^$' -bench . ./cmd/drawbridge | tee bench.out
//	go run .ci/benchtable.go < bench.out
//
// `make bench` does both. Only the standard library is used.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	write(os.Stdout, results)
}

// metrics are one benchmark's reported values by unit.
type metrics map[string]float64

// procSuffix is the GOMAXPROCS suffix go test adds to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark result lines ("BenchmarkX/sub-2  1  123 ns/op
// 45.6 msgs/s ...") into metrics by name without the -N suffix. A name
// seen twice keeps the last line.
func parse(r io.Reader) (map[string]metrics, error) {
	out := map[string]metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // not a result line (a log line naming a benchmark)
		}
		m := metrics{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q of %s: %w", f[0], f[i], f[i+1], err)
			}
			m[f[i+1]] = v
		}
		out[procSuffix.ReplaceAllString(f[0], "")] = m
	}
	return out, sc.Err()
}

// row is one line of the throughput table.
type row struct {
	label, bench string
	prosody      bool // through Prosody: Prosody's CPU is measured
}

var rows = []row{
	{"component level, sqlite", "BenchmarkLoad/sqlite", false},
	{"component level, redis", "BenchmarkLoad/redis", false},
	{"Prosody + echo (one reply)", "BenchmarkProsodyLoad/echo", true},
	{"Prosody + echo4 (Echo Bot's four stanzas)", "BenchmarkProsodyLoad/echo4", true},
	{"Prosody + echo4bare", "BenchmarkProsodyLoad/echo4bare", true},
	{"Prosody + gateway", "BenchmarkProsodyLoad/gateway", true},
}

const echo4 = "BenchmarkProsodyLoad/echo4"

func write(w io.Writer, res map[string]metrics) {
	wrote := false
	base, haveBase := res[echo4]
	for _, r := range rows {
		m, ok := res[r.bench]
		if !ok {
			continue
		}
		if !wrote {
			fmt.Fprintln(w, "| | msgs/s | gateway CPU/msg | Prosody CPU/msg | p50 / p99 | msgs/s vs echo4 | Prosody CPU vs echo4 |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
			wrote = true
		}
		cpu, prosody := m["cpu-µs/msg"], "—"
		if r.prosody {
			cpu = m["comp-cpu-µs/msg"]
			prosody = micro(m["prosody-cpu-µs/msg"])
		}
		vsTput, vsCPU := "—", "—"
		if r.prosody && haveBase && r.bench != echo4 {
			if b := base["msgs/s"]; b > 0 {
				vsTput = fmt.Sprintf("%.0f %%", 100*m["msgs/s"]/b)
			}
			if b := base["prosody-cpu-µs/msg"]; b > 0 {
				vsCPU = fmt.Sprintf("%.2f×", m["prosody-cpu-µs/msg"]/b)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.2f / %.2f ms | %s | %s |\n", r.label, group(m["msgs/s"]), micro(cpu), prosody,
			m["p50-µs"]/1000, m["p99-µs"]/1000, vsTput, vsCPU)
	}
	idle := false
	for _, store := range []string{"sqlite", "redis"} {
		m, ok := res["BenchmarkIdleAccounts/"+store]
		if !ok {
			continue
		}
		if !idle {
			if wrote {
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w, "| idle accounts | all connected after | CPU until then | RSS per account | live heap per account |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
			idle = true
		}
		fmt.Fprintf(w, "| %s | %.2f s | %.2f s | %s B | %s B |\n", store, m["s-all-connected"], m["cpu-s-connected"],
			group(m["rss-B/account"]), group(m["live-heap-B/account"]))
	}
	if !wrote && !idle {
		fmt.Fprintln(w, "benchtable: no results of BenchmarkLoad, BenchmarkProsodyLoad or BenchmarkIdleAccounts in the input")
	}
}

// micro formats a CPU time per message in µs.
func micro(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f µs", v)
	}
	return group(v) + " µs"
}

// group formats v rounded to a whole number with a space between
// thousands, as BENCHMARKS.md writes them.
func group(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
