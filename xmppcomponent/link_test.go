package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// testLink is a virtual link that records what the component writes.
type testLink struct {
	*scriptRecorder
	connects uint64
}

func (l *testLink) Connects() uint64 { return l.connects }

// TestNewOnLinkRefuses: a virtual link is required, and a component on
// one keeps no stanza journal of its own.
func TestNewOnLinkRefuses(t *testing.T) {
	cfg := Config{Conn: stream.Config{Domain: "gw.example.test"}, Platform: fakePlatform, Logger: slog.New(slog.DiscardHandler)}
	if _, err := NewOnLink(cfg, newFakeHub(), nil); err == nil {
		t.Error("NewOnLink without a link succeeded")
	}
	cfg.Journal = &memJournalForLink{}
	if _, err := NewOnLink(cfg, newFakeHub(), &testLink{scriptRecorder: &scriptRecorder{}}); err == nil || !strings.Contains(err.Error(), "Config.Journal") {
		t.Errorf("NewOnLink with a journal: %v, want a refusal naming Config.Journal", err)
	}
}

// memJournalForLink is a StanzaJournal that is never used: NewOnLink
// refuses it before.
type memJournalForLink struct{ StanzaJournal }

// TestComponentOnVirtualLink: stanzas fed to a component on a virtual
// link reach the hub or are answered on the link, admission checks
// included; the link numbers the connections; Run ends with its context.
func TestComponentOnVirtualLink(t *testing.T) {
	hub := newFakeHub()
	linkFake(hub, "alice@example.test")
	link := &testLink{scriptRecorder: &scriptRecorder{}, connects: 7}
	c, err := NewOnLink(Config{Conn: stream.Config{Domain: "gw.example.test"}, Platform: fakePlatform, Logger: slog.New(slog.DiscardHandler)}, hub, link)
	if err != nil {
		t.Fatal(err)
	}
	if c.Conn() != nil {
		t.Error("a component on a virtual link has an XEP-0114 connection")
	}
	if hub.frontend != c {
		t.Error("the component is not the hub's frontend")
	}
	if got := c.connNumber(); got != 7 {
		t.Errorf("connNumber = %d, want the link's 7", got)
	}

	ctx := t.Context()
	c.Feed(ctx, &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeGet, Id: "p1", From: "alice@example.test/phone", To: "gw.example.test"},
		Payload: &xep.Ping{XMLName: xml.Name{Space: xep.NSPing, Local: "ping"}}})
	if out := link.take(); len(out) != 1 || !strings.Contains(out[0], `<iq type="result" id="p1" from="gw.example.test" to="alice@example.test/phone">`) {
		t.Errorf("ping answered on the link with %v", out)
	}

	msg := stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: stanza.Attrs{Type: stanza.MessageTypeChat, Id: "m1", From: "alice@example.test/phone", To: "+15550000001@gw.example.test"}, Body: "hi"}
	c.Feed(ctx, msg)
	c.chatq.waitIdle()
	if calls := hub.takeCalls(); len(calls) != 1 || calls[0] != `SendMessage "alice@example.test" {"body":"hi","chat":"+15550000001"} ["m1",""]` {
		t.Errorf("hub calls %v, want the message sent", calls)
	}
	if sent := hub.sendOpts; len(sent) != 1 || !sent[0].Admitted {
		t.Errorf("send options %+v: want the message admitted on arrival", sent)
	}

	hub.mu.Lock()
	hub.admitErr = gateway.ErrRateLimited
	hub.mu.Unlock()
	c.Feed(ctx, stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: stanza.Attrs{Type: stanza.MessageTypeChat, Id: "m2", From: "alice@example.test/phone", To: "+15550000001@gw.example.test"}, Body: "again"})
	if out := link.take(); len(out) != 1 || !strings.Contains(out[0], `type="error" id="m2"`) {
		t.Errorf("a message refused on arrival was answered on the link with %v", out)
	}
	if calls := hub.takeCalls(); len(calls) != 0 {
		t.Errorf("a refused message reached the hub: %v", calls)
	}

	rctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Run(rctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}
