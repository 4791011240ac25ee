package xmpptest

import (
	"bytes"
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

// Timeouts of the harness.
const (
	prosodyStartTimeout = 30 * time.Second
	prosodyStopTimeout  = 10 * time.Second
	prosodyLogTail      = 50
)

// ProsodyOptions configures StartProsody.
type ProsodyOptions struct {
	// Domain is the VirtualHost users register on; default "example.test".
	Domain string
	// Components are attached through the operator snippet
	// deploy/prosody/drawbridge.cfg.lua, one copy per component.
	Components []ComponentSpec
	// ExtraGlobal is Lua appended to the global section.
	ExtraGlobal string
	// ExtraHost is Lua appended to the VirtualHost section.
	ExtraHost string
	// ExtraSections is Lua appended at the very end of the config, after
	// the components: whole new sections such as internal components
	// (`Component "upload.example.test" "http_file_share"`).
	ExtraSections string
	// HTTP opens Prosody's HTTP listener (mod_http, plain HTTP only) on a
	// free loopback port, published as Prosody.HTTPAddr, and waits for it.
	HTTP bool
	// ExtraComponent is Lua appended to each component's section, after
	// the operator snippet (e.g. modules_enabled = { "privilege" }).
	ExtraComponent string
	// LogLevel is Prosody's minimum log level (debug, info, warn, error);
	// default "info". Debug logging slows Prosody down noticeably.
	LogLevel string
}

// ComponentSpec is one XEP-0114 component Prosody accepts.
type ComponentSpec struct {
	Domain, Secret string
}

// Prosody is a Prosody server running as a child process of the test, on
// free loopback ports, with its config, data and logs in a temporary
// directory. It is stopped when the test ends; if the test failed, the tail
// of its log is printed.
type Prosody struct {
	// Domain is the VirtualHost.
	Domain string
	// C2SAddr is the client listener (plaintext), host:port.
	C2SAddr string
	// ComponentAddr is the XEP-0114 listener, host:port. Prosody opens it
	// only when at least one component is configured.
	ComponentAddr string
	// HTTPAddr is the plain HTTP listener, host:port, when
	// ProsodyOptions.HTTP is set; empty otherwise.
	HTTPAddr string
	// Dir holds the config, data, pid file and logs.
	Dir string
	// ConfigPath is the generated prosody.cfg.lua.
	ConfigPath string
	// LogPath is Prosody's log file.
	LogPath string

	outPath    string // the process's stdout and stderr
	components int
	http       bool

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd.Wait's result, valid once exited is closed
}

// StartProsody writes a config for opts and starts Prosody in the
// foreground (`prosody --config CFG -F`), waiting until its client port and
// (if there are components) its component port accept connections. The
// test is skipped if prosody is not installed, and under -short (unit tests
// only, no external servers).
func StartProsody(t testing.TB, opts ProsodyOptions) *Prosody {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: starts a Prosody server")
	}
	if _, err := exec.LookPath("prosody"); err != nil {
		t.Skip("prosody is not installed (apt-get install prosody lua-unbound)")
	}
	if opts.Domain == "" {
		opts.Domain = "example.test"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	snippet, err := loadSnippet()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := &Prosody{
		Domain:     opts.Domain,
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "prosody.cfg.lua"),
		LogPath:    filepath.Join(dir, "prosody.log"),
		outPath:    filepath.Join(dir, "prosody.out"),
		components: len(opts.Components),
		http:       opts.HTTP,
	}
	for _, d := range []string{"data", "certs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	p.C2SAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	p.ComponentAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	modules := []string{"roster", "saslauth", "disco", "ping", "presence", "offline", "carbons", "version", "uptime"}
	httpPort := 0
	if opts.HTTP {
		httpPort = ports[2]
		p.HTTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))
		modules = append(modules, "http")
	}
	cfg, err := prosodyConfig{
		Domain:          opts.Domain,
		C2SPort:         ports[0],
		CompPort:        ports[1],
		PidFile:         filepath.Join(dir, "prosody.pid"),
		DataDir:         filepath.Join(dir, "data"),
		LogFile:         p.LogPath,
		LogLevel:        opts.LogLevel,
		CertsDir:        filepath.Join(dir, "certs"),
		HTTPPort:        httpPort,
		ModulesEnabled:  modules,
		ModulesDisabled: []string{"s2s", "tls"},
		ExtraGlobal:     opts.ExtraGlobal,
		ExtraHost:       opts.ExtraHost,
		ExtraSections:   opts.ExtraSections,
		ExtraComponent:  opts.ExtraComponent,
		Components:      opts.Components,
		Snippet:         snippet,
	}.render()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: stop the process, then dump the log,
	// then (registered earlier by t.TempDir) remove the directory.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s", p.tail(prosodyLogTail))
		}
	})
	t.Cleanup(p.stop)
	p.Start(t)
	return p
}

