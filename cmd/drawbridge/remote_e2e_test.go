package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestEndToEndRemoteSandbox runs the sandbox out of process, as a
// go-plugin child of the gateway (`drawbridge adapter sandbox`, the real
// binary), on a real Prosody: link with the ad-hoc command, chat with the
// echo bot; then the child is killed mid-conversation. The gateway
// launches it again and the user sees the outage in the gateway's
// presence, then "Connected" again; every message before and after the
// kill gets its echo, each exactly once.
func TestEndToEndRemoteSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: needs prosody")
	}
	bin := buildGateway(t)
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Platforms = map[string]map[string]any{"sandbox": {
			"adapter": "remote",
			"command": []any{bin, "adapter", "sandbox"},
		}}
	})
	if e.app.remote == nil || e.app.remote.ChildPID() == 0 {
		t.Fatal("the sandbox does not run as a child process")
	}
	u := e.user("alice")
	res := u.iq("set", e2eComponent, `<query xmlns='jabber:iq:register'/>`)
	if !strings.Contains(res.Raw, `type="result"`) {
		t.Fatalf("register: %s", res.Raw)
	}
	u.waitRaw("gateway subscription request", `from="`+e2eComponent+`"`, `type="subscribe"`)
	u.raw(`<presence to='` + e2eComponent + `' type='subscribed'/>`)
	u.raw(`<presence/>`) // the gateway shows the account's state as its presence
	linkAdhoc(t, u)
	u.waitMessage(e2eComponent, "Connected to Sandbox as "+alicePhone)
	u.waitRaw("echo bot subscription request", `from="`+echoJID+`"`, `type="subscribe"`)
	u.raw(`<presence to='` + echoJID + `' type='subscribed'/>`)

	const n = 5
	chat := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='r%d'><body>remote %d</body></message>`, echoJID, i, i))
		}
		for i := from; i < to; i++ {
			u.waitMessage(echoJID, fmt.Sprintf("echo: remote %d", i))
		}
	}
	chat(0, n)

	pid := e.app.remote.ChildPID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("the outage in the gateway's presence", `from="`+e2eComponent+`/`, "<show>away</show>", "adapter went away")
	u.waitMessage(e2eComponent, "Connected to Sandbox as "+alicePhone)
	if e.app.remote.ChildPID() == pid || e.app.remote.Restarts() != 1 {
		t.Errorf("child pid %d (was %d), %d restarts; want a new child, 1 restart", e.app.remote.ChildPID(), pid, e.app.remote.Restarts())
	}
	chat(n, 2*n)

	// Counts both ways: each of the 2n messages got its echo above; a
	// last one's echo comes after any duplicate (one chat keeps its
	// order), so none may be left waiting.
	u.raw(`<message type='chat' to='` + echoJID + `' id='last'><body>remote last</body></message>`)
	u.waitMessage(echoJID, "echo: remote last")
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if dup, err := u.c.WaitFor(done, func(s xmpptest.Stanza) bool { return strings.Contains(s.Raw, "echo: remote ") }); err == nil {
		t.Errorf("an echo came twice: %s", dup.Raw)
	}
}

// remoteSuffix on a store backend's name runs an end-to-end test with the
// sandbox out of process: served on a loopback port with a token by this
// test process (so that the test can still drive the platform's far
// side through e.app.sandbox) and dialed by the gateway as
// `adapter: remote`.
const remoteSuffix = "+remote"

// startE2EPlaced is startE2E for a backend name that may end in
// remoteSuffix.
func startE2EPlaced(t *testing.T, name string) *e2e {
	t.Helper()
	backend, isRemote := strings.CutSuffix(name, remoteSuffix)
	if !isRemote {
		return startE2E(t, backend)
	}
	if testing.Short() {
		t.Skip("end-to-end test: needs prosody and redis-server")
	}
	const token = "e2e-remote-adapter-token"
	sb := sandbox.New(nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- remote.Serve(ctx, l, remote.NewServer(sb, slog.New(slog.DiscardHandler)), token) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serving the adapter: %v", err)
		}
	})
	e := startE2EConfig(t, backend, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Platforms = map[string]map[string]any{"sandbox": {
			"adapter": "remote", "address": l.Addr().String(), "token": token,
		}}
	})
	if e.app.remote == nil {
		t.Fatal("the sandbox is not out of process")
	}
	e.app.sandbox = sb
	return e
}
