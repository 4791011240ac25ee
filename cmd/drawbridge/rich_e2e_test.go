package main

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestRichMessaging exercises corrections, retractions, reactions and
// replies both ways through a real Prosody, the refusals with their exact
// stanza error conditions, and the disco features that announce them.
func TestRichMessaging(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, nil)
	u := e.user("alice")
	linkByChat(t, u)
	platform := e.app.sandbox.Platform()
	ctx := t.Context()

	// Disco of a contact announces what the chat can do.
	info := u.iq("get", echoJID, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	for _, ns := range []string{"urn:xmpp:message-correct:0", "urn:xmpp:message-retract:1", "urn:xmpp:reactions:0",
		"urn:xmpp:reply:0", "jabber:x:oob", "urn:xmpp:receipts", "urn:xmpp:chat-markers:0", "vcard-temp"} {
		if !strings.Contains(info.Raw, `var="`+ns+`"`) {
			t.Errorf("contact disco lacks %s: %s", ns, info.Raw)
		}
	}
	if !containsAll(info.Raw, "urn:xmpp:reactions:0:restrictions", `var="max_reactions_per_user"`, "<value>1</value>") {
		t.Errorf("contact disco lacks the reaction restrictions form: %s", info.Raw)
	}

	// XMPP → platform, and the echo bot mirrors each action back.
	u.raw(`<message type='chat' to='` + echoJID + `' id='m1'><body>hello</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`)
	echo := u.waitMessage(echoJID, "echo: hello")
	m1 := sentID(t, e, "hello")

	u.raw(`<message type='chat' to='` + echoJID + `' id='m1c'><body>hello again</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>`)
	u.waitRaw("the bot's correction", `from="`+echoJID, `<replace xmlns="urn:xmpp:message-correct:0" id="`+echo.Id+`"`, "echo: hello again")
	if m, _ := platform.MessageByID(m1); m.Body != "hello again" {
		t.Errorf("platform body after correction = %q", m.Body)
	}

	u.raw(`<message type='chat' to='` + echoJID + `' id='r1'><reactions xmlns='urn:xmpp:reactions:0' id='` + echo.Id + `'><reaction>👍</reaction></reactions></message>`)
	u.waitRaw("the bot's reaction to m1", `from="`+echoJID, `<reactions xmlns="urn:xmpp:reactions:0" id="m1"`, "👍")
	if m, _ := platform.MessageByID(ids.MessageID(echo.Id)); strings.Join(m.Reactions[alicePhone], "") != "👍" {
		t.Errorf("platform reactions = %v", m.Reactions)
	}

	// A reply: the quote fallback is stripped, the target mapped.
	u.raw(`<message type='chat' to='` + echoJID + `' id='m2'><body>&gt; echo: hello again
sure</body><reply xmlns='urn:xmpp:reply:0' to='` + echoJID + `' id='` + echo.Id + `'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='20'/></fallback></message>`)
	u.waitMessage(echoJID, "echo: sure")
	m2 := sentID(t, e, "sure")
	if m, _ := platform.MessageByID(m2); m.ReplyTo != ids.MessageID(echo.Id) {
		t.Errorf("platform reply target = %q, want %s", m.ReplyTo, echo.Id)
	}

	u.raw(`<message type='chat' to='` + echoJID + `' id='x2'><body>/me retracted</body><retract xmlns='urn:xmpp:message-retract:1' id='m2'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/></message>`)
	u.waitRaw("the bot's retraction", `from="`+echoJID, `<retract xmlns="urn:xmpp:message-retract:1"`)
	if m, _ := platform.MessageByID(m2); !m.Retracted {
		t.Error("message not retracted on the platform")
	}

	// Refusals.
	u.raw(`<message type='chat' to='` + echoJID + `' id='bad1'><reactions xmlns='urn:xmpp:reactions:0' id='` + echo.Id + `'><reaction>👍</reaction><reaction>🎉</reaction></reactions></message>`)
	expectError(t, u, "bad1", "not-acceptable")
	u.raw(`<message type='chat' to='` + echoJID + `' id='bad2'><body>nope</body><replace xmlns='urn:xmpp:message-correct:0' id='no-such-message'/></message>`)
	expectError(t, u, "bad2", "item-not-found")

	// Platform → XMPP: a person edits, reacts to, replies to and retracts.
	a1, err := platform.SendAs(ctx, sandbox.Alice, alicePhone, "first draft")
	if err != nil {
		t.Fatal(err)
	}
	aliceJID := string(sandbox.Alice) + "@" + e2eComponent
	u.waitMessage(aliceJID, "first draft")
	must(t, platform.EditAs(ctx, sandbox.Alice, alicePhone, a1, "final text"))
	u.waitRaw("a correction from the platform", `from="`+aliceJID, `<replace xmlns="urn:xmpp:message-correct:0" id="`+string(a1)+`"`, "final text")
	u.raw(`<message type='chat' to='` + aliceJID + `' id='m3'><body>hi alice</body></message>`)
	var m3 ids.MessageID
	waitFor(t, "our message to reach Alice", func() bool {
		for _, m := range platform.Received(sandbox.Alice) {
			if m.Body == "hi alice" {
				m3 = m.ID
				return true
			}
		}
		return false
	})
	must(t, platform.ReactAs(ctx, sandbox.Alice, alicePhone, m3, "❤️"))
	u.waitRaw("a reaction to our own message, under our id", `from="`+aliceJID, `<reactions xmlns="urn:xmpp:reactions:0" id="m3"`, "❤️")
	if _, err := platform.ReplyAs(ctx, sandbox.Alice, alicePhone, a1, "replying to myself"); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("a reply with its quote", `from="`+aliceJID, `<reply xmlns="urn:xmpp:reply:0"`, `id="`+string(a1)+`"`, "&gt; final text", "replying to myself")
	must(t, platform.RetractAs(ctx, sandbox.Alice, alicePhone, a1))
	u.waitRaw("a retraction from the platform", `from="`+aliceJID, `<retract xmlns="urn:xmpp:message-retract:1" id="`+string(a1)+`"`)
}

// TestEditWindowRefused sets a tiny edit window: a correction arrives too
// late and is refused with not-acceptable, naming the window.
func TestEditWindowRefused(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Platforms["sandbox"]["edit_window"] = "1ms"
	})
	u := e.user("alice")
	linkByChat(t, u)
	u.raw(`<message type='chat' to='` + echoJID + `' id='w1'><body>typo</body></message>`)
	u.waitMessage(echoJID, "echo: typo")
	u.raw(`<message type='chat' to='` + echoJID + `' id='w2'><body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='w1'/></message>`)
	s := u.waitRaw("the refusal", `id="w2"`, `type="error"`)
	if !containsAll(s.Raw, "not-acceptable", "edit window of 1ms has passed") {
		t.Errorf("refusal: %s", s.Raw)
	}
}

// sentID finds the platform id of the message the test's user sent with body.
func sentID(t *testing.T, e *e2e, body string) ids.MessageID {
	t.Helper()
	for _, m := range e.app.sandbox.Platform().Messages(alicePhone) {
		if m.Body == body || strings.HasPrefix(m.Body, body) {
			return m.ID
		}
	}
	t.Fatalf("no message %q on the platform", body)
	return ""
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
