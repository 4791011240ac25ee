package xmpptest

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

func TestClientAgainstProsody(t *testing.T) {
	p := StartProsody(t, ProsodyOptions{})
	p.Register(t, "alice", "pw-alice")
	p.Register(t, "bob", "pw-bob")
	alice, err := DialClient(testCtx(t), p.C2SAddr, "alice@example.test", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	bob, err := DialClient(testCtx(t), p.C2SAddr, "bob@example.test", "pw-bob")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	for _, c := range []*Client{alice, bob} {
		if err := c.SendPresence(); err != nil {
			t.Fatal(err)
		}
	}

	// IQ round trip: disco#info to the server.
	iq, err := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, To: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	iq.Id = ""
	iq.Payload = &stanza.DiscoInfo{XMLName: xml.Name{Space: stanza.NSDiscoInfo, Local: "query"}}
	res, err := alice.SendIQ(testCtx(t), iq)
	if err != nil {
		t.Fatal(err)
	}
	reply, ok := res.Packet.(*stanza.IQ)
	if !ok || reply.Type != stanza.IQTypeResult || reply.Id != iq.Id {
		t.Fatalf("disco#info reply %s", res.Raw)
	}
	for _, want := range []string{
		`<iq xmlns="jabber:client" `, `type="result"`, `from="example.test"`,
		`<query xmlns="http://jabber.org/protocol/disco#info">`, `<feature var="urn:xmpp:ping"/>`,
	} {
		if !strings.Contains(res.Raw, want) {
			t.Errorf("reply lacks %s: %s", want, res.Raw)
		}
	}

	// An IQ error reply is returned, not turned into an error.
	res, err = alice.SendIQ(testCtx(t), &stanza.IQ{
		XMLName: xml.Name{Local: "iq"},
		Attrs:   stanza.Attrs{Type: stanza.IQTypeGet, To: "example.test"},
		Any:     &stanza.Node{XMLName: xml.Name{Space: "urn:example:nothing", Local: "query"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Raw, `type="error"`) || !strings.Contains(res.Raw, "<service-unavailable") {
		t.Errorf("unknown query: %s", res.Raw)
	}

	// Messages both ways, with a payload gosrc does not parse.
	if err := alice.SendRaw(`<message type='chat' to='bob@example.test' id='m1'><body>hi "bob" &amp; co</body><x xmlns='urn:example:extra' n='1'/></message>`); err != nil {
		t.Fatal(err)
	}
	st, err := bob.WaitFor(testCtx(t), func(s Stanza) bool {
		m, ok := s.Packet.(stanza.Message)
		return ok && m.Id == "m1"
	})
	if err != nil {
		t.Fatal(err)
	}
	m := st.Packet.(stanza.Message)
	if m.Body != `hi "bob" & co` || !strings.HasPrefix(m.From, "alice@example.test/") {
		t.Errorf("bob got %+v", m)
	}
	if !strings.Contains(st.Raw, `<body>hi "bob" &amp; co</body><x xmlns="urn:example:extra" n="1"/>`) {
		t.Errorf("raw %s", st.Raw)
	}
	m2 := stanza.NewMessage(stanza.Attrs{Type: stanza.MessageTypeChat, To: "alice@example.test", Id: "m2"})
	m2.Body = "hello alice"
	if err := bob.Send(m2); err != nil {
		t.Fatal(err)
	}
	st, err = alice.WaitFor(testCtx(t), func(s Stanza) bool {
		m, ok := s.Packet.(stanza.Message)
		return ok && m.Body == "hello alice"
	})
	if err != nil {
		t.Fatal(err)
	}

	// WaitFor leaves what it skips for later calls.
	for _, body := range []string{"first", "second"} {
		if err := alice.SendRaw(`<message type='chat' to='bob@example.test'><body>` + body + `</body></message>`); err != nil {
			t.Fatal(err)
		}
	}
	for _, body := range []string{"second", "first"} {
		if _, err := bob.WaitFor(testCtx(t), func(s Stanza) bool {
			m, ok := s.Packet.(stanza.Message)
			return ok && m.Body == body
		}); err != nil {
			t.Fatalf("waiting for %q: %v", body, err)
		}
	}

	// The server pings the client: answered automatically, never seen by Next.
	if err := bob.SendRaw(`<iq type='get' id='p1' to='` + alice.JID + `'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitFor(testCtx(t), func(s Stanza) bool {
		iq, ok := s.Packet.(*stanza.IQ)
		return ok && iq.Id == "p1" && iq.Type == stanza.IQTypeResult
	}); err != nil {
		t.Fatal(err)
	}
	// Other requests get service-unavailable and reach Next.
	if err := bob.SendRaw(`<iq type='get' id='q1' to='` + alice.JID + `'><query xmlns='jabber:iq:version'/></iq>`); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitFor(testCtx(t), func(s Stanza) bool {
		iq, ok := s.Packet.(*stanza.IQ)
		return ok && iq.Id == "q1"
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitFor(testCtx(t), func(s Stanza) bool {
		return strings.Contains(s.Raw, `id="q1"`) && strings.Contains(s.Raw, "<service-unavailable")
	}); err != nil {
		t.Fatal(err)
	}

	// Close ends the stream; the reader stops and Next reports it.
	if err := alice.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, err := alice.Next(testCtx(t))
		if errors.Is(err, ErrClientClosed) {
			break
		}
		if err != nil || i > 100 {
			t.Fatalf("Next after Close: %v", err)
		}
	}
	if err := alice.SendRaw("<presence/>"); err == nil {
		t.Error("write after Close succeeded")
	}
}

func TestReadElementCanonical(t *testing.T) {
	in := `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>` +
		`<message from='a@example.test/r' type='chat' xml:lang='en' xmlns:foo='urn:foo'>` +
		`<body>1 &lt; 2 &amp; it's "ok"</body><foo:x foo:y='v' z='a&quot;b'/><stream:features/>` +
		`<!-- note --><query xmlns='jabber:iq:register'><registered/><prompt>p</prompt></query></message>`
	dec := xml.NewDecoder(strings.NewReader(in))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	got, err := readElement(dec, tok.(xml.StartElement))
	if err != nil {
		t.Fatal(err)
	}
	want := `<message xmlns="jabber:client" from="a@example.test/r" type="chat" xml:lang="en">` +
		`<body>1 &lt; 2 &amp; it's "ok"</body>` +
		`<x xmlns="urn:foo" xmlns:ns0="urn:foo" ns0:y="v" z="a&quot;b"/>` +
		`<features xmlns="http://etherx.jabber.org/streams"/>` +
		`<query xmlns="jabber:iq:register"><registered/><prompt>p</prompt></query></message>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	p, err := stanza.NextPacket(xml.NewDecoder(strings.NewReader(got)))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := p.(stanza.Message); !ok || m.Body != `1 < 2 & it's "ok"` || m.Lang != "en" {
		t.Errorf("parsed %#v", p)
	}
}
