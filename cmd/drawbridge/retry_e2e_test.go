package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestOutboundRetryOverAnOutage: messages a user sends while the platform
// cannot be reached are kept and go out, in order and without an error,
// once it can; one still not sent at the deadline comes back as an error
// stanza for its id, with a chat message from the gateway naming it.
func TestOutboundRetryOverAnOutage(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Limits.SendRetryDeadline = config.Duration(5 * time.Second)
	})
	u := e.user("alice")
	linkByChat(t, u)
	platform := e.app.sandbox.Platform()
	received := func() string {
		var got []string
		for _, m := range platform.Received(sandbox.EchoBot) {
			got = append(got, m.Body)
		}
		return strings.Join(got, "|")
	}
	queued := func(n int) func() bool {
		return func() bool { return strings.Count(e.logs.String(), "message queued for the platform") >= n }
	}

	// The outage: two messages wait, then both go out in order.
	platform.SetOutage(alicePhone, true)
	u.raw(`<message type='chat' to='` + echoJID + `' id='q1'><body>first while down</body></message>`)
	u.raw(`<message type='chat' to='` + echoJID + `' id='q2'><body>second while down</body></message>`)
	waitFor(t, "both messages queued", queued(2))
	if got := received(); got != "" {
		t.Fatalf("echo bot received %q during the outage", got)
	}
	platform.SetOutage(alicePhone, false)
	waitFor(t, "both messages on the platform", func() bool { return received() == "first while down|second while down" })
	u.waitMessage(echoJID, "echo: first while down")
	u.waitMessage(echoJID, "echo: second while down")

	// A longer outage: the message comes back as an error, and the gateway
	// says which.
	platform.SetOutage(alicePhone, true)
	u.raw(`<message type='chat' to='` + echoJID + `' id='q3'><body>lost in the outage for good</body></message>`)
	waitFor(t, "the third message queued", queued(3))
	expectError(t, u, "q3", "recipient-unavailable")
	if n := u.waitMessage(e2eComponent, `"lost in the outage for good"`); !strings.Contains(n.Body, "was not sent") {
		t.Errorf("chat notice: %q", n.Body)
	}
	if got := received(); got != "first while down|second while down" {
		t.Errorf("echo bot received %q", got)
	}

	// No error ever came for the messages that went out (stanzas to the
	// user arrive in order, so any would be in the inbox by now).
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if s, err := u.c.WaitFor(done, func(s xmpptest.Stanza) bool {
		return strings.Contains(s.Raw, `type="error"`) && (strings.Contains(s.Raw, `id="q1"`) || strings.Contains(s.Raw, `id="q2"`))
	}); err == nil {
		t.Errorf("error for a message that went out: %s", s.Raw)
	}
}
