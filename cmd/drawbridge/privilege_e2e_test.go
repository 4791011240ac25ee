package main

import (
	"os"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// modPrivilege is where Debian's prosody-modules package installs
// mod_privilege: Prosody's own module directory, so no plugin_paths.
const modPrivilege = "/usr/lib/prosody/modules/mod_privilege/mod_privilege.lua"

// privilegedProsody grants the gateway XEP-0356 roster and message
// privileges. mod_privilege must be loaded on the VirtualHost (which
// holds privileged_entities) and on the component's host (where it hears
// the component authenticate, and then advertises the privileges).
var privilegedProsody = xmpptest.ProsodyOptions{
	ExtraHost: `modules_enabled = { "privilege" }
privileged_entities = {
	["` + e2eComponent + `"] = { roster = "both"; message = "outgoing" };
}`,
	ExtraComponent: `modules_enabled = { "privilege" }`,
}

// sandboxContacts are the contacts every sandbox account starts with.
var sandboxContacts = []struct {
	id   ids.UserID
	name string
}{
	{sandbox.EchoBot, "Echo Bot"},
	{sandbox.QuietBot, "Quiet Bot"},
	{sandbox.Alice, "Alice Sandbox"},
	{sandbox.Bob, "Bob Sandbox"},
}

func contactJID(id ids.UserID) string { return string(id) + "@" + e2eComponent }

// isContactSubscribe reports a subscription request from one of the
// gateway's contacts (the gateway's own JID excluded).
func isContactSubscribe(s xmpptest.Stanza) bool {
	return strings.HasPrefix(s.Raw, "<presence") && strings.Contains(s.Raw, `type="subscribe"`) &&
		strings.Contains(s.Raw, "@"+e2eComponent+`"`)
}

// TestPrivilegedRosterAndCarbons runs against a Prosody whose
// mod_privilege grants the gateway roster and message privileges: after
// linking, the sandbox contacts are in the user's roster, with their names
// and subscription both, through roster pushes and without a single
// subscription request; a message the user sends from their phone reaches
// their XMPP client as a carbon of their own message to the contact, and
// the server's copy routed back to the gateway is not sent to the platform
// a second time.
func TestPrivilegedRosterAndCarbons(t *testing.T) {
	if _, err := os.Stat(modPrivilege); err != nil {
		t.Skipf("mod_privilege is not installed (apt-get install prosody-modules): %v", err)
	}
	e := startE2EWith(t, config.BackendSQLite, privilegedProsody)
	waitFor(t, "the gateway to record the server's privileges", func() bool {
		return containsAll(e.logs.String(), `msg="server grants privileges (XEP-0356)"`,
			`server=`+e2eDomain+` namespace=urn:xmpp:privilege:2 roster=both message=outgoing`)
	})
	u := e.user("alice")
	u.raw(`<iq type='set' id='carbons-on'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
	u.waitRaw("carbons enabled", `id="carbons-on"`, `type="result"`)
	linkByChat(t, u)

	// Each contact arrives as a roster push from the user's own server.
	for _, c := range sandboxContacts {
		u.waitRaw("roster push of "+c.name, `<iq`, `<query xmlns="jabber:iq:roster"`,
			`jid="`+contactJID(c.id)+`"`, `name="`+c.name+`"`, `subscription="both"`, `<group>Sandbox</group>`)
	}
	// The roster the server stores has them too.
	u.raw(`<iq type='get' id='roster-after'><query xmlns='jabber:iq:roster'/></iq>`)
	roster := u.waitRaw("roster", `id="roster-after"`, `type="result"`)
	for _, c := range sandboxContacts {
		if !containsAll(roster.Raw, `jid="`+contactJID(c.id)+`"`, `name="`+c.name+`"`) {
			t.Errorf("roster lacks %s (%s): %s", c.id, c.name, roster.Raw)
		}
	}
	if strings.Count(roster.Raw, `subscription="both"`) < len(sandboxContacts) {
		t.Errorf("roster items are not all subscription both: %s", roster.Raw)
	}

	// The user writes from their phone: a carbon of their own message,
	// unmarked, then the echo bot's answer; no subscription request on the
	// way and no copy marked as coming from the contact.
	platform := e.app.sandbox.Platform()
	const text = "written on my phone"
	if _, err := platform.SendFromPhone(t.Context(), alicePhone, sandbox.EchoBot, text); err != nil {
		t.Fatal(err)
	}
	carbon := u.waitRaw("carbon of the phone's message", `<sent xmlns="urn:xmpp:carbons:2"`,
		`<forwarded xmlns="urn:xmpp:forward:0"`, `from="`+u.bare+`"`, `to="`+echoJID+`"`, `<body>`+text+`</body>`)
	if top, _, _ := strings.Cut(carbon.Raw, ">"); !strings.HasPrefix(top, `<message`) || !containsAll(top, `from="`+u.bare+`"`, `to="`+u.c.JID+`"`) {
		t.Errorf("the carbon does not come from the user's own account: %s", carbon.Raw)
	}
	var subscribes, marked []string
	if _, err := u.c.WaitFor(u.ctx(), func(s xmpptest.Stanza) bool {
		if isContactSubscribe(s) {
			subscribes = append(subscribes, s.Raw)
		}
		if strings.Contains(s.Raw, "[sent from your phone]") {
			marked = append(marked, s.Raw)
		}
		m, ok := asMessage(s.Packet)
		return ok && bare(m.From) == echoJID && m.Body == "echo: "+text
	}); err != nil {
		t.Fatalf("waiting for the echo bot's answer: %v", err)
	}
	if len(subscribes) > 0 {
		t.Errorf("subscription requests despite the roster privilege: %q", subscribes)
	}
	if len(marked) > 0 {
		t.Errorf("marked copies despite the message privilege: %q", marked)
	}

	// The server routed the user's message to the contact JID, that is
	// back to the gateway, which drops it: the bot got it once.
	waitFor(t, "the gateway to drop the server's copy", func() bool {
		return strings.Contains(e.logs.String(), "dropping the server's copy of a message sent on the user's behalf")
	})
	got := 0
	for _, m := range platform.Received(sandbox.EchoBot) {
		if m.Body == text {
			got++
		}
	}
	if got != 1 {
		t.Errorf("the echo bot received the phone's message %d times, want 1", got)
	}
}

// TestUnprivilegedFallsBack is the same flow on a Prosody without
// mod_privilege: each contact asks for a subscription (with its nickname),
// nothing is pushed into the roster, and the phone's message arrives from
// the contact's JID, marked.
func TestUnprivilegedFallsBack(t *testing.T) {
	e := startE2E(t, config.BackendSQLite)
	u := e.user("alice")
	linkByChat(t, u)
	for _, c := range sandboxContacts {
		u.waitRaw("subscription request from "+c.name, `<presence`, `from="`+contactJID(c.id)+`"`, `type="subscribe"`, c.name)
	}

	platform := e.app.sandbox.Platform()
	const text = "written on my phone"
	if _, err := platform.SendFromPhone(t.Context(), alicePhone, sandbox.EchoBot, text); err != nil {
		t.Fatal(err)
	}
	var pushes []string
	if _, err := u.c.WaitFor(u.ctx(), func(s xmpptest.Stanza) bool {
		if strings.Contains(s.Raw, `<query xmlns="jabber:iq:roster"`) && strings.Contains(s.Raw, "@"+e2eComponent) {
			pushes = append(pushes, s.Raw)
		}
		m, ok := asMessage(s.Packet)
		return ok && bare(m.From) == echoJID && m.Body == "[sent from your phone] "+text
	}); err != nil {
		t.Fatalf("waiting for the marked copy of the phone's message: %v", err)
	}
	if len(pushes) > 0 {
		t.Errorf("roster pushes without the roster privilege: %q", pushes)
	}
	u.waitMessage(echoJID, "echo: "+text)
	if strings.Contains(e.logs.String(), "server grants privileges") {
		t.Error("the gateway recorded privileges that the server does not grant")
	}
}
