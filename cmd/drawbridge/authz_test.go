package main

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// stanzaHarness drives an in-process gateway one stanza at a time, as the
// stanza scripts do, for tests that need to react to what it answers.
type stanzaHarness struct {
	t   *testing.T
	a   *app
	rec *recorder
}

func newStanzaHarness(t *testing.T, edit func(*config.Config)) *stanzaHarness {
	t.Helper()
	cfg := config.Default()
	cfg.Component.JID = "gw.example.test"
	cfg.Component.Secret = "s"
	cfg.Store.SQLite.Path = filepath.Join(t.TempDir(), "db")
	if edit != nil {
		edit(&cfg)
	}
	a, err := newApp(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	a.component.SetSender(rec)
	if err := a.gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.gw.Stop(context.Background()); a.store.Close() })
	return &stanzaHarness{t: t, a: a, rec: rec}
}

// handle hands one decoded stanza to the component and returns what it
// answered synchronously (runScript's handler).
func (h *stanzaHarness) handle(p stanza.Packet) [][]byte {
	h.a.component.HandleNow(h.t.Context(), p)
	return h.rec.take()
}

// send hands one stanza to the component and returns what it answered
// synchronously, serialized.
func (h *stanzaHarness) send(raw string) []string {
	h.t.Helper()
	d := xml.NewDecoder(strings.NewReader(`<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams">` + raw))
	if _, err := d.Token(); err != nil {
		h.t.Fatal(err)
	}
	p, err := stanza.NextPacket(d)
	if err != nil {
		h.t.Fatalf("decode %s: %v", raw, err)
	}
	h.a.component.HandleNow(h.t.Context(), p)
	var out []string
	for _, b := range h.rec.take() {
		out = append(out, string(b))
	}
	return out
}

var sessionIDAttr = regexp.MustCompile(`sessionid="([^"]+)"`)

// TestCrossOwnerActionsRefused: everything the gateway does for an account
// is keyed by the bare JID that sent the stanza, so another user can
// neither continue, cancel nor read someone's ad-hoc session, chat-command
// login, messages or account.
func TestCrossOwnerActionsRefused(t *testing.T) {
	h := newStanzaHarness(t, nil)
	const (
		alice = "alice@example.test/phone"
		bob   = "bob@example.test/laptop"
		carol = "carol@example.test/desk"
		cmdNS = "http://jabber.org/protocol/commands"
	)
	cmd := func(from, id, node, extra string) string {
		return `<iq type='set' id='` + id + `' from='` + from + `' to='gw.example.test'><command xmlns='` + cmdNS + `' node='` + node + `' ` + extra + `</iq>`
	}
	phoneForm := func(phone string) string {
		return `><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>` + phone + `</value></field></x></command>`
	}
	// Alice starts linking with the ad-hoc command.
	out := h.send(cmd(alice, "a1", "link", `action='execute'/>`))
	m := sessionIDAttr.FindStringSubmatch(strings.Join(out, ""))
	if m == nil {
		t.Fatalf("no session id in %q", out)
	}
	sid := m[1]
	// Chat-command login state is per owner too: carol has one pending.
	h.send(`<message type='chat' id='c1' from='` + carol + `' to='gw.example.test'><body>link</body></message>`)

	for _, tc := range []struct {
		name, stanza string
		want         []string // substrings of the answer, all required
		refuse       []string // substrings that must not appear
	}{
		{"bob continues alice's session", cmd(bob, "b1", "link", `sessionid='`+sid+`'`+phoneForm("+15550009999")),
			[]string{`type="error"`, "<bad-request", "unknown or expired session"}, []string{"completed"}},
		{"bob cancels alice's session", cmd(bob, "b2", "link", `sessionid='`+sid+`' action='cancel'/>`),
			[]string{`type="error"`, "unknown or expired session"}, []string{"canceled"}},
		{"bob's resource-less JID does not help", cmd("bob@example.test", "b3", "link", `sessionid='`+sid+`' action='cancel'/>`),
			[]string{`type="error"`, "unknown or expired session"}, nil},
		{"a JID of the same name on another domain", cmd("alice@example.test.evil/x", "b4", "link", `sessionid='`+sid+`' action='cancel'/>`),
			[]string{`type="error"`}, []string{"canceled"}},
		{"bob's phone number is his own chat command", `<message type='chat' id='b5' from='` + bob + `' to='gw.example.test'><body>+15550009999</body></message>`,
			[]string{`to="bob@example.test"`, "Unknown command"}, []string{"alice"}},
		{"bob's cancel does not cancel carol's chat login", `<message type='chat' id='b6' from='` + bob + `' to='gw.example.test'><body>cancel</body></message>`,
			[]string{`to="bob@example.test"`, "Nothing to cancel"}, []string{"alice"}},
		{"bob unlinks: only his own (none)", cmd(bob, "b7", "unlink", `action='execute'/>`),
			[]string{`type="error"`, "<registration-required"}, nil},
		{"bob's status is his own", cmd(bob, "b8", "status", `action='execute'/>`),
			[]string{"not registered"}, []string{"alice"}},
		// Alice's session is intact after all that.
		{"alice completes her session", cmd(alice, "a3", "link", `sessionid='`+sid+`'`+phoneForm("+15557654321")),
			[]string{`type="result"`, `to="alice@example.test/phone"`}, []string{"<error"}},
		{"carol's chat login still takes her number", `<message type='chat' id='c2' from='` + carol + `' to='gw.example.test'><body>+15557654322</body></message>`,
			[]string{`to="carol@example.test"`}, []string{"Unknown command", "bob"}},
	} {
		got := strings.Join(h.send(tc.stanza), "\n")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: answer lacks %q:\n%s", tc.name, w, got)
			}
		}
		for _, r := range tc.refuse {
			if strings.Contains(got, r) {
				t.Errorf("%s: answer contains %q:\n%s", tc.name, r, got)
			}
		}
	}
}
