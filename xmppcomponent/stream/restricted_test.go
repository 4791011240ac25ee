package stream

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestRestrictedXML: comments, processing instructions and <! declarations
// other than CDATA end the stream with errRestrictedXML (RFC 6120 §11.1);
// the XML declaration before the header and CDATA sections are fine.
func TestRestrictedXML(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		restricted   bool
	}{
		{"comment between stanzas", `<message id='a'/><!-- hi --><message id='b'/>`, true},
		{"short comment", `<!---><message id='a'/>-->`, true},
		{"comment in a stanza", `<message id='a'><!-- x --></message>`, true},
		{"doctype", `<!DOCTYPE x "`, true},
		{"processing instruction", `<message id='a'><?x y?></message>`, true},
		{"xml declaration after the header", `<?xml version='1.0'?>`, true},
		{"cdata", `<message id='a'><body><![CDATA[<hi>]]></body></message>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr := newStreamReader(strings.NewReader(`<?xml version='1.0'?>` + fuzzStreamHeader + tc.stream + `</stream:stream>`))
			if _, err := sr.open(); err != nil {
				t.Fatal(err)
			}
			var err error
			for range 10 {
				if _, err = sr.next(); err != nil {
					break
				}
			}
			if got := errors.Is(err, errRestrictedXML); got != tc.restricted {
				t.Errorf("restricted = %v (err %v), want %v", got, err, tc.restricted)
			}
		})
	}
}

// countingReader counts the bytes read from r and fails once they pass
// max, so that a reader that does not stop fails the test instead of
// growing without end.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errReadTooMuch = errors.New("read past the test's cap")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		return 0, errReadTooMuch
	}
	n, err := c.r.Read(p[:min(int64(len(p)), c.max-c.n)])
	c.n += int64(n)
	return n, err
}

// repeater serves head, then pattern over and over, endlessly: a hostile
// server's stream of any length without the memory to hold it.
type repeater struct {
	head    string
	pattern string
	off     int
}

func (r *repeater) Read(p []byte) (int, error) {
	if r.head != "" {
		k := copy(p, r.head)
		r.head = r.head[k:]
		return k, nil
	}
	for i := range p {
		p[i] = r.pattern[r.off]
		r.off = (r.off + 1) % len(r.pattern)
	}
	return len(p), nil
}

// TestRestrictedXMLBounded: the attacks that made the decoder buffer
// hundreds of MB behind the size limiter's back (a comment the limiter
// thought had ended, a DOCTYPE with an open quote, each followed by an
// endless stream that looks like small stanzas to the limiter) are refused
// after reading at most a few KB past the limit.
func TestRestrictedXMLBounded(t *testing.T) {
	const limit = 4096
	for _, tc := range []struct{ name, head, pattern string }{
		{"comment", `<!--->`, `<message id='a'/>`},
		{"doctype", `<!DOCTYPE x "`, `<message id='a'/>`},
		{"comment in a stanza", `<message><!--->`, `<x/>`},
		{"processing instruction", `<?x `, `<message id='a'/>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{r: &repeater{head: fuzzStreamHeader + tc.head, pattern: tc.pattern}, max: 4 << 20}
			sr := newStreamReader(cr)
			sr.setMaxStanzaSize(limit)
			if _, err := sr.open(); err != nil {
				t.Fatal(err)
			}
			var err error
			for i := 0; i < 1_000_000 && err == nil; i++ {
				_, err = sr.next()
			}
			if !errors.Is(err, errRestrictedXML) {
				t.Fatalf("err = %v, want restricted XML", err)
			}
			// bufio reads 4 KiB ahead; the limiter must fail within it.
			if max := int64(len(fuzzStreamHeader)+limit) + 8<<10; cr.n > max {
				t.Errorf("read %d bytes before failing, want at most %d", cr.n, max)
			}
		})
	}
}

// FuzzLimiterDecoder is a differential test of the stanza limiter's lexer
// against encoding/xml: on the stream the decoder accepts, the limiter
// must see each top-level element end at the same byte, and it must refuse
// (errRestrictedXML) no later than the decoder reports a comment, a
// directive or a processing instruction after the stream header. Any
// disagreement could let the decoder buffer a stanza the limiter does not
// count.
func FuzzLimiterDecoder(f *testing.F) {
	for _, s := range xmpptest.FuzzStanzaSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`<message id='big'><![CDATA[</message>]]><x a='/>' b="'>"/></message><a/>`))
	f.Add([]byte(`<!---><a/>--><b/>`))
	f.Add([]byte(`<!DOCTYPE x "<a/>"><a/>`))
	f.Add([]byte(`<a><?x ?></a><b/>`))
	f.Add([]byte(`<a x='"'/><b y="'>"></b></stream:stream>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			t.Skip()
		}
		in := append([]byte(`<?xml version='1.0'?>`+fuzzStreamHeader), data...)

		// The limiter's view: the offsets just past each top-level end,
		// and where it refused the stream.
		l := &stanzaLimiter{max: 1 << 62}
		var limEnds []int64
		limErrAt := int64(-1)
		for i, b := range in {
			ended := l.step(b)
			if l.err != nil {
				limErrAt = int64(i + 1)
				break
			}
			if ended {
				limEnds = append(limEnds, int64(i+1))
			}
		}

		// The decoder's view.
		d := xml.NewDecoder(bytes.NewReader(in))
		var decEnds []int64
		depth := 0
		header := false
		for {
			tok, err := d.Token()
			if err != nil {
				break
			}
			off := d.InputOffset()
			if limErrAt >= 0 && off >= limErrAt {
				break // the limiter stopped the stream here
			}
			switch v := tok.(type) {
			case xml.StartElement:
				depth++
				if depth == 1 {
					header = true
					decEnds = append(decEnds, off)
				}
			case xml.EndElement:
				depth--
				if depth == 1 {
					decEnds = append(decEnds, off)
				}
			case xml.Comment, xml.Directive:
				t.Fatalf("the decoder read %T %q at %d that the limiter let through", v, v, off)
			case xml.ProcInst:
				if header {
					t.Fatalf("the decoder read <?%s?> at %d after the header, the limiter let it through", v.Target, off)
				}
			}
		}
		n := min(len(decEnds), len(limEnds))
		for i := range n {
			if decEnds[i] != limEnds[i] {
				t.Fatalf("element end %d: decoder at %d, limiter at %d", i, decEnds[i], limEnds[i])
			}
		}
		if len(decEnds) > len(limEnds) {
			t.Fatalf("the decoder saw %d top-level ends, the limiter %d", len(decEnds), len(limEnds))
		}
	})
}

// TestConnRestrictedXML: a server that sends a comment gets the stream
// error restricted-xml, and the Conn connects again.
func TestConnRestrictedXML(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, sink := newConnLogger(t)
	c := New(testConnConfig(srv, log), nil)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	if err := ss.send("<!--->" + strings.Repeat("<message/>", 100)); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the stream error restricted-xml", func() bool {
		for _, p := range ss.received() {
			if e, ok := p.(stanza.StreamError); ok && e.Error.Local == "restricted-xml" {
				return true
			}
		}
		return false
	})
	srv.session(2)
	if !sink.has(slog.LevelError, "restricted-xml", nil) {
		t.Error("the restricted-xml close was not logged as an error")
	}
}
