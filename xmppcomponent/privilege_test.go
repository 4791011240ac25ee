package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// privSender records what the component writes and answers its IQs.
type privSender struct {
	mu    sync.Mutex
	sent  []stanza.Packet
	iqs   []*stanza.IQ
	reply func(*stanza.IQ) (*stanza.IQ, error)
	// connects stands for the link's connection count (Conn.Connects).
	connects atomic.Uint64
}

func (s *privSender) Send(_ context.Context, p stanza.Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, p)
	return nil
}

func (s *privSender) SendIQ(_ context.Context, iq *stanza.IQ) (*stanza.IQ, error) {
	s.mu.Lock()
	s.iqs = append(s.iqs, iq)
	reply := s.reply
	s.mu.Unlock()
	if reply != nil {
		return reply(iq)
	}
	return &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeResult, Id: iq.Id, From: iq.To, To: iq.From}}, nil
}

// privComponent is a Component with just what privilege.go uses.
func privComponent() (*Component, *privSender) {
	s := &privSender{}
	c := &Component{
		domain: "gw.example.test",
		addr:   Addressing{Domain: "gw.example.test"},
		info:   gateway.Info{Name: "Sandbox"},
		log:    slog.New(slog.DiscardHandler),
		out:    s,
	}
	c.connects = s.connects.Load
	return c, s
}

// parseMessage decodes raw as the connection does (registered extensions).
func parseMessage(t *testing.T, raw string) stanza.Message {
	t.Helper()
	var m stanza.Message
	if err := xml.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return m
}

func advertisement(from, to, ns, perms string) string {
	return `<message from='` + from + `' to='` + to + `'><privilege xmlns='` + ns + `'>` + perms + `</privilege></message>`
}

const bothPerms = `<perm access='roster' type='both'/><perm access='message' type='outgoing'/>`

func TestOnPrivilegeRecordsGrantsPerServer(t *testing.T) {
	c, _ := privComponent()
	ctx := t.Context()
	if c.rosterPrivileged("alice@example.test") {
		t.Fatal("roster privilege before any advertisement")
	}
	if !c.onPrivilege(ctx, parseMessage(t, advertisement("example.test", "gw.example.test", xep.NSPrivilege2, bothPerms))) {
		t.Fatal("advertisement not consumed")
	}
	if !c.rosterPrivileged("alice@example.test") || !c.rosterPrivileged("Bob@Example.Test") {
		t.Error("roster privilege not recorded for example.test users")
	}
	if host, ns, ok := c.messagePrivileged("alice@example.test"); !ok || host != "example.test" || ns != xep.NSPrivilege2 {
		t.Errorf("message privilege: %q %q %v", host, ns, ok)
	}
	if c.rosterPrivileged("carol@other.test") {
		t.Error("example.test's grant applies to other.test")
	}

	// An older server, read-only roster, no message access.
	if !c.onPrivilege(ctx, parseMessage(t, advertisement("other.test", "gw.example.test", xep.NSPrivilege1, `<perm access='roster' type='get'/><perm access='presence' type='roster'/>`))) {
		t.Fatal("urn:xmpp:privilege:1 advertisement not consumed")
	}
	if c.rosterPrivileged("carol@other.test") {
		t.Error("roster get is not enough to push")
	}
	if _, _, ok := c.messagePrivileged("carol@other.test"); ok {
		t.Error("message privilege without message perm")
	}

	// A later advertisement replaces the earlier one.
	c.onPrivilege(ctx, parseMessage(t, advertisement("example.test", "gw.example.test", xep.NSPrivilege2, `<perm access='roster' type='set'/>`)))
	if !c.rosterPrivileged("alice@example.test") {
		t.Error("roster set should allow pushes")
	}
	if _, _, ok := c.messagePrivileged("alice@example.test"); ok {
		t.Error("message privilege kept after an advertisement without it")
	}
}

func TestOnPrivilegeIgnoresNonServers(t *testing.T) {
	c, _ := privComponent()
	ctx := t.Context()
	for _, m := range []string{
		advertisement("alice@example.test", "gw.example.test", xep.NSPrivilege2, bothPerms),                           // a user
		advertisement("example.test/res", "gw.example.test", xep.NSPrivilege2, bothPerms),                             // a resource
		advertisement("example.test", "+15550000001@gw.example.test", xep.NSPrivilege2, bothPerms),                    // to a contact
		`<message from='alice@example.test/phone' to='+15550000001@gw.example.test' id='x'><body>hi</body></message>`, // ordinary
	} {
		if c.onPrivilege(ctx, parseMessage(t, m)) {
			t.Errorf("consumed %s", m)
		}
	}
	if c.rosterPrivileged("alice@example.test") {
		t.Error("privilege recorded from a non-server")
	}
}

