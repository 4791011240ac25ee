package xmpptest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// EjabberdSnippetPath is the operator's ejabberd snippet, relative to the
// repository root. StartEjabberd merges it into the generated ejabberd.yml
// for every component, so the file operators use is the one the tests run.
const EjabberdSnippetPath = "deploy/ejabberd/drawbridge.yml"

// Timeouts of the ejabberd harness. The Erlang VM takes a few seconds to
// boot on a small machine.
const (
	ejabberdStartTimeout = 60 * time.Second
	ejabberdStopTimeout  = 15 * time.Second
	ejabberdCtlTimeout   = 60 * time.Second
	ejabberdLogTail      = 60
	ejabberdErlLibs      = "/usr/lib/x86_64-linux-gnu" // Debian's ejabberd and its Erlang dependencies
	ejabberdBacklog      = 1024                        // ejabberd's default listen backlog is 5
	ejabberdDNSTTL       = 86400                       // seconds; the static DNS records outlive any test
)

// EjabberdOptions configures StartEjabberd.
type EjabberdOptions struct {
	// Domain is the virtual host users register on; default "example.test".
	Domain string
	// ExtraHosts are further virtual hosts (see RegisterAt).
	ExtraHosts []string
	// Components are attached through the operator snippet
	// deploy/ejabberd/drawbridge.yml (listener, ACL and mod_privilege).
	Components []ComponentSpec
	// S2S opens a server-to-server listener on loopback (dialback, no TLS)
	// on S2SPort, or a free port if it is 0, published as Ejabberd.S2SAddr.
	S2S bool
	// S2SPort is the server-to-server port when S2S is set; 0 picks one.
	S2SPort int
	// S2SRoutes maps remote XMPP domains to the loopback host:port where
	// their server-to-server listener is. They are installed as DNS SRV
	// records (target: the IP address) in the Erlang resolver at boot; no
	// DNS server is asked.
	S2SRoutes map[string]string
	// LogLevel is ejabberd's log level (debug, info, warning, error);
	// default "info".
	LogLevel string
}

// Ejabberd is an ejabberd server running as a plain child process of the
// test (an Erlang VM started with `erl`, not through the system service),
// on free loopback ports, with its config, database and logs in a temporary
// directory. It is stopped when the test ends; if the test failed, the tail
// of its log is printed.
type Ejabberd struct {
	// Domain is the virtual host.
	Domain string
	// C2SAddr is the client listener (plaintext), host:port.
	C2SAddr string
	// ComponentAddr is the XEP-0114 listener, host:port (only listening
	// when at least one component is configured).
	ComponentAddr string
	// S2SAddr is the server-to-server listener when EjabberdOptions.S2S is
	// set; empty otherwise.
	S2SAddr string
	// Dir holds the config, database and logs.
	Dir string
	// ConfigPath is the generated ejabberd.yml.
	ConfigPath string
	// LogPath is ejabberd's log file.
	LogPath string

	node       string // Erlang node name
	distPort   int    // Erlang distribution port (no epmd)
	ctlCfgPath string // ejabberdctl.cfg for Register
	outPath    string
	env        []string

	mu   sync.Mutex
	proc *testutil.Process
}

// StartEjabberd writes a config for opts and starts ejabberd, waiting until
// its ports accept connections. The test is skipped if ejabberd is not
// installed, and under -short (unit tests only, no external servers).
func StartEjabberd(t testing.TB, opts EjabberdOptions) *Ejabberd {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: starts an ejabberd server")
	}
	if err := EjabberdInstalled(); err != nil {
		t.Skip(err.Error())
	}
	e, err := LaunchEjabberd(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err) // the error has the log's tail
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s", e.tail(ejabberdLogTail))
		}
	})
	t.Cleanup(e.stop)
	return e
}

// EjabberdInstalled says what is missing to run ejabberd, or nil.
func EjabberdInstalled() error {
	for _, bin := range []string{"erl", "ejabberdctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			return errors.New("ejabberd is not installed (apt-get install ejabberd)")
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(ejabberdErlLibs, "ejabberd-*")); len(matches) == 0 {
		return errors.New("ejabberd's Erlang libraries are not in " + ejabberdErlLibs + " (Debian's ejabberd package)")
	}
	return nil
}

