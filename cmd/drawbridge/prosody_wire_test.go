package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// plWire counts the bytes on both sides of Prosody: the c2s users'
// sockets (counted by the clients) and the component's link (the
// gateway's drawbridge_xmpp_bytes_total; for the echo components, which
// do no other I/O, /proc/PID/io). Running totals, or per message once
// turned into a difference (perMessage).
type plWire struct {
	usersOut, usersIn float64 // written / read by the users
	compOut, compIn   float64 // written / read by the component
	// compSegs and usersSegs count TCP data segments (ss's
	// data_segs_out / data_segs_in): the component's sent on its link,
	// and the ones the users received. With TCP_NODELAY (Go's default)
	// and loopback's 64 KiB MSS, the component's are its socket writes,
	// so about the reads Prosody needs for them; the users' are Prosody's
	// sends to them (its Nagle algorithm may merge some).
	compSegs, usersSegs float64
}

func (w plWire) String() string {
	return fmt.Sprintf("users wrote %.0f and read %.0f; the component wrote %.0f and read %.0f; TCP data segments: the component sent %.3f, the users received %.3f",
		w.usersOut, w.usersIn, w.compOut, w.compIn, w.compSegs, w.usersSegs)
}

// wireCounters reads the running totals for target tg.
func (env *plEnv) wireCounters(tb testing.TB, tg plTarget) plWire {
	var w plWire
	for _, c := range env.users {
		w.usersOut += float64(c.bytesOut.Load())
		w.usersIn += float64(c.bytesIn.Load())
	}
	w.compSegs, _ = tcpSegments(tb, tg.pid, env.prosody.ComponentAddr)
	_, w.usersSegs = tcpSegments(tb, os.Getpid(), env.prosody.C2SAddr)
	if tg.metrics != "" {
		m, err := scrapeOrNil(tg.metrics)
		if err != nil || m == nil {
			tb.Fatalf("scraping %s: %v", tg.metrics, err)
		}
		w.compOut, w.compIn = m[`drawbridge_xmpp_bytes_total{direction="out"}`], m[`drawbridge_xmpp_bytes_total{direction="in"}`]
		return w
	}
	r, wr := procIO(tb, tg.pid)
	w.compIn, w.compOut = float64(r), float64(wr)
	return w
}

// perMessage is the difference since before, per message.
func (w plWire) perMessage(before plWire, n float64) plWire {
	return plWire{
		usersOut:  (w.usersOut - before.usersOut) / n,
		usersIn:   (w.usersIn - before.usersIn) / n,
		compOut:   (w.compOut - before.compOut) / n,
		compIn:    (w.compIn - before.compIn) / n,
		compSegs:  (w.compSegs - before.compSegs) / n,
		usersSegs: (w.usersSegs - before.usersSegs) / n,
	}
}

// tcpSegments sums the data segments sent and received (ss -i's
// data_segs_out and data_segs_in) over process pid's established TCP
// connections to addr.
func tcpSegments(tb testing.TB, pid int, addr string) (out, in float64) {
	res, err := exec.Command("ss", "-tinpH", "state", "established", "dst", addr).Output()
	if err != nil {
		tb.Fatalf("ss: %v", err)
	}
	owner := fmt.Sprintf("pid=%d,", pid)
	mine := false
	for line := range strings.Lines(string(res)) {
		if !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, " ") {
			mine = strings.Contains(line, owner) // the socket's line; its details follow
			continue
		}
		if !mine {
			continue
		}
		for f := range strings.FieldsSeq(line) {
			k, v, ok := strings.Cut(f, ":")
			if !ok || (k != "data_segs_out" && k != "data_segs_in") {
				continue
			}
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("ss: %s: %v", f, err)
			}
			if k == "data_segs_out" {
				out += n
			} else {
				in += n
			}
		}
	}
	return out, in
}

// procIO returns the bytes the process read and wrote with read and
// write system calls (/proc/PID/io rchar and wchar; Go's sockets use
// them, Prosody's recv and send do not count there).
func procIO(tb testing.TB, pid int) (read, written int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			tb.Fatalf("parsing /proc/%d/io: %v", pid, err)
		}
		switch k {
		case "rchar":
			read = n
		case "wchar":
			written = n
		}
	}
	return read, written
}

// componentPings reads the pings the gateway wrote from its metrics (0
// for a component without metrics).
func componentPings(url string) float64 {
	m, err := scrapeOrNil(url)
	if err != nil || m == nil {
		return 0
	}
	return m["drawbridge_xmpp_pings_total"]
}

// plProfileSeconds is how long the profiles of -prosody.profile run: about
// the throughput phase of the default knobs on a 2-core machine.
const plProfileSeconds = 4

// profileGateway starts fetching the gateway's /debug/pprof/KIND over
// plProfileSeconds (for allocs, what was allocated meanwhile) into path;
// the returned function waits for it.
func profileGateway(tb testing.TB, ops, kind, path string) func() {
	done := make(chan error, 1)
	go func() {
		done <- fetchProfile(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", ops, kind, plProfileSeconds), path)
	}()
	return func() {
		if err := <-done; err != nil {
			tb.Errorf("gateway %s profile: %v", kind, err)
			return
		}
		tb.Logf("gateway %s profile written to %s", kind, path)
	}
}
