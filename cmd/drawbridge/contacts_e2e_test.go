package main

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestContactsAvatarsPresence: a contact's vCard carries its name, number
// and picture; its presence carries the picture's XEP-0153 hash and, once it
// goes away, when it was last seen (XEP-0319); typing from XMPP reaches the
// platform.
func TestContactsAvatarsPresence(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, nil)
	u := e.user("alice")
	linkByChat(t, u)
	platform := e.app.sandbox.Platform()
	aliceJID := string(sandbox.Alice) + "@" + e2eComponent

	avatar, ok := platform.Avatar(sandbox.Alice)
	if !ok || len(avatar.Data) == 0 {
		t.Fatal("the sandbox gave Alice no avatar")
	}
	sum := sha1.Sum(avatar.Data)
	hash := hex.EncodeToString(sum[:])

	// The roster handshake, then presence with the avatar hash.
	u.waitRaw("Alice's subscription request", `from="`+aliceJID+`"`, `type="subscribe"`, "Alice Sandbox")
	u.raw(`<presence to='` + aliceJID + `' type='subscribed'/>`)
	u.raw(`<presence to='` + aliceJID + `' type='subscribe'/>`)
	must(t, platform.SetPresence(sandbox.Alice, true, "around"))
	u.waitRaw("Alice's presence with her avatar hash", `from="`+aliceJID, `<x xmlns="vcard-temp:x:update"><photo>`+hash+`</photo>`)

	card := u.iq("get", aliceJID, `<vCard xmlns='vcard-temp'/>`)
	if !containsAll(card.Raw, "<FN>Alice Sandbox</FN>", "<NUMBER>"+string(sandbox.Alice)+"</NUMBER>", "<BINVAL>"+base64.StdEncoding.EncodeToString(avatar.Data)+"</BINVAL>") {
		t.Errorf("vCard: %s", card.Raw)
	}

	// Last seen.
	must(t, platform.SetPresence(sandbox.Alice, false, ""))
	s := u.waitRaw("Alice going away", `from="`+aliceJID, `type="unavailable"`, `<idle xmlns="urn:xmpp:idle:1" since="`)
	if !strings.Contains(s.Raw, "T") {
		t.Errorf("idle since is not a timestamp: %s", s.Raw)
	}

	// Typing from XMPP reaches the platform.
	u.raw(`<message type='chat' to='` + aliceJID + `'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	waitFor(t, "typing on the platform", func() bool {
		for _, cs := range platform.ChatStates(alicePhone) {
			if cs.To == sandbox.Alice && cs.State == event.Composing {
				return true
			}
		}
		return false
	})
}