// LaunchEjabberd is StartEjabberd outside a test: it writes the config for
// opts into dir (existing and empty), starts ejabberd on free loopback
// ports and waits until it has started. The caller ends it with Close.
func LaunchEjabberd(dir string, opts EjabberdOptions) (*Ejabberd, error) {
	if opts.Domain == "" {
		opts.Domain = "example.test"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	snippet, err := loadRepoFile(EjabberdSnippetPath)
	if err != nil {
		return nil, err
	}
	e := &Ejabberd{
		Domain:     opts.Domain,
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "ejabberd.yml"),
		LogPath:    filepath.Join(dir, "logs", "ejabberd.log"),
		ctlCfgPath: filepath.Join(dir, "ejabberdctl.cfg"),
		outPath:    filepath.Join(dir, "ejabberd.out"),
		node:       "xmpptest" + randomHex(4) + "@localhost",
	}
	for _, d := range []string{"db", "logs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("xmpptest: %w", err)
		}
	}
	ports, err := testutil.PickPorts(4)
	if err != nil {
		return nil, err
	}
	e.C2SAddr = testutil.LoopbackAddr(ports[0])
	e.ComponentAddr = testutil.LoopbackAddr(ports[1])
	e.distPort = ports[2]
	s2sPort := 0
	if opts.S2S {
		s2sPort = opts.S2SPort
		if s2sPort == 0 {
			s2sPort = ports[3]
		}
		e.S2SAddr = testutil.LoopbackAddr(s2sPort)
	}
	cfg, err := ejabberdConfig{
		Hosts:      append([]string{opts.Domain}, opts.ExtraHosts...),
		C2SPort:    ports[0],
		CompPort:   ports[1],
		S2SPort:    s2sPort,
		LogLevel:   opts.LogLevel,
		Components: opts.Components,
		Snippet:    snippet,
	}.render()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(e.ConfigPath, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("xmpptest: %w", err)
	}
	inetrc, bootEval, err := ejabberdResolver(opts.S2SRoutes)
	if err != nil {
		return nil, err
	}
	// Not named "inetrc": ejabberdctl loads that one from --config-dir.
	inetrcPath := filepath.Join(dir, "server.inetrc")
	if err := os.WriteFile(inetrcPath, []byte(inetrc), 0o600); err != nil {
		return nil, fmt.Errorf("xmpptest: %w", err)
	}
	// ejabberdctl gives its own Erlang node CONFIG_DIR/inetrc: an
	// ordinary resolver (it must resolve "localhost" to reach the node).
	if err := os.WriteFile(filepath.Join(dir, "inetrc"), []byte("{lookup, [file, native]}.\n"), 0o600); err != nil {
		return nil, fmt.Errorf("xmpptest: %w", err)
	}
	// ejabberdctl (for Register) reads this file after its defaults:
	// run as whoever we are (not su to the ejabberd user), reach the node
	// on its fixed distribution port without epmd.
	ctlCfg := fmt.Sprintf("EXEC_CMD=as_current_user\nERLANG_NODE=%s\nERL_DIST_PORT=%d\nERL_OPTIONS=%q\n",
		e.node, e.distPort, "-kernel inet_dist_use_interface {127,0,0,1}")
	if err := os.WriteFile(e.ctlCfgPath, []byte(ctlCfg), 0o600); err != nil {
		return nil, fmt.Errorf("xmpptest: %w", err)
	}
	// HOME holds the Erlang cookie the node and ejabberdctl share; the
	// environment points ejabberd at the test's files.
	e.env = append(os.Environ(),
		"HOME="+dir,
		"EJABBERD_CONFIG_PATH="+e.ConfigPath,
		"EJABBERD_LOG_PATH="+e.LogPath,
		"ERL_LIBS="+ejabberdErlLibs,
		"ERL_INETRC="+inetrcPath,
		"ERL_CRASH_DUMP="+filepath.Join(dir, "logs", "erl_crash.dump"),
		"ERL_CRASH_DUMP_BYTES=0",
		"CONTRIB_MODULES_PATH="+filepath.Join(dir, "contrib"),
	)
	args := []string{
		"-sname", e.node,
		"-noinput",
		"-start_epmd", "false", "-erl_epmd_port", strconv.Itoa(e.distPort),
		"-kernel", "inet_dist_use_interface", "{127,0,0,1}",
		"-mnesia", "dir", `"` + filepath.Join(dir, "db") + `"`,
	}
	if bootEval != "" {
		args = append(args, "-eval", bootEval)
	}
	args = append(args, "-s", "ejabberd")
	cmd := exec.Command("erl", args...)
	cmd.Dir = e.Dir
	cmd.Env = e.env
	proc, err := testutil.Start(cmd, e.outPath)
	if err != nil {
		return nil, fmt.Errorf("xmpptest: %w", err)
	}
	e.mu.Lock()
	e.proc = proc
	e.mu.Unlock()
	waitFor := []string{e.C2SAddr}
	if len(opts.Components) > 0 {
		waitFor = append(waitFor, e.ComponentAddr)
	}
	if e.S2SAddr != "" {
		waitFor = append(waitFor, e.S2SAddr)
	}
	// The listening sockets accept connections (into their backlog) while
	// ejabberd still loads its modules; commands such as register fail
	// until it logs that it has started.
	err = proc.WaitPorts(ejabberdStartTimeout, waitFor...)
	if err == nil {
		err = proc.WaitLog(ejabberdStartTimeout, e.LogPath, " is started in the node "+e.node)
	}
	if err != nil {
		e.stop()
		return nil, fmt.Errorf("xmpptest: ejabberd did not come up: %w\n%s", err, e.tail(ejabberdLogTail))
	}
	return e, nil
}

