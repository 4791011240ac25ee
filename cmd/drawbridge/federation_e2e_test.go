package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The federation test's domains: Prosody serves alphaDomain with the
// gateway attached as alphaGateway; ejabberd serves betaDomain (allowed to
// register) and gammaDomain (not allowed).
const (
	alphaDomain  = "alpha.test"
	alphaGateway = "gw.alpha.test"
	betaDomain   = "beta.test"
	gammaDomain  = "gamma.test"
)

// federation is Prosody and ejabberd federated over loopback, with the
// gateway attached to Prosody.
type federation struct {
	prosody  *xmpptest.Prosody
	ejabberd *xmpptest.Ejabberd
	gw       *e2e
}

// startFederation starts Prosody (alpha.test) and ejabberd (beta.test,
// gamma.test) with real server-to-server links between them: dialback, no
// TLS, each server's s2s pointed at the other's loopback port without DNS
// servers or /etc/hosts (Prosody: its unbound resolver's local-data and
// hosts file; ejabberd: SRV and A records added to the Erlang resolver at
// boot). The gateway admits alpha.test and beta.test users.
func startFederation(t *testing.T) *federation {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: needs prosody and ejabberd")
	}
	s2sPorts := testutil.FreePorts(t, 2)
	prosodyS2S, ejabberdS2S := s2sPorts[0], s2sPorts[1]
	// One redirect zone answers for every *.test name with one SRV record:
	// ejabberd's s2s port on localhost, which the hosts file resolves.
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:     alphaDomain,
		Components: []xmpptest.ComponentSpec{{Domain: alphaGateway, Secret: e2eSecret}},
		S2S:        &xmpptest.ProsodyS2S{Port: prosodyS2S, PeerPort: ejabberdS2S, HostsFile: hosts},
	})
	prosodyAddr := fmt.Sprintf("127.0.0.1:%d", prosodyS2S)
	ej := xmpptest.StartEjabberd(t, xmpptest.EjabberdOptions{
		Domain:     betaDomain,
		ExtraHosts: []string{gammaDomain},
		S2S:        true,
		S2SPort:    ejabberdS2S,
		S2SRoutes:  map[string]string{alphaDomain: prosodyAddr, alphaGateway: prosodyAddr},
	})
	gw := startGatewayOn(t, alphaGateway, p.ComponentAddr, func(c *config.Config) {
		c.Registration.AllowedDomains = []string{alphaDomain, betaDomain}
	})
	return &federation{prosody: p, ejabberd: ej, gw: gw}
}

// TestFederation: a user of another server (ejabberd, beta.test) uses the
// gateway attached to Prosody (alpha.test) across real server-to-server
// federation: registers, links a sandbox account, chats with sandbox
// contacts both ways, joins a group's room and talks there, and
// unregisters. A user of a domain the gateway does
// not admit (gamma.test) is refused with forbidden.
func TestFederation(t *testing.T) {
	f := startFederation(t)
	e := f.gw
	f.ejabberd.Register(t, "bob", "pw-bob")
	u := dialUser(t, e, f.ejabberd.C2SAddr, "bob@"+betaDomain, "pw-bob")

	// Over s2s: disco, then XEP-0077 registration.
	info := u.iq("get", alphaGateway, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if !containsAll(info.Raw, `category="gateway"`, "jabber:iq:register") {
		t.Fatalf("disco#info across federation: %s", info.Raw)
	}
	registerWith(t, u, alphaGateway)
	linkByChatWith(t, u, alphaGateway)

	// The echo bot asks to join bob's roster; they chat both ways.
	echo := string(sandbox.EchoBot) + "@" + alphaGateway
	acceptContact(t, u, echo)
	u.raw(`<message type='chat' to='` + echo + `' id='f1'><body>hello across federation</body></message>`)
	u.waitMessage(echo, "echo: hello across federation")

	// A sandbox contact writes first; bob answers.
	alice := string(sandbox.Alice) + "@" + alphaGateway
	if _, err := e.app.sandbox.Platform().SendAs(t.Context(), sandbox.Alice, alicePhone, "hi bob on beta.test"); err != nil {
		t.Fatal(err)
	}
	u.waitMessage(alice, "hi bob on beta.test")
	u.raw(`<message type='chat' to='` + alice + `' id='f2'><body>hi alice, from ejabberd</body></message>`)
	waitFor(t, "bob's message on the platform", func() bool {
		for _, m := range e.app.sandbox.Platform().Received(sandbox.Alice) {
			if m.From == alicePhone && strings.Contains(m.Body, "hi alice, from ejabberd") {
				return true
			}
		}
		return false
	})

	// Groups: the platform adds bob's account to the Lounge; bob, invited,
	// joins its room on the gateway across federation and talks there.
	room := "#" + string(sandbox.Lounge) + "@" + alphaGateway
	if err := e.app.sandbox.Platform().AddMember(sandbox.Alice, sandbox.Lounge, alicePhone); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("an invitation to the Lounge", "jabber:x:conference", `jid="`+room+`"`)
	u.raw(`<presence to='` + room + `/bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	u.waitRaw("the self-presence", `from="`+room+`/`, `code="110"`)
	u.waitRaw("the subject ending the join", `from="`+room+`"`, "<subject>")
	u.raw(`<message type='groupchat' to='` + room + `' id='g1'><body>hello lounge from beta.test</body></message>`)
	u.waitRaw("the reflection", `id="g1"`, `type="groupchat"`, "hello lounge from beta.test")
	if _, err := e.app.sandbox.Platform().SendGroupAs(t.Context(), sandbox.Bob, sandbox.Lounge, "welcome, bob"); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("a platform member's message in the room", `from="`+room+`/Bob Sandbox"`, "welcome, bob")
	waitFor(t, "bob's room message on the platform", func() bool {
		for _, m := range e.app.sandbox.Platform().GroupMessages(sandbox.Lounge) {
			if m.From == alicePhone && m.Body == "hello lounge from beta.test" {
				return true
			}
		}
		return false
	})
	u.raw(`<presence to='` + room + `/bob' type='unavailable'/>`)

	// Unregister: the gateway leaves the roster and refuses service.
	res := u.iq("set", alphaGateway, `<query xmlns='jabber:iq:register'><remove/></query>`)
	if !strings.Contains(res.Raw, `type="result"`) {
		t.Fatalf("unregister: %s", res.Raw)
	}
	u.waitRaw("gateway unsubscribe", `from="`+alphaGateway+`"`, `type="unsubscribe"`)
	u.raw(`<message type='chat' to='` + echo + `' id='f3'><body>still there?</body></message>`)
	expectError(t, u, "f3", "registration-required")

	// A user of a domain the gateway does not admit is refused.
	f.ejabberd.RegisterAt(t, "carol", gammaDomain, "pw-carol")
	c := dialUser(t, e, f.ejabberd.C2SAddr, "carol@"+gammaDomain, "pw-carol")
	refused := c.iq("set", alphaGateway, `<query xmlns='jabber:iq:register'/>`)
	if cond, _ := stanzaErrorCondition(refused.Raw); cond != "forbidden" {
		t.Errorf("registration from %s: %s", gammaDomain, refused.Raw)
	}
}
