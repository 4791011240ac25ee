package stream

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"
)

// readAll reads packets until a fatal error, describing each: the stanza's
// id, "skip:<name>:<id>" for a skipped one, "close", "stream-error", or
// "fatal".
func readAll(t *testing.T, sr *streamReader) []string {
	t.Helper()
	var got []string
	for range 100 {
		p, err := sr.next()
		var skipped *errUndecodable
		switch {
		case errors.As(err, &skipped):
			id := ""
			for _, a := range skipped.start.Attr {
				if a.Name.Local == "id" {
					id = a.Value
				}
			}
			got = append(got, "skip:"+skipped.name+":"+id)
			continue
		case err != nil:
			return append(got, "fatal")
		}
		switch v := p.(type) {
		case stanza.Message:
			got = append(got, v.Id)
		case *stanza.IQ:
			got = append(got, v.Id)
		case stanza.StreamError:
			got = append(got, "stream-error:"+streamErrorOf(v).Condition)
		case stanza.StreamClosePacket:
			return append(got, "close")
		}
	}
	t.Fatal("reader did not stop")
	return nil
}

func TestStanzaSizeLimit(t *testing.T) {
	big := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name, stream string
		want         string
	}{
		{"small stanzas pass", `<message id='a'><body>hi</body></message><iq type='get' id='b'/>`, "a b close"},
		{"oversized body skipped, stream goes on", `<message id='a'/><message id='big' from='u@x/r'><body>` + big + `</body></message><message id='c'/>`, "a skip:message:big c close"},
		{"oversized start tag", `<message id='a'/><message id='big' x='` + big + `'><body/></message><message id='c'/>`, "a skip:stanza: c close"},
		{"markup inside the oversized stanza", `<message id='big'><![CDATA[</message><x>]]><x a='/>' b="'>"/>` + big + `</message><message id='c'/>`, "skip:message:big c close"},
		{"deep nesting", `<message id='big'>` + strings.Repeat("<a>", 500) + strings.Repeat("</a>", 500) + `</message><message id='c'/>`, "skip:message:big c close"},
		{"namespaces known after a skip", `<message id='big'><body>` + big + `</body></message><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`, "skip:message:big stream-error:conflict close"},
		{"a stanza of just under the limit", `<message id='a'><body>` + strings.Repeat("y", 1000) + `</body></message>`, "a close"},
		{"stream ends inside the oversized stanza", `<message id='big'><body>` + big, "fatal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr := newStreamReader(strings.NewReader(fuzzStreamHeader + tc.stream + `</stream:stream>`))
			sr.setMaxStanzaSize(1200)
			if _, err := sr.open(); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(readAll(t, sr), " "); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// endless serves a message with a body of n bytes, produced on demand,
// then one small message and the end of the stream.
type endless struct {
	head, tail string
	n          int
}

func (e *endless) Read(p []byte) (int, error) {
	switch {
	case e.head != "":
		k := copy(p, e.head)
		e.head = e.head[k:]
		return k, nil
	case e.n > 0:
		k := min(len(p), e.n)
		for i := range k {
			p[i] = 'z'
		}
		e.n -= k
		return k, nil
	case e.tail != "":
		k := copy(p, e.tail)
		e.tail = e.tail[k:]
		return k, nil
	}
	return 0, io.EOF
}

// TestStanzaSizeLimitMemory: skipping a 16 MiB stanza allocates a small
// constant amount, not the stanza.
func TestStanzaSizeLimitMemory(t *testing.T) {
	r := &endless{
		head: fuzzStreamHeader + `<message id='big'><body>`,
		n:    16 << 20,
		tail: `</body></message><message id='c'/></stream:stream>`,
	}
	sr := newStreamReader(r)
	if _, err := sr.open(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := strings.Join(readAll(t, sr), " ")
	runtime.ReadMemStats(&after)
	if got != "skip:message:big c close" {
		t.Fatalf("got %s", got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("skipping allocated %d bytes", alloc)
	}
}

// BenchmarkStreamReader reads messages through the connection's reader,
// the stanza size limiter included: with the lean decoder (as the
// connection does) and with encoding/xml alone (as before it).
func BenchmarkStreamReader(b *testing.B) {
	const msg = `<message type='chat' id='m1' from='alice@example.test/phone' to='+15550001111@gw.example.test'><body>benchmark message</body><request xmlns='urn:xmpp:receipts'/></message>`
	stream := fuzzStreamHeader + strings.Repeat(msg, 1000)
	for _, mode := range []struct {
		name   string
		noLean bool
	}{{"lean", false}, {"xml", true}} {
		b.Run(mode.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			var sr *streamReader
			for i := 0; b.Loop(); i++ {
				if i%1000 == 0 {
					sr = newStreamReader(strings.NewReader(stream))
					sr.noLean = mode.noLean
					if _, err := sr.open(); err != nil {
						b.Fatal(err)
					}
				}
				if p, err := sr.next(); err != nil {
					b.Fatal(err)
				} else if m, ok := p.(stanza.Message); !ok || m.Body != "benchmark message" {
					b.Fatalf("read %#v", p)
				}
			}
		})
	}
}

// TestConnOversizedStanza: over a real connection, an oversized stanza is
// skipped, the Handler learns who sent it, and the link stays up.
func TestConnOversizedStanza(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	got := make(chan string, 10)
	h := func(ctx context.Context, p stanza.Packet) {
		switch v := p.(type) {
		case stanza.Message:
			got <- "message " + v.Body
		case Undecodable:
			got <- fmt.Sprintf("undecodable %s %s %s %v %d", v.Kind, v.Attrs.From, v.Attrs.Id, v.TooLarge, v.Limit)
		}
	}
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.MaxStanzaSize = 4096
	c := New(cfg, h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	ss.send("<message from='a@example.test/r' to='b@gw.example.test' id='big'><body>" + strings.Repeat("x", 10000) + "</body></message>" +
		"<message from='a@example.test/r' to='b@gw.example.test'><body>good</body></message>")
	for _, want := range []string{"undecodable message a@example.test/r big true 4096", "message good"} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("handler got %q, want %q", g, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for %q", want)
		}
	}
	if s := c.Stats(); s.Connects != 1 {
		t.Errorf("the connection was dropped: %+v", s)
	}
}

// TestDispatchLaneBounded: a lane whose Handler does not keep up holds at
// most maxLaneBacklog stanzas; the rest are dropped, counted and logged.
func TestDispatchLaneBounded(t *testing.T) {
	log, sink := newConnLogger(t)
	d := newDispatcher(func(context.Context, stanza.Packet) {}, log, maphash.MakeSeed(), 1)
	// The workers are not started: nothing drains the lane.
	m := stanza.Message{Attrs: stanza.Attrs{From: "flood@example.test/r", To: "x@gw.example.test"}}
	for range maxLaneBacklog + 10 {
		d.dispatch(m, 100)
	}
	if got := d.backlogLen(); got != maxLaneBacklog {
		t.Errorf("backlog = %d, want %d", got, maxLaneBacklog)
	}
	if got := d.dropped.Load(); got != 10 {
		t.Errorf("dropped = %d, want 10", got)
	}
	if !sink.has(slog.LevelWarn, "dispatch lane full", nil) {
		t.Error("no log about the drops")
	}
}