// Close stops an ejabberd started by LaunchEjabberd.
func (e *Ejabberd) Close() error {
	e.stop()
	return nil
}

// Running reports whether the ejabberd process is alive.
func (e *Ejabberd) Running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.proc != nil && e.proc.Running()
}

// stop ends the VM by its PID: SIGTERM (the VM shuts down cleanly), then
// SIGKILL after ejabberdStopTimeout.
func (e *Ejabberd) stop() {
	e.mu.Lock()
	proc := e.proc
	e.mu.Unlock()
	if proc != nil {
		_ = proc.Stop(ejabberdStopTimeout)
	}
}

// Register creates a user account on the running server's Domain with
// ejabberdctl.
func (e *Ejabberd) Register(t testing.TB, user, password string) {
	t.Helper()
	e.RegisterAt(t, user, e.Domain, password)
}

// RegisterAt creates a user account on one of the server's virtual hosts
// (Domain or one of EjabberdOptions.ExtraHosts).
func (e *Ejabberd) RegisterAt(t testing.TB, user, host, password string) {
	t.Helper()
	if err := e.RegisterUserAt(user, host, password); err != nil {
		t.Fatal(err)
	}
}

// RegisterUserAt is RegisterAt outside a test.
func (e *Ejabberd) RegisterUserAt(user, host, password string) error {
	return e.ctl("register", user, host, password)
}

