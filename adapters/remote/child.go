package remote

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Handshake is the go-plugin handshake between the gateway and an adapter
// child process: a child started by hand (without the cookie in its
// environment) says it is a plugin and exits.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "DRAWBRIDGE_ADAPTER_PLUGIN",
	MagicCookieValue: "drawbridge.adapter.v1",
}

// pluginName is the one plugin a child serves.
const pluginName = "adapter"

// grpcPlugin is the go-plugin glue: the child registers the adapter
// service, the host takes the connection as it is.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *Server
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	p.srv.Register(s)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

// ServeChild serves srv as a go-plugin child process over a local socket
// (the gateway launched this process); it returns when the gateway goes
// away.
func ServeChild(srv *Server) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{pluginName: &grpcPlugin{srv: srv}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          hclog.New(&hclog.LoggerOptions{Name: "adapter", Output: os.Stderr, Level: hclog.Warn}),
	})
}

// childTransport launches the adapter with go-plugin and launches it
// again on restart.
type childTransport struct {
	cmd func() *exec.Cmd
	log *slog.Logger

	mu     sync.Mutex
	client *plugin.Client
	cc     *grpc.ClientConn
}

func (t *childTransport) start() error {
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugin.PluginSet{pluginName: &grpcPlugin{}},
		Cmd:              t.cmd(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Stderr:           &lineLogger{log: t.log},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "adapter-host", Output: &lineLogger{log: t.log}, Level: hclog.Warn}),
	})
	rpc, err := c.Client()
	if err != nil {
		c.Kill()
		return fmt.Errorf("launching the adapter: %w", err)
	}
	raw, err := rpc.Dispense(pluginName)
	if err != nil {
		c.Kill()
		return fmt.Errorf("launching the adapter: %w", err)
	}
	t.mu.Lock()
	t.client, t.cc = c, raw.(*grpc.ClientConn)
	t.mu.Unlock()
	return nil
}

func (t *childTransport) conn() *grpc.ClientConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cc
}

func (t *childTransport) alive() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.client != nil && !t.client.Exited()
}

func (t *childTransport) restart(context.Context) error {
	t.mu.Lock()
	old := t.client
	t.mu.Unlock()
	if old != nil {
		// A child that stopped answering would hold go-plugin's graceful
		// shutdown for seconds: it is beyond saving, end it at once.
		if rc := old.ReattachConfig(); rc != nil && rc.Pid > 0 && !old.Exited() {
			if p, err := os.FindProcess(rc.Pid); err == nil {
				_ = p.Kill()
			}
		}
		old.Kill()
	}
	return t.start()
}

func (t *childTransport) close() error {
	t.mu.Lock()
	c := t.client
	t.mu.Unlock()
	if c != nil {
		c.Kill()
	}
	return nil
}

// pid is the child's process id, 0 without a child.
func (t *childTransport) pid() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client == nil || t.client.ReattachConfig() == nil {
		return 0
	}
	return t.client.ReattachConfig().Pid
}

// ChildPID is the process id of the adapter's child process; 0 for an
// adapter that is not a child (dialed).
func (a *Adapter) ChildPID() int {
	if t, ok := a.t.(*childTransport); ok {
		return t.pid()
	}
	return 0
}

func (t *childTransport) describe() string { return "child " + t.cmd().Path }

// Launch starts the adapter as a child process (cmd builds the command,
// once per launch) and returns the host side of it. The child must call
// ServeChild. When the child dies the host launches it again.
func Launch(ctx context.Context, cmd func() *exec.Cmd, log *slog.Logger) (*Adapter, error) {
	if log == nil {
		log = slog.Default()
	}
	t := &childTransport{cmd: cmd, log: log}
	if err := t.start(); err != nil {
		return nil, err
	}
	a, err := newAdapter(ctx, t, log)
	if err != nil {
		_ = t.close()
		return nil, err
	}
	return a, nil
}

// lineLogger writes what a child prints to the gateway's log, a line a
// record.
type lineLogger struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := bytes.TrimSpace(l.buf[:i]); len(line) > 0 {
			l.log.Info("adapter child", "line", string(line))
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
