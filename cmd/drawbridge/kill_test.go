package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
)

// echoLog records, in arrival order, the bodies of the Echo Bot's replies
// ("echo: K..") that a fake XMPP server received.
type echoLog struct {
	mu     sync.Mutex
	bodies []string
	errors int
}

func (e *echoLog) record(s loadStanza) bool {
	if s.Type == "error" {
		e.mu.Lock()
		e.errors++
		e.mu.Unlock()
		return false
	}
	if !strings.HasPrefix(s.Body, "echo: K") {
		return false
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, strings.TrimPrefix(s.Body, "echo: "))
	e.mu.Unlock()
	return true
}

func (e *echoLog) snapshot() ([]string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.bodies...), e.errors
}

// buildGateway builds the binary once for a test.
func buildGateway(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "drawbridge")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestGatewaySIGKILLLosesNothing kills the real gateway binary with SIGKILL
// while the platform's messages to an XMPP user sit unconfirmed: the XMPP
// server (a fake one, load_server_test.go) reads them but never answers the
// acknowledgement pings, as a server that crashed before routing them
// would. Then the gateway restarts on the same sqlite file against a
// healthy server, and every message reaches the user exactly once, in
// order: the hub journaled each before delivering it (gateway/delivery/journal.go)
// and replays what was never confirmed. It runs on both store backends.
func TestGatewaySIGKILLLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary")
	}
	bin := buildGateway(t)
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) {
			if _, err := exec.LookPath("redis-server"); backend == "redis" && err != nil {
				t.Skip("redis-server is not installed")
			}
			testGatewaySIGKILL(t, bin, backend)
		})
	}
}

func testGatewaySIGKILL(t *testing.T, bin, backend string) {
	const n = 20
	user := loadUser(0)
	echoJID := string(sandbox.EchoBot) + "@" + loadDomain

	// Phase 1: link, then the echo bot answers n messages; the server takes
	// the answers in but confirms nothing.
	var before, after echoLog
	l := &loadRun{tb: t, setup: make(chan loadStanza, 1024)}
	srv1 := startLoadServer(t, loadDomain, loadSecret, func(s loadStanza) {
		if !before.record(s) {
			l.onStanza(s)
		}
	})
	l.srv = srv1
	srv1.holdPings.Store(true)
	cfg := loadConfig(t, backend, srv1.addr())
	pid := startGatewayProcess(t, bin, cfg)
	waitServerReady(t, srv1)
	l.link(0)
	send := func(srv *loadServer, i int) {
		raw := fmt.Sprintf(`<message type='chat' id='K%02d' from='%s/r' to='%s'><body>K%02d</body></message>`, i, user, echoJID, i)
		if err := srv.write(raw); err != nil {
			t.Fatalf("write to the gateway: %v", err)
		}
	}
	for i := range n {
		send(srv1, i)
	}
	waitFor(t, "the echoes at the first server", func() bool {
		got, _ := before.snapshot()
		return len(got) >= n
	})

	// The gateway dies without any chance to clean up.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-srv1.done:
	case <-time.After(loadWait):
		t.Fatal("the killed gateway's connection did not end")
	}

	// Phase 2: the same store, a server that confirms.
	l2 := &loadRun{tb: t, setup: make(chan loadStanza, 1024)}
	srv2 := startLoadServer(t, loadDomain, loadSecret, func(s loadStanza) {
		if !after.record(s) {
			l2.onStanza(s)
		}
	})
	l2.srv = srv2
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The second server's address, and info logs (the replay's count) in
	// the log printed on failure.
	cfg2 := strings.Replace(strings.Replace(string(data), srv1.addr(), srv2.addr(), 1), "level: warn", "level: info", 1)
	if err := os.WriteFile(cfg, []byte(cfg2), 0o600); err != nil {
		t.Fatal(err)
	}
	startGatewayProcess(t, bin, cfg)
	waitServerReady(t, srv2)
	waitFor(t, "the replayed echoes at the second server", func() bool {
		got, _ := after.snapshot()
		return len(got) >= n
	})
	// A fresh message after the replay: its echo comes last, so anything
	// replayed twice would show up before it.
	send(srv2, n)
	waitFor(t, "the echo of the message after the restart", func() bool {
		got, _ := after.snapshot()
		return len(got) > 0 && got[len(got)-1] == fmt.Sprintf("K%02d", n)
	})

	first, _ := before.snapshot()
	got, errs := after.snapshot()
	seen := map[string]int{}
	for _, b := range got {
		seen[b]++
	}
	for i := range n + 1 {
		if c := seen[fmt.Sprintf("K%02d", i)]; c != 1 {
			t.Errorf("K%02d reached the user %d times after the restart, want 1", i, c)
		}
	}
	for i, b := range got {
		if want := fmt.Sprintf("K%02d", i); b != want {
			t.Errorf("after the restart, echo %d is %s, want %s (order: %v)", i, b, want, got)
			break
		}
	}
	if errs > 0 {
		t.Errorf("%d error stanzas after the restart", errs)
	}

	// The journal empties once the second server confirmed everything.
	st := openConfiguredStore(t, cfg)
	waitFor(t, "an empty journal", func() bool {
		items, err := st.Pending(t.Context(), ids.Owner(user), 0)
		return err == nil && len(items) == 0
	})
	t.Logf("before SIGKILL: %d echoes written, none confirmed; after the restart: %d echoes, %d distinct, in order (%d replayed + 1 new)",
		len(first), len(got), len(seen), n)
}

// waitServerReady waits for the gateway's handshake with srv.
func waitServerReady(t *testing.T, srv *loadServer) {
	t.Helper()
	select {
	case <-srv.ready:
	case err := <-srv.done:
		t.Fatalf("fake server: %v", err)
	case <-time.After(loadWait):
		t.Fatal("the gateway did not connect")
	}
}

// openConfiguredStore opens, beside the running gateway, the store of a
// configuration loadConfig wrote (its sqlite file or its Redis server).
func openConfiguredStore(t *testing.T, cfg string) store.Store {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if p, ok := strings.CutPrefix(line, "path: "); ok {
			st, err := sqlitestore.Open(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		if u, ok := strings.CutPrefix(line, "url: redis://"); ok {
			addr, _, _ := strings.Cut(u, "/")
			st := redisstore.New(redis.NewClient(&redis.Options{Addr: addr}), redisstore.Options{})
			t.Cleanup(func() { st.Close() })
			return st
		}
	}
	t.Fatalf("no store in %s", cfg)
	return nil
}
