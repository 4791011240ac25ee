package storetest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

const (
	// redisStartTimeout bounds how long a redis-server may take to answer PING.
	redisStartTimeout = 10 * time.Second
	// redisStopTimeout bounds how long a stopped redis-server may take to exit.
	redisStopTimeout = 10 * time.Second
	// redisBindAttempts is how many free ports are tried before giving up.
	redisBindAttempts = 5
)

// StartRedis runs a redis-server on a free 127.0.0.1 port for the test and
// returns its address (host:port). The server keeps no snapshot and no
// append-only file unless args say otherwise; args are appended to its
// command line (e.g. "--appendonly", "yes"). It is killed when the test ends.
// Under -short (unit tests only, no external servers) the test is skipped.
func StartRedis(t testing.TB, args ...string) (addr string) {
	t.Helper()
	return StartRedisProcess(t, args...).Addr()
}

// RedisProcess is a redis-server running as a child process of a test, for
// tests that stop and restart it. Its methods fail the test on error and must
// be called from the test's goroutine.
type RedisProcess struct {
	t    testing.TB
	path string
	addr string
	dir  string
	args []string

	mu   sync.Mutex
	proc *testutil.Process // nil while stopped
}

// StartRedisProcess is StartRedis returning the process.
func StartRedisProcess(t testing.TB, args ...string) *RedisProcess {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: starts a redis-server")
	}
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("storetest: redis-server is needed and not on PATH (%v); install it with: sudo apt-get install -y redis-server", err)
	}
	dir := t.TempDir()
	var lastErr error
	for range redisBindAttempts {
		port, err := testutil.PickPort()
		if err != nil {
			t.Fatalf("storetest: %v", err)
		}
		p := &RedisProcess{t: t, path: path, dir: dir, args: args, addr: testutil.LoopbackAddr(port)}
		if lastErr = p.start(); lastErr == nil {
			t.Cleanup(p.Kill)
			return p
		}
		// Most likely another process took the port in the meantime.
	}
	t.Fatalf("storetest: starting redis-server failed %d times; last: %v", redisBindAttempts, lastErr)
	return nil
}

// Addr is the host:port the server listens on; it stays the same across
// restarts.
func (p *RedisProcess) Addr() string { return p.addr }

// Dir is the server's working directory (its dump and append-only files).
func (p *RedisProcess) Dir() string { return p.dir }

// Stop shuts the server down with SIGTERM (it writes its files, as on a
// clean shutdown) and waits for it to exit. Stopping a stopped server does
// nothing.
func (p *RedisProcess) Stop() { p.t.Helper(); p.signal(syscall.SIGTERM, "stop") }

// Kill kills the server with SIGKILL, like a crash, and waits for it to
// exit. Killing a stopped server does nothing.
func (p *RedisProcess) Kill() { p.t.Helper(); p.signal(os.Kill, "kill") }

// Restart starts a stopped server again on the same port and directory, and
// waits until it answers PING (after it has loaded its data).
func (p *RedisProcess) Restart() {
	p.t.Helper()
	p.mu.Lock()
	running := p.proc != nil
	p.mu.Unlock()
	if running {
		p.t.Fatalf("storetest: Restart of redis-server at %s, which is still running", p.addr)
	}
	if err := p.start(); err != nil {
		p.t.Fatalf("storetest: restarting redis-server: %v", err)
	}
}

func (p *RedisProcess) signal(sig os.Signal, what string) {
	p.t.Helper()
	p.mu.Lock()
	proc := p.proc
	p.proc = nil
	p.mu.Unlock()
	if proc == nil {
		return
	}
	if err := proc.Terminate(sig, redisStopTimeout); err != nil {
		p.t.Errorf("storetest: %s redis-server: %v", what, err)
	}
}

// start runs the server and waits until it answers PING, or exits.
func (p *RedisProcess) start() error {
	_, port, _ := net.SplitHostPort(p.addr)
	args := append([]string{
		"--bind", "127.0.0.1", "--port", port,
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", p.dir,
	}, p.args...)
	cmd := exec.Command(p.path, args...)
	cmd.Dir = p.dir
	proc, err := testutil.Start(cmd, filepath.Join(p.dir, "redis-"+port+".log"))
	if err != nil {
		return err
	}
	if err := proc.WaitReady(redisStartTimeout, func() error { return pingRedis(p.addr) }); err != nil {
		_ = proc.Kill()
		return fmt.Errorf("redis-server on %s: %w\n%s", p.addr, err, proc.Tail(20))
	}
	p.mu.Lock()
	p.proc = proc
	p.mu.Unlock()
	return nil
}

// pingRedis sends one inline PING command and expects +PONG. A server still
// loading its data answers -LOADING, which is an error here.
func pingRedis(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
