package xmpptest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
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
	// S2S turns server-to-server links on (see ProsodyS2S); nil: none.
	S2S *ProsodyS2S
	// LogLevel is Prosody's minimum log level (debug, info, warn, error);
	// default "info". Debug logging slows Prosody down noticeably.
	LogLevel string
}

// ProsodyS2S re-enables what the harness turns off for single-server
// setups: server-to-server links (dialback, still no TLS) on the loopback
// port Port, with Prosody's resolver pointing every *.test name at a peer
// server's s2s port PeerPort on localhost, which HostsFile (a hosts file:
// Prosody reads no /etc/hosts here) resolves.
type ProsodyS2S struct {
	Port, PeerPort int
	HostsFile      string
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

	mu   sync.Mutex
	proc *testutil.Process // nil until the first Start
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
	p, err := LaunchProsody(t.TempDir(), opts)
	if err != nil {
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
	return p
}

// LaunchProsody is StartProsody outside a test: it writes the config for
// opts into dir (which must exist and be empty), starts Prosody on free
// loopback ports and waits for them. The caller ends it with Close.
// `drawbridge report` runs its self-contained deployment on it.
func LaunchProsody(dir string, opts ProsodyOptions) (*Prosody, error) {
	if opts.Domain == "" {
		opts.Domain = "example.test"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	snippet, err := loadSnippet()
	if err != nil {
		return nil, err
	}
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
			return nil, fmt.Errorf("xmpptest: %w", err)
		}
	}
	ports, err := testutil.PickPorts(3)
	if err != nil {
		return nil, err
	}
	p.C2SAddr = testutil.LoopbackAddr(ports[0])
	p.ComponentAddr = testutil.LoopbackAddr(ports[1])
	modules := []string{"roster", "saslauth", "disco", "ping", "presence", "offline", "carbons", "version", "uptime"}
	httpPort := 0
	if opts.HTTP {
		httpPort = ports[2]
		p.HTTPAddr = testutil.LoopbackAddr(httpPort)
		modules = append(modules, "http")
	}
	disabled := []string{"s2s", "tls"}
	if opts.S2S != nil {
		modules, disabled = append(modules, "dialback"), []string{"tls"}
	}
	cfg, err := prosodyConfig{
		S2S:             opts.S2S,
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
		ModulesDisabled: disabled,
		ExtraGlobal:     opts.ExtraGlobal,
		ExtraHost:       opts.ExtraHost,
		ExtraSections:   opts.ExtraSections,
		ExtraComponent:  opts.ExtraComponent,
		Components:      opts.Components,
		Snippet:         snippet,
	}.render()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.ConfigPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("xmpptest: %w", err)
	}
	if err := p.launch(); err != nil {
		return nil, err
	}
	return p, nil
}

// Close stops a Prosody started by LaunchProsody (SIGTERM, SIGKILL after
// 10s); it does nothing if it is not running.
func (p *Prosody) Close() error {
	if !p.Running() {
		return nil
	}
	return p.signal(syscall.SIGTERM)
}

// RegisterUser is Register outside a test.
func (p *Prosody) RegisterUser(user, password string) error {
	cmd := exec.Command("prosodyctl", "--config", p.ConfigPath, "register", user, p.Domain, password)
	cmd.Dir = p.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("xmpptest: prosodyctl register %s@%s: %w\n%s", user, p.Domain, err, out)
	}
	return nil
}

// Start (re)starts Prosody with the same config, ports and data directory,
// and waits until its ports accept connections. It fails the test if
// Prosody is already running or does not come up.
func (p *Prosody) Start(t testing.TB) {
	t.Helper()
	if err := p.launch(); err != nil {
		t.Fatal(err)
	}
}

// launch starts the process and waits for its ports.
func (p *Prosody) launch() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil && p.proc.Running() {
		return fmt.Errorf("xmpptest: prosody is already running (pid %d)", p.proc.Pid())
	}
	cmd := exec.Command("prosody", "--config", p.ConfigPath, "-F")
	cmd.Dir = p.Dir
	proc, err := testutil.Start(cmd, p.outPath)
	if err != nil {
		return fmt.Errorf("xmpptest: %w", err)
	}
	p.proc = proc
	addrs := []string{p.C2SAddr}
	if p.components > 0 {
		addrs = append(addrs, p.ComponentAddr) // only open when a component is configured
	}
	if p.http {
		addrs = append(addrs, p.HTTPAddr)
	}
	if err := proc.WaitPorts(prosodyStartTimeout, addrs...); err != nil {
		_ = proc.Kill()
		return fmt.Errorf("xmpptest: prosody did not come up: %w\n%s", err, p.tail(prosodyLogTail))
	}
	return nil
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
	return p.proc != nil && p.proc.Running()
}

// signal sends sig to the running process and waits for it to exit,
// escalating to SIGKILL after prosodyStopTimeout.
func (p *Prosody) signal(sig syscall.Signal) error {
	p.mu.Lock()
	proc := p.proc
	p.mu.Unlock()
	if proc == nil {
		return errors.New("xmpptest: prosody was never started")
	}
	if !proc.Running() {
		return errors.New("xmpptest: prosody is not running")
	}
	if err := proc.Terminate(sig, prosodyStopTimeout); err != nil {
		return fmt.Errorf("xmpptest: prosody: %w", err)
	}
	return nil
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
	if err := p.RegisterUser(user, password); err != nil {
		t.Fatal(err)
	}
}

// tail returns the last n lines of Prosody's log and console output.
func (p *Prosody) tail(n int) string {
	return testutil.Tail(n, p.LogPath, p.outPath)
}