// ctl runs an ejabberdctl command against the node.
func (e *Ejabberd) ctl(args ...string) error {
	full := append([]string{
		"--config-dir", e.Dir, "--ctl-config", e.ctlCfgPath, "--config", e.ConfigPath,
		"--spool", filepath.Join(e.Dir, "db"), "--logs", filepath.Join(e.Dir, "logs"),
	}, args...)
	cmd := exec.Command("ejabberdctl", full...)
	cmd.Dir = e.Dir
	cmd.Env = e.env
	testutil.DieWithParent(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("xmpptest: ejabberdctl %s: %w", strings.Join(args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(ejabberdCtlTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("xmpptest: ejabberdctl %s: %w\n%s", strings.Join(args, " "), err, out.String())
		}
		return nil
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("xmpptest: ejabberdctl %s did not finish in %v\n%s", strings.Join(args, " "), ejabberdCtlTimeout, out.String())
	}
}

// tail returns the last n lines of ejabberd's log and console output.
func (e *Ejabberd) tail(n int) string {
	return testutil.Tail(n, e.LogPath, filepath.Join(filepath.Dir(e.LogPath), "error.log"), e.outPath)
}

// ejabberdConfig is everything that goes into the generated ejabberd.yml.
type ejabberdConfig struct {
	Hosts                      []string // the first is the main domain
	C2SPort, CompPort, S2SPort int      // S2SPort 0: no s2s
	LogLevel                   string
	Components                 []ComponentSpec
	Snippet                    string // the operator snippet, with placeholders
}

// render builds the config: loopback only, plaintext (no certificates),
// internal database in the test's directory, the operator snippet's
// listener, ACL and modules once per component.
func (c ejabberdConfig) render() ([]byte, error) {
	c2s := map[string]any{
		"port": c.C2SPort, "ip": "127.0.0.1", "module": "ejabberd_c2s",
		"starttls": false, "backlog": ejabberdBacklog, "max_stanza_size": 1048576,
	}
	listen := []any{c2s}
	modules := map[string]any{
		"mod_disco":       map[string]any{},
		"mod_roster":      map[string]any{},
		"mod_ping":        map[string]any{},
		"mod_offline":     map[string]any{},
		"mod_carboncopy":  map[string]any{},
		"mod_version":     map[string]any{"show_os": false},
		"mod_caps":        map[string]any{},
		"mod_last":        map[string]any{},
		"mod_vcard":       map[string]any{},
		"mod_blocking":    map[string]any{},
		"mod_privacy":     map[string]any{},
		"mod_adhoc":       map[string]any{},
		"mod_admin_extra": map[string]any{},
	}
	acl := map[string]any{
		"local":    map[string]any{"user_regexp": ""},
		"loopback": map[string]any{"ip": []any{"127.0.0.0/8"}},
	}
	accessRules := map[string]any{}
	if c.S2SPort != 0 {
		listen = append(listen, map[string]any{
			"port": c.S2SPort, "ip": "127.0.0.1", "module": "ejabberd_s2s_in", "backlog": ejabberdBacklog,
		})
		modules["mod_s2s_dialback"] = map[string]any{}
	}
	for _, comp := range c.Components {
		snip, err := instantiateEjabberdSnippet(c.Snippet, comp)
		if err != nil {
			return nil, err
		}
		for _, l := range snip.Listen {
			if l["module"] == "ejabberd_service" {
				l["port"], l["ip"] = c.CompPort, "127.0.0.1"
			}
			listen = append(listen, l)
		}
		for k, v := range snip.ACL {
			acl[k] = v
		}
		for k, v := range snip.AccessRules {
			accessRules[k] = v
		}
		for k, v := range snip.Modules {
			modules[k] = v
		}
	}
	accessRules["local"] = map[string]any{"allow": "local"}
	accessRules["c2s"] = map[string]any{"allow": "all"}
	accessRules["s2s"] = map[string]any{"allow": "all"}
	doc := map[string]any{
		"hosts":                   c.Hosts,
		"loglevel":                c.LogLevel,
		"log_rotate_count":        0,
		"hide_sensitive_log_data": false,
		"listen":                  listen,
		"s2s_use_starttls":        false,
		"auth_method":             []string{"internal"},
		"auth_password_format":    "plain",
		"acl":                     acl,
		"access_rules":            accessRules,
		"api_permissions": map[string]any{
			"console commands": map[string]any{
				"from": []string{"ejabberd_ctl"}, "who": "all", "what": "*",
			},
		},
		"shaper_rules":   map[string]any{"c2s_shaper": "none", "max_user_sessions": 100, "max_user_offline_messages": 5000},
		"modules":        modules,
		"new_sql_schema": false,
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append([]byte("# Generated by xmpptest.StartEjabberd: a throwaway, loopback-only ejabberd.\n"), out...), nil
}

// ejabberdSnippet is what the harness takes from the operator snippet.
type ejabberdSnippet struct {
	Listen      []map[string]any `yaml:"listen"`
	ACL         map[string]any   `yaml:"acl"`
	AccessRules map[string]any   `yaml:"access_rules"`
	Modules     map[string]any   `yaml:"modules"`
}

// instantiateEjabberdSnippet puts a component's domain and secret into the
// operator snippet and parses it.
func instantiateEjabberdSnippet(snippet string, comp ComponentSpec) (ejabberdSnippet, error) {
	var s ejabberdSnippet
	if !strings.Contains(snippet, `"`+snippetDomain+`"`) || !strings.Contains(snippet, `password: "`+snippetSecret+`"`) {
		return s, fmt.Errorf("xmpptest: %s no longer has the placeholders %q and password: %q",
			EjabberdSnippetPath, snippetDomain, snippetSecret)
	}
	if comp.Domain == "" || comp.Secret == "" {
		return s, errors.New("xmpptest: a ComponentSpec needs a Domain and a Secret")
	}
	text := strings.ReplaceAll(snippet, `"`+snippetDomain+`"`, yamlString(comp.Domain))
	text = strings.ReplaceAll(text, `"`+snippetSecret+`"`, yamlString(comp.Secret))
	if err := yaml.Unmarshal([]byte(text), &s); err != nil {
		return s, fmt.Errorf("xmpptest: %s: %w", EjabberdSnippetPath, err)
	}
	n := 0
	for _, l := range s.Listen {
		if l["module"] == "ejabberd_service" {
			n++
		}
	}
	if n != 1 {
		return s, fmt.Errorf("xmpptest: %s must have one ejabberd_service listener, has %d", EjabberdSnippetPath, n)
	}
	return s, nil
}

// ejabberdResolver returns an inetrc that stops Erlang's resolver from
// asking any DNS server or reading /etc/hosts, and an expression to
// evaluate at boot that adds an SRV record (_xmpp-server._tcp) for each
// route, so ejabberd's s2s finds the other test server on loopback.
func ejabberdResolver(routes map[string]string) (inetrc, eval string, err error) {
	inetrc = "{resolv_conf, \"\"}.\n{hosts_file, \"\"}.\n{host, {127,0,0,1}, [\"localhost\"]}.\n{lookup, [file, dns]}.\n"
	var calls []string
	for domain, addr := range routes {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return "", "", fmt.Errorf("xmpptest: S2SRoutes[%s]: %w", domain, err)
		}
		ip := net.ParseIP(host).To4()
		if ip == nil || !ip.IsLoopback() {
			return "", "", fmt.Errorf("xmpptest: S2SRoutes[%s]: %s is not an IPv4 loopback address", domain, host)
		}
		if strings.ContainsAny(domain, `"\`) {
			return "", "", fmt.Errorf("xmpptest: S2SRoutes: bad domain %q", domain)
		}
		// The SRV target is the address itself: ejabberd's s2s
		// (p1_xmpp's xmpp_stream_out) looks SRV records up with
		// inet_res, which answers from these cached records, but
		// resolves the target with getaddrinfo, which would ask the
		// system resolver; an IP address needs no lookup.
		calls = append(calls,
			fmt.Sprintf(`inet_db:add_rr("_xmpp-server._tcp.%s", in, srv, %d, {0, 0, %s, "%s"})`, domain, ejabberdDNSTTL, port, ip))
	}
	if len(calls) > 0 {
		eval = strings.Join(calls, ", ") + "."
	}
	return inetrc, eval, nil
}

// loadRepoFile reads a file given relative to the repository root.
func loadRepoFile(rel string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return "", fmt.Errorf("xmpptest: reading %s: %w", rel, err)
	}
	return string(b), nil
}

// yamlString quotes s as a YAML double-quoted scalar.
func yamlString(s string) string {
	return strconv.Quote(s)
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
