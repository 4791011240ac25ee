package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"

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
