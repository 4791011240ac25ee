package main

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestEjabberdComponent attaches the gateway to ejabberd 23.01 (through the
// operator snippet deploy/ejabberd/drawbridge.yml, with its mod_privilege
// grant) instead of Prosody: a user registers, links a sandbox account by
// chat command, and chats with the echo bot and a sandbox contact both
// ways.
func TestEjabberdComponent(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: needs ejabberd")
	}
	const domain, component = "example.test", "gw.example.test"
	ej := xmpptest.StartEjabberd(t, xmpptest.EjabberdOptions{
		Domain:     domain,
		Components: []xmpptest.ComponentSpec{{Domain: component, Secret: e2eSecret}},
	})
	e := startGatewayOn(t, component, ej.ComponentAddr, nil)
	// The snippet's mod_privilege section: ejabberd advertises the grant
	// when the component connects.
	waitFor(t, "ejabberd's XEP-0356 grant", func() bool {
		return containsAll(e.logs.String(), `msg="server grants privileges (XEP-0356)"`,
			`server=`+domain, `roster=both`, `message=outgoing`)
	})
	ej.Register(t, "dave", "pw-dave")
	u := dialUser(t, e, ej.C2SAddr, "dave@"+domain, "pw-dave")

	info := u.iq("get", component, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if !containsAll(info.Raw, `category="gateway"`, "jabber:iq:register") {
		t.Fatalf("disco#info through ejabberd: %s", info.Raw)
	}
	registerWith(t, u, component)
	linkByChatWith(t, u, component)

	echo := string(sandbox.EchoBot) + "@" + component
	u.raw(`<message type='chat' to='` + echo + `' id='ej1'><body>hello from ejabberd</body></message>`)
	u.waitMessage(echo, "echo: hello from ejabberd")

	alice := string(sandbox.Alice) + "@" + component
	if _, err := e.app.sandbox.Platform().SendAs(t.Context(), sandbox.Alice, alicePhone, "hi dave"); err != nil {
		t.Fatal(err)
	}
	u.waitMessage(alice, "hi dave")
	u.raw(`<message type='chat' to='` + alice + `' id='ej2'><body>hi alice</body></message>`)
	waitFor(t, "dave's message on the platform", func() bool {
		for _, m := range e.app.sandbox.Platform().Received(sandbox.Alice) {
			if strings.Contains(m.Body, "hi alice") {
				return true
			}
		}
		return false
	})
}