// Start (re)starts Prosody with the same config, ports and data directory,
// and waits until its ports accept connections. It fails the test if
// Prosody is already running or does not come up.
func (p *Prosody) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			t.Fatalf("xmpptest: prosody is already running (pid %d)", p.cmd.Process.Pid)
		}
	}
	out, err := os.OpenFile(p.outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("prosody", "--config", p.ConfigPath, "-F")
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = out, out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("xmpptest: starting prosody: %v", err)
	}
	out.Close() // the child has its own copy
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go func() {
		err := cmd.Wait()
		p.waitErr = err // read only after <-exited
		close(exited)
	}()
	addrs := []string{p.C2SAddr}
	if p.components > 0 {
		addrs = append(addrs, p.ComponentAddr) // only open when a component is configured
	}
	if p.http {
		addrs = append(addrs, p.HTTPAddr)
	}
	if err := waitPorts(exited, prosodyStartTimeout, addrs...); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("xmpptest: prosody did not come up: %v (exit: %v)\n%s", err, p.waitErr, p.tail(prosodyLogTail))
	}
}

// Stop sends SIGTERM and waits for Prosody to exit (SIGKILL after 10s).
func (p *Prosody) Stop(t testing.TB) {
	t.Helper()
	if err := p.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// Kill sends SIGKILL and waits for Prosody to exit.
func (p *Prosody) Kill(t testing.TB) {
	t.Helper()
	if err := p.signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// Running reports whether the Prosody process is alive.
func (p *Prosody) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the running process and waits for it to exit,
// escalating to SIGKILL after prosodyStopTimeout.
func (p *Prosody) signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return errors.New("xmpptest: prosody was never started")
	}
	select {
	case <-exited:
		return errors.New("xmpptest: prosody is not running")
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("xmpptest: signalling prosody: %w", err)
	}
	t := time.NewTimer(prosodyStopTimeout)
	defer t.Stop()
	select {
	case <-exited:
		return nil
	case <-t.C:
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("xmpptest: prosody ignored %v for %v; killed", sig, prosodyStopTimeout)
	}
}

// stop ends the process at cleanup, if it still runs.
func (p *Prosody) stop() {
	if p.Running() {
		_ = p.signal(syscall.SIGTERM)
	}
}

// Register creates a user account with prosodyctl (works whether or not
// Prosody is running).
func (p *Prosody) Register(t testing.TB, user, password string) {
	t.Helper()
	cmd := exec.Command("prosodyctl", "--config", p.ConfigPath, "register", user, p.Domain, password)
	cmd.Dir = p.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xmpptest: prosodyctl register %s@%s: %v\n%s", user, p.Domain, err, out)
	}
}

// tail returns the last n lines of Prosody's log and console output.
func (p *Prosody) tail(n int) string {
	var b strings.Builder
	for _, f := range []string{p.LogPath, p.outPath} {
		data, err := os.ReadFile(f)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "---- last lines of %s\n%s\n", f, strings.Join(lines, "\n"))
	}
	return b.String()
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("xmpptest: finding a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitPorts polls until every address accepts a TCP connection, the process
// exits, or the timeout passes.
func waitPorts(exited <-chan struct{}, timeout time.Duration, addrs ...string) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, addr := range addrs {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not accepting connections after %v: %w", addr, timeout, err)
			}
			select {
			case <-exited:
				return errors.New("the process exited")
			case <-tick.C:
			}
		}
	}
	return nil
}
