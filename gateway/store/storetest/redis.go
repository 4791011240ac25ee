package storetest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
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
		port, err := freePort()
		if err != nil {
			t.Fatalf("storetest: finding a free port: %v", err)
		}
		p := &RedisProcess{
			t: t, path: path, dir: dir, args: args,
			addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		}
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
	running := p.cmd != nil
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
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("storetest: %s redis-server (pid %d): %v", what, cmd.Process.Pid, err)
	}
	select {
	case <-done:
	case <-time.After(redisStopTimeout):
		_ = cmd.Process.Kill()
		p.t.Errorf("storetest: redis-server (pid %d) did not exit within %v of %s", cmd.Process.Pid, redisStopTimeout, what)
		<-done
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
	logPath := filepath.Join(p.dir, "redis-"+port+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening the server log: %w", err)
	}
	cmd := exec.Command(p.path, args...)
	cmd.Dir = p.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("running %s: %w", p.path, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()

	if err := waitRedisReady(p.addr, done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("redis-server on %s: %w; its log:\n%s", p.addr, err, tail(logPath, 20))
	}
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// waitRedisReady polls addr with PING until the server answers PONG, the
// process exits (done is closed) or redisStartTimeout passes.
func waitRedisReady(addr string, done <-chan struct{}) error {
	deadline := time.Now().Add(redisStartTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if lastErr = pingRedis(addr); lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG within %v: %w", redisStartTimeout, lastErr)
		}
		select {
		case <-done:
			return errors.New("exited before answering PING")
		case <-tick.C:
		}
	}
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

// freePort asks the kernel for a free loopback port. Another process may
// take it before redis-server binds it; StartRedisProcess then retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of the file at path, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
