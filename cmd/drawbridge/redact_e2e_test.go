package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestLogRedact: with log.redact on, the debug log of linking and of a
// message delivered both ways holds no JID of a user or contact and no
// phone number, and the user's JID is the same hash in every line that
// names it.
func TestLogRedact(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) { c.Log.Redact = true })
	u := e.user("alice")
	linkByChat(t, u)
	for _, body := range []string{"hello", "again"} {
		u.raw(`<message type='chat' to='` + echoJID + `'><body>` + body + `</body></message>`)
		u.waitMessage(echoJID, "echo: "+body)
	}
	logs := e.logs.String()

	for _, leak := range []*regexp.Regexp{
		regexp.MustCompile(`\+[0-9]{7,15}`),                                  // a phone number
		regexp.MustCompile(`(?:^|[\s"=/])[^\s#"=@/]+@` + e2eDomain),          // a user's JID
		regexp.MustCompile(`(?:^|[\s"=/])[^\s#"=@/]+@` + e2eComponent + `/`), // a contact's full JID
	} {
		if m := leak.FindAllString(logs, 5); len(m) > 0 {
			t.Errorf("the redacted log holds %q:\n%s", m, tailLines(logs, 40))
		}
	}
	var userHashes []string
	for _, line := range strings.Split(logs, "\n") {
		userHashes = append(userHashes, regexp.MustCompile(`#[0-9a-f]{10}@`+e2eDomain).FindAllString(line, -1)...)
	}
	if len(userHashes) < 2 {
		t.Fatalf("the user's hashed JID appears %d times; the log:\n%s", len(userHashes), tailLines(logs, 40))
	}
	for _, h := range userHashes {
		if h != userHashes[0] {
			t.Errorf("the one user's JID is hashed as %s and %s", userHashes[0], h)
		}
	}
	// Each message sent to the Echo Bot (+15550000001) is logged with the
	// chat: hashed, the same hash both times.
	var chats []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "message sent") {
			m := regexp.MustCompile(`chat=(\S+)`).FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("a delivery line without its chat: %s", line)
			}
			chats = append(chats, m[1])
		}
	}
	if len(chats) != 2 || chats[0] != chats[1] || !regexp.MustCompile(`^#[0-9a-f]{10}$`).MatchString(chats[0]) {
		t.Errorf("the two deliveries to the Echo Bot are logged with chats %q, want the same hash twice", chats)
	}
}
