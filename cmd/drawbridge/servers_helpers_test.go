package main

import (
	"context"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// Helpers for end-to-end tests whose XMPP servers are not the one Prosody
// of startE2E: the gateway attached to ejabberd, or to one of two
// federated servers.

// startGatewayOn runs the gateway (sqlite store, sandbox platform) as the
// component `component` of the XMPP server whose component listener is at
// compAddr, and waits until it is connected. mutate may be nil.
func startGatewayOn(t *testing.T, component, compAddr string, mutate func(*config.Config)) *e2e {
	t.Helper()
	cfg := config.Default()
	cfg.Component.JID = component
	cfg.Component.Server = compAddr
	cfg.Component.Secret = e2eSecret
	cfg.Log.Level = "debug"
	cfg.API.Listen, cfg.Metrics.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Store.Backend = config.BackendSQLite
	cfg.Store.SQLite.Path = t.TempDir() + "/drawbridge.db"
	cfg.Files.Listen, cfg.Files.Dir, cfg.Files.AllowPrivateFetch = "127.0.0.1:0", t.TempDir(), true
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, cfg: cfg, logs: &syncBuffer{}}
	e.start()
	t.Cleanup(func() {
		e.shutdown()
		if t.Failed() {
			t.Logf("gateway log:\n%s", tailLines(e.logs.String(), 80))
		}
	})
	return e
}

// dialUser logs an existing account in at the client listener addr and
// sends initial presence. The returned user's e has no Prosody: do not
// call its connect method.
func dialUser(t *testing.T, e *e2e, addr, bareJID, password string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	c, err := xmpptest.DialClient(ctx, addr, bareJID, password)
	if err != nil {
		t.Fatalf("dial %s at %s: %v", bareJID, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	u := &user{t: t, e: e, bare: bareJID, c: c}
	u.raw(`<presence/>`)
	return u
}

// registerWith registers u with the gateway at component (XEP-0077) and
// accepts the gateway's subscription request.
func registerWith(t *testing.T, u *user, component string) {
	t.Helper()
	res := u.iq("set", component, `<query xmlns='jabber:iq:register'/>`)
	if !strings.Contains(res.Raw, `type="result"`) {
		t.Fatalf("register %s with %s: %s", u.bare, component, res.Raw)
	}
	u.waitRaw("gateway subscription request", `from="`+component+`"`, `type="subscribe"`)
	u.raw(`<presence to='` + component + `' type='subscribed'/>`)
}

// linkByChatWith links the sandbox account alicePhone through the chat
// command "link" sent to component (linkByChat for any component).
func linkByChatWith(t *testing.T, u *user, component string) {
	t.Helper()
	u.raw(`<message type='chat' to='` + component + `'><body>link</body></message>`)
	u.waitMessage(component, "Reply with your phone number")
	u.raw(`<message type='chat' to='` + component + `'><body>` + alicePhone + `</body></message>`)
	u.waitMessage(component, "Code: ")
	u.waitMessage(component, "is now linked")
}

// acceptContact accepts a contact's subscription request and subscribes
// back, waiting for the approval.
func acceptContact(t *testing.T, u *user, contact string) {
	t.Helper()
	u.waitRaw("subscription request of "+contact, `from="`+contact+`"`, `type="subscribe"`)
	u.raw(`<presence to='` + contact + `' type='subscribed'/>`)
	u.raw(`<presence to='` + contact + `' type='subscribe'/>`)
	u.waitRaw("subscription approval of "+contact, `from="`+contact+`"`, `type="subscribed"`)
}