func TestGrantsEndWithTheConnection(t *testing.T) {
	c, s := privComponent()
	s.connects.Add(1) // first connection
	c.onPrivilege(t.Context(), parseMessage(t, advertisement("example.test", "gw.example.test", xep.NSPrivilege2, bothPerms)))
	if !c.rosterPrivileged("alice@example.test") {
		t.Fatal("not recorded")
	}
	s.connects.Add(1) // reconnected: the server advertises again, or not
	if c.rosterPrivileged("alice@example.test") {
		t.Error("grant of the previous connection still used")
	}
	if sent, err := c.sendAsOwner(t.Context(), c.plain(), "alice@example.test", &stanza.Message{Attrs: stanza.Attrs{To: "+15550000001@gw.example.test"}}); sent || err != nil {
		t.Errorf("sendAsOwner on a stale grant: %v %v", sent, err)
	}
}

func TestSendAsOwner(t *testing.T) {
	c, s := privComponent()
	ctx := t.Context()
	own := &stanza.Message{
		XMLName: xml.Name{Local: "message"},
		Attrs:   stanza.Attrs{Type: stanza.MessageTypeChat, Id: "SB9", From: "+15550000001@gw.example.test", To: "alice@example.test"},
		Body:    fromPhoneMarker + "hello",
	}
	own = ownMessage(own)
	if own.From != "alice@example.test" || own.To != "+15550000001@gw.example.test" || own.Body != "hello" {
		t.Fatalf("ownMessage: %+v %q", own.Attrs, own.Body)
	}

	if sent, err := c.sendAsOwner(ctx, c.plain(), "alice@example.test", own); sent || err != nil {
		t.Fatalf("without privilege: %v %v", sent, err)
	}
	if len(s.sent) != 0 {
		t.Fatalf("sent without privilege: %v", s.sent)
	}

	c.onPrivilege(ctx, parseMessage(t, advertisement("example.test", "gw.example.test", xep.NSPrivilege1, bothPerms)))
	if sent, err := c.sendAsOwner(ctx, c.plain(), "alice@example.test", own); !sent || err != nil {
		t.Fatalf("with privilege: %v %v", sent, err)
	}
	if len(s.sent) != 1 {
		t.Fatalf("sent %d stanzas", len(s.sent))
	}
	raw, err := xml.Marshal(s.sent[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`from="gw.example.test" to="example.test"`,
		`<privilege xmlns="urn:xmpp:privilege:1"><forwarded xmlns="urn:xmpp:forward:0">`,
		`<message xmlns="jabber:client" type="chat" id="SB9" from="alice@example.test" to="+15550000001@gw.example.test"><body>hello</body>`,
	} {
		if !strings.Contains(string(raw), frag) {
			t.Errorf("wrapper lacks %s:\n%s", frag, raw)
		}
	}
	if own.From != "alice@example.test" || own.XMLName.Space != "" {
		t.Errorf("sendAsOwner changed its argument: %+v", own)
	}

	// The server routes the message to the contact JID, i.e. back to the
	// component: that copy is dropped, once.
	echo := `<message from='alice@example.test' to='+15550000001@gw.example.test' type='chat' id='SB9'><body>hello</body></message>`
	if c.onPrivilege(ctx, parseMessage(t, `<message from='alice@example.test/phone' to='+15550000001@gw.example.test' type='chat' id='SB9'><body>hello</body></message>`)) {
		t.Error("a client's message with the same id was taken for the server's copy")
	}
	if !c.onPrivilege(ctx, parseMessage(t, echo)) {
		t.Error("the server's copy was not dropped")
	}
	if c.onPrivilege(ctx, parseMessage(t, echo)) {
		t.Error("a second message with the id was dropped too")
	}
}

func TestWrapperBounceWithdrawsMessagePrivilege(t *testing.T) {
	c, s := privComponent()
	ctx := t.Context()
	c.onPrivilege(ctx, parseMessage(t, advertisement("example.test", "gw.example.test", xep.NSPrivilege2, bothPerms)))
	own := &stanza.Message{Attrs: stanza.Attrs{To: "+15550000001@gw.example.test"}, Body: "x"}
	if sent, err := c.sendAsOwner(ctx, c.plain(), "alice@example.test", own); !sent || err != nil {
		t.Fatalf("%v %v", sent, err)
	}
	wrapper := s.sent[0].(*stanza.Message)
	bounce := `<message type='error' from='example.test' to='gw.example.test' id='` + wrapper.Id + `'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`
	if !c.onPrivilege(ctx, parseMessage(t, bounce)) {
		t.Fatal("bounce of the wrapper not consumed")
	}
	if _, _, ok := c.messagePrivileged("alice@example.test"); ok {
		t.Error("message privilege kept after the server refused it")
	}
	if !c.rosterPrivileged("alice@example.test") {
		t.Error("the roster privilege went too")
	}
	other := `<message type='error' from='alice@example.test' to='gw.example.test' id='zzz'/>`
	if c.onPrivilege(ctx, parseMessage(t, other)) {
		t.Error("an unrelated bounce was consumed")
	}
}

func TestPushRoster(t *testing.T) {
	c, s := privComponent()
	ctx := t.Context()
	c.onPrivilege(ctx, parseMessage(t, advertisement("example.test", "gw.example.test", xep.NSPrivilege2, bothPerms)))
	items := []RosterItem{{User: "+15550000001", Name: "Echo Bot"}, {User: "weird user", Groups: []string{"A", "B"}}}
	if err := c.pushRoster(ctx, "alice@example.test", items); err != nil {
		t.Fatal(err)
	}
	if len(s.iqs) != 2 {
		t.Fatalf("%d roster sets, want one per item", len(s.iqs))
	}
	for i, iq := range s.iqs {
		if iq.Type != stanza.IQTypeSet || iq.From != "gw.example.test" || iq.To != "alice@example.test" {
			t.Errorf("set %d: %+v", i, iq.Attrs)
		}
		ri, ok := iq.Payload.(*stanza.RosterItems)
		if !ok || len(ri.Items) != 1 {
			t.Fatalf("set %d payload %T %+v", i, iq.Payload, iq.Payload)
		}
		it := ri.Items[0]
		if it.Subscription != stanza.SubscriptionBoth || it.Ask != "" {
			t.Errorf("set %d: subscription %q ask %q", i, it.Subscription, it.Ask)
		}
		switch i {
		case 0:
			if it.Jid != "+15550000001@gw.example.test" || it.Name != "Echo Bot" || len(it.Groups) != 1 || it.Groups[0] != "Sandbox" {
				t.Errorf("item 0: %+v", it)
			}
		case 1:
			if it.Jid != `weird\20user@gw.example.test` || it.Name != "" || len(it.Groups) != 2 {
				t.Errorf("item 1: %+v", it)
			}
		}
	}

	// The server says no: the error names the contact, and the privilege
	// is withdrawn so the next contacts are asked for instead.
	s.reply = func(iq *stanza.IQ) (*stanza.IQ, error) {
		return nil, &stream.IQError{IQ: iq, Condition: "forbidden", Type: "auth"}
	}
	err := c.pushRoster(ctx, "alice@example.test", items[:1])
	var iqErr *stream.IQError
	if !errors.As(err, &iqErr) || !strings.Contains(err.Error(), "+15550000001@gw.example.test") {
		t.Errorf("error %v", err)
	}
	if c.rosterPrivileged("alice@example.test") {
		t.Error("roster privilege kept after forbidden")
	}
}

func TestOwnMessageKeepsReplyQuote(t *testing.T) {
	in := &stanza.Message{Attrs: stanza.Attrs{From: "c@gw", To: "o@x"}, Body: "> quoted\n" + fromPhoneMarker + "answer"}
	out := ownMessage(in)
	if out.Body != "> quoted\nanswer" || out.From != "o@x" || out.To != "c@gw" {
		t.Errorf("%+v %q", out.Attrs, out.Body)
	}
	if in.Body != "> quoted\n"+fromPhoneMarker+"answer" || in.From != "c@gw" {
		t.Error("ownMessage changed its argument")
	}
}
