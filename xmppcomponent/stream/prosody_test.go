package stream

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestConnAgainstProsody runs the connection against a real Prosody: the
// handshake through the operator snippet, traffic both ways, SendIQ, ack
// pings, a wrong secret, and a SIGKILL of the server with stanzas queued
// while it is down.
func TestConnAgainstProsody(t *testing.T) {
	if testing.Short() {
		t.Skip("needs prosody")
	}
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Components: []xmpptest.ComponentSpec{{Domain: testDomain, Secret: testSecret}},
	})
	p.Register(t, "alice", "pw-alice")

	inbound := make(chan stanza.Message, 100)
	h := func(ctx context.Context, pk stanza.Packet) {
		if m, ok := pk.(stanza.Message); ok {
			inbound <- m
		}
	}
	log, sink := newConnLogger(t)
	c := New(Config{
		Addr: p.ComponentAddr, Domain: testDomain, Secret: testSecret, Logger: log,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}, h)
	startConn(t, c)
	waitConn(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, err := xmpptest.DialClient(ctx, p.C2SAddr, "alice@example.test", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { alice.Close() }()
	if err := alice.SendPresence(); err != nil {
		t.Fatal(err)
	}

	// Client → component.
	if err := alice.SendRaw(`<message type='chat' to='+15550001111@` + testDomain + `' id='u1'><body>to the gateway</body></message>`); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-inbound:
		if m.Body != "to the gateway" || !strings.HasPrefix(m.From, "alice@example.test/") {
			t.Errorf("component got %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("no message at the component")
	}

	// Component → client, and the ack pings confirm it.
	send := func(body string) {
		t.Helper()
		if err := c.Send(ctx, testMessage("+15550001111@"+testDomain, "alice@example.test", body)); err != nil {
			t.Fatal(err)
		}
	}
	send("from the gateway")
	if _, err := alice.WaitFor(ctx, func(s xmpptest.Stanza) bool {
		m, ok := s.Packet.(stanza.Message)
		return ok && m.Body == "from the gateway"
	}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the in-flight list to drain through Prosody's ping replies", func() bool {
		s := c.Stats()
		return s.InFlight == 0 && s.Queued == 0
	})

	// SendIQ to the server.
	iq, _ := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, From: testDomain, To: "example.test"})
	iq.Payload = &stanza.DiscoInfo{XMLName: xml.Name{Space: stanza.NSDiscoInfo, Local: "query"}}
	reply, err := c.SendIQ(ctx, iq)
	if err != nil {
		t.Fatal(err)
	}
	if di, ok := reply.Payload.(*xep.DiscoInfo); !ok || len(di.Features) == 0 {
		t.Errorf("disco#info reply %#v", reply.Payload)
	}

	// Prosody dies; what the gateway sends meanwhile waits in the queue.
	p.Kill(t)
	testutil.WaitFor(t, "the link to go down", func() bool { return !c.Connected() })
	for i := range 5 {
		send(fmt.Sprintf("queued %d", i))
	}
	p.Start(t)
	waitConn(t, c)
	alice.Close()
	alice, err = xmpptest.DialClient(ctx, p.C2SAddr, "alice@example.test", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.SendPresence(); err != nil { // also flushes the offline store
		t.Fatal(err)
	}
	for i := range 5 {
		want := fmt.Sprintf("queued %d", i)
		if _, err := alice.WaitFor(ctx, func(s xmpptest.Stanza) bool {
			m, ok := s.Packet.(stanza.Message)
			return ok && m.Body == want
		}); err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
	}

	// A wrong secret is refused with not-authorized, logged at Error level.
	badLog, badSink := newConnLogger(t)
	bad := New(Config{
		Addr: p.ComponentAddr, Domain: testDomain, Secret: "wrong", Logger: badLog,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		SecretSetting: "component.secret",
	}, nil)
	startConn(t, bad)
	testutil.WaitFor(t, "the refusal", func() bool {
		return badSink.has(slog.LevelError, "refused", map[string]string{"condition": "not-authorized"})
	})
	// The line says which setting to fix, on both sides.
	for _, part := range []string{"component.secret", `component_secret in the Component "` + testDomain + `" section`, "ejabberd_service"} {
		if !badSink.has(slog.LevelError, part, map[string]string{"condition": "not-authorized"}) {
			t.Errorf("the refusal's Error line does not mention %s", part)
		}
	}
	if err := bad.Problem(); !errors.Is(err, ErrNotAuthorized) || !strings.Contains(err.Error(), "component.secret") {
		t.Errorf("Problem() = %v, want ErrNotAuthorized naming component.secret", err)
	}
	if !c.Connected() || sink.has(slog.LevelError, "", nil) {
		t.Error("the good connection suffered from the bad one")
	}
}
