package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

const alicePhone = "+15557654321"

var echoJID = string(sandbox.EchoBot) + "@" + e2eComponent

// TestEndToEnd drives a real XMPP client through Prosody and the gateway:
// register, link with the ad-hoc command, chat with the echo bot both ways
// with receipts and chat states, the refusal paths, XEP-0100, unregister.
// It runs once per store backend, and with the sandbox out of process.
func TestEndToEnd(t *testing.T) {
	// sqlite+remote: the sandbox out of process, dialed (remote_e2e_test.go).
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis, config.BackendSQLite + remoteSuffix} {
		t.Run(backend, func(t *testing.T) {
			e := startE2EPlaced(t, backend)
			u := e.user("alice")

			// Service discovery: the gateway says what it is.
			info := u.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
			for _, want := range []string{`category="gateway"`, `type="sandbox"`, "jabber:iq:register", "jabber:iq:gateway", "http://jabber.org/protocol/commands"} {
				if !strings.Contains(info.Raw, want) {
					t.Errorf("disco#info lacks %s: %s", want, info.Raw)
				}
			}

			// XEP-0077 registration; the gateway then asks for a subscription.
			form := u.iq("get", e2eComponent, `<query xmlns='jabber:iq:register'/>`)
			if strings.Contains(form.Raw, "<registered") {
				t.Fatalf("registered before registering: %s", form.Raw)
			}
			res := u.iq("set", e2eComponent, `<query xmlns='jabber:iq:register'/>`)
			if !strings.Contains(res.Raw, `type="result"`) {
				t.Fatalf("register: %s", res.Raw)
			}
			u.waitRaw("gateway subscription request", `from="`+e2eComponent+`"`, `type="subscribe"`)
			u.raw(`<presence to='` + e2eComponent + `' type='subscribed'/>`)

			// XEP-0050: link through the ad-hoc command.
			linkAdhoc(t, u)
			u.waitMessage(e2eComponent, "is now linked")
			u.waitMessage(e2eComponent, "Connected to Sandbox as "+alicePhone)

			// The echo bot asks to join the roster, with its nickname.
			u.waitRaw("echo bot subscription request", `from="`+echoJID+`"`, `type="subscribe"`, "Echo Bot")
			u.raw(`<presence to='` + echoJID + `' type='subscribed'/>`)
			u.raw(`<presence to='` + echoJID + `' type='subscribe'/>`)
			u.waitRaw("subscription approval", `from="`+echoJID+`"`, `type="subscribed"`)

			// A message with a receipt request: the bot's receipt, typing,
			// reply and displayed marker come back in order.
			u.raw(`<message type='chat' to='` + echoJID + `' id='m1'><body>hello drawbridge</body><request xmlns='urn:xmpp:receipts'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
			u.waitRaw("delivery receipt", `from="`+echoJID, `<received xmlns="urn:xmpp:receipts" id="m1"`)
			u.waitRaw("typing", `from="`+echoJID, "<composing")
			reply := u.waitMessage(echoJID, "echo: hello drawbridge")
			u.waitRaw("displayed marker", `from="`+echoJID, `<displayed xmlns="urn:xmpp:chat-markers:0" id="m1"`)

			// Our receipt and marker for the reply reach the platform.
			u.raw(fmt.Sprintf(`<message to='%s'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`, echoJID, reply.Id))
			u.raw(fmt.Sprintf(`<message to='%s'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`, echoJID, reply.Id))
			waitFor(t, "receipts on the platform", func() bool {
				n := 0
				for _, r := range e.app.sandbox.Platform().Receipts(alicePhone) {
					for _, target := range r.Targets {
						if target == ids.MessageID(reply.Id) {
							n++
						}
					}
				}
				return n == 2
			})

			// A platform user writes first: it reaches the XMPP user.
			if _, err := e.app.sandbox.Platform().SendAs(t.Context(), sandbox.Alice, alicePhone, "hi from the walled garden"); err != nil {
				t.Fatal(err)
			}
			u.waitMessage(string(sandbox.Alice)+"@"+e2eComponent, "hi from the walled garden")

			// Refusals are stanza errors, never silence.
			u.raw(`<message type='chat' to='+19999999999@` + e2eComponent + `' id='bad1'><body>anyone?</body></message>`)
			expectError(t, u, "bad1", "item-not-found")
			u.raw(`<message type='chat' to='` + echoJID + `' id='bad2'><body>` + strings.Repeat("x", sandbox.MaxBodyLength+1) + `</body></message>`)
			expectError(t, u, "bad2", "feature-not-implemented")

			// XEP-0100: phone number → contact JID.
			prompt := u.iq("get", e2eComponent, `<query xmlns='jabber:iq:gateway'/>`)
			if !strings.Contains(prompt.Raw, "<prompt>") {
				t.Errorf("gateway prompt: %s", prompt.Raw)
			}
			jid := u.iq("set", e2eComponent, `<query xmlns='jabber:iq:gateway'><prompt>+1 (555) 000-1111</prompt></query>`)
			if !strings.Contains(jid.Raw, "<jid>+15550001111@"+e2eComponent+"</jid>") {
				t.Errorf("gateway jid: %s", jid.Raw)
			}

			// Chat-command fallback.
			u.raw(`<message type='chat' to='` + e2eComponent + `'><body>status</body></message>`)
			u.waitMessage(e2eComponent, "Sandbox account "+alicePhone+": connected")

			// Unregister: the gateway leaves the roster and refuses service.
			res = u.iq("set", e2eComponent, `<query xmlns='jabber:iq:register'><remove/></query>`)
			if !strings.Contains(res.Raw, `type="result"`) {
				t.Fatalf("unregister: %s", res.Raw)
			}
			u.waitRaw("gateway unsubscribe", `from="`+e2eComponent+`"`, `type="unsubscribe"`)
			u.raw(`<message type='chat' to='` + echoJID + `' id='late'><body>still there?</body></message>`)
			expectError(t, u, "late", "registration-required")
			if got := len(e.app.sandbox.Platform().Received(sandbox.EchoBot)); got != 1 {
				t.Errorf("echo bot received %d messages, want 1", got)
			}
		})
	}
}

