package stream

import (
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestLeanMessage: the lean decoder takes the message stanzas clients
// send, and declines what it leaves to encoding/xml.
func TestLeanMessage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *stanza.Message // nil: declined
	}{
		{"chat message",
			`<message type='chat' id='m1' from='alice@example.test/phone' to='+15550000001@gw.example.test'><body>hello</body>` +
				`<request xmlns='urn:xmpp:receipts'/><active xmlns='http://jabber.org/protocol/chatstates'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>`,
			&stanza.Message{XMLName: xml.Name{Space: stanza.NSComponent, Local: "message"},
				Attrs: stanza.Attrs{Type: "chat", Id: "m1", From: "alice@example.test/phone", To: "+15550000001@gw.example.test"}, Body: "hello",
				Extensions: []stanza.MsgExtension{
					&stanza.ReceiptRequest{XMLName: xml.Name{Space: stanza.NSMsgReceipts, Local: "request"}},
					&stanza.StateActive{XMLName: xml.Name{Space: stanza.NSMsgChatStateNotifications, Local: "active"}},
					&stanza.Markable{XMLName: xml.Name{Space: stanza.NSMsgChatMarkers, Local: "markable"}},
				}}},
		{"entities, references, spaces, unknown empty child",
			"<message xml:lang=\"en\" id = 'a&amp;b' >\n <body>1 &lt; 2 &#x1F600; &#65;\n</body> <thread>t</thread><x xmlns='urn:unknown' a='b'></x></message>",
			&stanza.Message{XMLName: xml.Name{Space: stanza.NSComponent, Local: "message"},
				Attrs: stanza.Attrs{Id: "a&b", Lang: "en"}, Body: "1 < 2 😀 A\n", Thread: "t"}},
		{"received receipt", `<message id='r'><received xmlns='urn:xmpp:receipts' id='m1'/></message>`,
			&stanza.Message{XMLName: xml.Name{Space: stanza.NSComponent, Local: "message"}, Attrs: stanza.Attrs{Id: "r"},
				Extensions: []stanza.MsgExtension{&stanza.ReceiptReceived{XMLName: xml.Name{Space: stanza.NSMsgReceipts, Local: "received"}, ID: "m1"}}}},
		{"empty, jabber:client", `<message xmlns='jabber:client' to='x@gw.example.test'/>`,
			&stanza.Message{XMLName: xml.Name{Space: stanza.NSClient, Local: "message"}, Attrs: stanza.Attrs{To: "x@gw.example.test"}}},
		{"error", `<message type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`, nil},
		{"prefixed child", `<message><r:request xmlns:r='urn:xmpp:receipts'/></message>`, nil},
		{"carriage return", "<message><body>a\r\nb</body></message>", nil},
		{"CDATA", `<message><body><![CDATA[x]]></body></message>`, nil},
		{"child in body", `<message><body>a<b/></body></message>`, nil},
		{"child in unknown", `<message><x xmlns='urn:unknown'><body>b</body></x></message>`, nil},
		{"unknown entity", `<message><body>&nbsp;</body></message>`, nil},
		{"bad end tag", `<message><body>a</bod></message>`, nil},
		{"other namespace", `<message xmlns='urn:other'/>`, nil},
		{"trailing bytes", `<message/><x/>`, nil},
		{"presence", `<presence/>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := leanMessage(tt.in, stanza.NSComponent)
			switch {
			case tt.want == nil && ok:
				t.Fatalf("accepted, got %#v", got)
			case tt.want != nil && !ok:
				t.Fatal("declined")
			case tt.want != nil && !reflect.DeepEqual(got, *tt.want):
				t.Fatalf("got  %#v\nwant %#v", got, *tt.want)
			}
			if ok {
				checkLikeXML(t, tt.in, got)
			}
		})
	}
}

// checkLikeXML fails unless encoding/xml decodes el, one element of a
// component stream, to want.
func checkLikeXML(t *testing.T, el string, want stanza.Message) {
	t.Helper()
	sr := newStreamReader(strings.NewReader(fuzzStreamHeader + el))
	sr.noLean = true
	if _, err := sr.open(); err != nil {
		t.Fatal(err)
	}
	p, err := sr.next()
	if err != nil {
		t.Fatalf("lean accepted %q, encoding/xml: %v", el, err)
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("lean decoded %q to\n%#v\nencoding/xml to\n%#v", el, want, p)
	}
}

// TestReaderUsesLean: the stream reader decodes common messages with the
// lean decoder (no encoding/xml tokens), and the stanzas it declines
// still come through encoding/xml, in order and with their sizes.
func TestReaderUsesLean(t *testing.T) {
	const msg = `<message id='m1' to='a@gw.example.test' from='b@example.test/r'><body>hi</body></message>`
	stream := fuzzStreamHeader + msg + "\n" + `<presence id='p1'/>` + msg + `<message id='e' type='error'><error type='cancel'/></message>` + `</stream:stream>`
	sr := newStreamReader(strings.NewReader(stream))
	if _, err := sr.open(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		before := sr.wire.d.InputOffset()
		p, err := sr.next()
		if err != nil {
			t.Fatal(err)
		}
		lean := sr.wire.d.InputOffset() == before
		switch v := p.(type) {
		case stanza.Message:
			got = append(got, "message "+v.Id+" lean="+map[bool]string{true: "yes", false: "no"}[lean])
		case stanza.Presence:
			got = append(got, "presence "+v.Id)
		case stanza.StreamClosePacket:
			got = append(got, "close")
		}
		if _, ok := p.(stanza.StreamClosePacket); ok {
			break
		}
	}
	want := "message m1 lean=yes|presence p1|message m1 lean=yes|message e lean=no|close"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}
}

// leanSeeds are the stanzas of the golden translation scripts (inbound
// and outbound), the fuzz seeds of the component, and a few made to sit
// at the lean decoder's edges.
func leanSeeds(t testing.TB) []string {
	var seeds []string
	for _, pattern := range []string{"../testdata/scripts/*", "../../testdata/scripts/*"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // a directory
			}
			for line := range strings.Lines(string(b)) {
				line = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "<< "), ">> "))
				if strings.HasPrefix(line, "<") {
					seeds = append(seeds, line)
				}
			}
		}
	}
	if len(seeds) < 100 {
		t.Fatalf("only %d seeds from the golden scripts", len(seeds))
	}
	seeds = append(seeds, xmpptest.FuzzStanzaSeeds...)
	return append(seeds,
		"<message><body>]]></body></message>",
		"<message><body>&#xD800;&#0;&#x110000;&#65</body></message>",
		"<message id='a' id='b' xmlns:id='c'><body/><body>x</body></message>",
		"<message><request xmlns='urn:xmpp:receipts'> </request><request xmlns='urn:xmpp:receipts'>x</request></message>",
		"<message><origin-id xmlns='urn:xmpp:sid:0' id='o1' xml:lang='en'/><message/></message>",
		"<message a='1'b='2'/>",
		"<message>\xff</message>",
	)
}

// FuzzLeanDecoder is the differential fuzz test of the lean decoder: the
// stream reader with it must return exactly what the reader without it
// returns (encoding/xml only), packet for packet, with the same sizes,
// for any input.
func FuzzLeanDecoder(f *testing.F) {
	seeds := leanSeeds(f)
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Join(seeds[:20], "\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			t.Skip()
		}
		in := fuzzStreamHeader + string(data)
		lean, plain := newStreamReader(strings.NewReader(in)), newStreamReader(strings.NewReader(in))
		plain.noLean = true
		for _, sr := range []*streamReader{lean, plain} {
			sr.setMaxStanzaSize(fuzzStanzaLimit)
			if _, err := sr.open(); err != nil {
				t.Fatalf("valid header refused: %v", err)
			}
		}
		limit := strings.Count(string(data), "<") + 1 // each call takes a start tag
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("more than %d packets from %d bytes", limit, len(data))
			}
			lp, lerr := lean.next()
			pp, perr := plain.next()
			if lk, pk := readOutcome(lerr), readOutcome(perr); lk != pk {
				t.Fatalf("call %d: lean: %v (%s), encoding/xml: %v (%s)", i, lerr, lk, perr, pk)
			}
			if !reflect.DeepEqual(lp, pp) {
				t.Fatalf("call %d:\nlean         %#v\nencoding/xml %#v", i, lp, pp)
			}
			if lean.lim.total != plain.lim.total {
				t.Fatalf("call %d: lean read %d bytes, encoding/xml %d", i, lean.lim.total, plain.lim.total)
			}
			if _, closed := pp.(stanza.StreamClosePacket); closed || perr != nil && !errors.As(perr, new(*errUndecodable)) {
				return
			}
		}
	})
}

// readOutcome classifies a reader error: syntax errors may differ in their
// line numbers (the lean decoder's bytes do not pass encoding/xml's
// counters), not in kind.
func readOutcome(err error) string {
	var skipped *errUndecodable
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &skipped):
		return "skipped " + skipped.name + " " + map[bool]string{true: "large", false: ""}[errors.Is(err, errStanzaTooLarge)]
	case errors.Is(err, errRestrictedXML):
		return "restricted"
	case errors.Is(err, errStanzaTooLarge):
		return "large"
	default:
		return "fatal"
	}
}

// TestLeanLongStanza: a message longer than leanMaxBytes is given back
// half read and decoded by encoding/xml, whole; the next one is lean again.
func TestLeanLongStanza(t *testing.T) {
	long := strings.Repeat("é", leanMaxBytes)
	stream := fuzzStreamHeader + `<message id='long'><body>` + long + `</body></message><message id='short'><body>s</body></message>`
	sr := newStreamReader(strings.NewReader(stream))
	if _, err := sr.open(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		id, body string
		lean     bool
	}{{"long", long, false}, {"short", "s", true}} {
		before := sr.wire.d.InputOffset()
		p, err := sr.next()
		if err != nil {
			t.Fatal(err)
		}
		m, ok := p.(stanza.Message)
		if !ok || m.Id != want.id || m.Body != want.body {
			t.Fatalf("read %T id %q, body of %d bytes; want %s", p, m.Id, len(m.Body), want.id)
		}
		if lean := sr.wire.d.InputOffset() == before; lean != want.lean {
			t.Errorf("%s: lean = %v, want %v", want.id, lean, want.lean)
		}
	}
}