// linkAdhoc runs the "link" command: phone form, then a pairing code.
func linkAdhoc(t *testing.T, u *user) {
	t.Helper()
	items := u.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`)
	if !strings.Contains(items.Raw, `node="link"`) {
		t.Fatalf("command list lacks link: %s", items.Raw)
	}
	first := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/>`)
	if !containsAll(first.Raw, `status="executing"`, `var="phone"`) {
		t.Fatalf("link stage 1: %s", first.Raw)
	}
	sid := attr(first.Raw, "sessionid")
	bad := u.iq("set", e2eComponent, fmt.Sprintf(`<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='%s'><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>not a phone</value></field></x></command>`, sid))
	if !containsAll(bad.Raw, `status="executing"`, `type="error"`) {
		t.Fatalf("bad phone should re-ask with an error note: %s", bad.Raw)
	}
	code := u.iq("set", e2eComponent, fmt.Sprintf(`<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='%s'><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>%s</value></field></x></command>`, sid, alicePhone))
	if !containsAll(code.Raw, `status="completed"`, "Code: ") {
		t.Fatalf("link stage 2: %s", code.Raw)
	}
}

func attr(raw, name string) string {
	i := strings.Index(raw, name+`="`)
	if i < 0 {
		return ""
	}
	rest := raw[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

func expectError(t *testing.T, u *user, id, condition string) {
	t.Helper()
	s := u.waitRaw("error for "+id, `id="`+id+`"`, `type="error"`)
	got, err := stanzaErrorCondition(s.Raw)
	if err != nil || got != condition {
		t.Errorf("message %s: error condition %q (%v), want %q: %s", id, got, err, condition, s.Raw)
	}
}
