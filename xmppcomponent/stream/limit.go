package stream

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"gosrc.io/xmpp/stanza"
)

// DefaultMaxStanzaSize is Config.MaxStanzaSize's default: 1 MiB.
const DefaultMaxStanzaSize = 1 << 20

// errStanzaTooLarge is returned by the stanza limiter when one top-level
// element of the stream grows over the limit.
var errStanzaTooLarge = errors.New("stanza too large")

// errRestrictedXML is returned by the stanza limiter, for good, when the
// stream holds a comment, a processing instruction (other than the XML
// declaration before the stream header) or a DTD or other <! declaration:
// RFC 6120 §11.1 forbids them in XMPP streams. They are refused at the
// byte level, before encoding/xml sees them, because its idea of where
// they end need not match the limiter's, and a decoder inside a comment
// the limiter took for text would buffer without bound. The Conn answers
// it with the stream error restricted-xml.
var errRestrictedXML = errors.New("restricted XML: comment, processing instruction or DTD on the stream (RFC 6120 §11.1)")

// syntheticRoot is fed to a fresh XML decoder after an oversized stanza was
// discarded, so that it knows the stream's namespaces again.
const syntheticRoot = `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>`

// lexState is where the stanza limiter's lexer is within the XML.
type lexState uint8

const (
	lexText  lexState = iota // character data
	lexLT                    // just read '<'
	lexStart                 // in a start tag
	lexQuote                 // in a quoted attribute value
	lexEnd                   // in an end tag
	lexBang                  // just read "<!"
	lexCDATA                 // in <![CDATA[ ]]>
	lexPI                    // in <? ?> (only the XML declaration, before the stream header)
)

// stanzaLimiter sits between the socket and the XML decoder. It follows
// the element structure of the stream byte by byte (a small lexer, no
// buffering) and fails a read once the current top-level element —
// including anything between the previous one and it — exceeds max bytes,
// so that no single stanza makes the decoder buffer without bound. After
// such a failure, discard drops the rest of the element, and the stream
// can be read on with a fresh decoder.
//
// It refuses comments, processing instructions and <! declarations other
// than CDATA sections (errRestrictedXML), so that its lexer and the
// decoder always agree on where markup ends.
//
// It implements io.ByteReader, so encoding/xml reads through it without a
// read-ahead buffer of its own.
type stanzaLimiter struct {
	r   *bufio.Reader
	max int64
	lexer
	prefix []byte // bytes served before r: syntheticRoot, or what readElement gave back
	relex  bool   // prefix holds bytes of r to lex as they are served (readElement's)
}

// lexer is the limiter's state from the bytes it lexed (a value, so that
// readElement can restore it).
type lexer struct {
	n      int64 // bytes since the last top-level element ended
	depth  int
	state  lexState
	quote  byte
	prev   byte  // previous byte within a tag or comment, for "/>", "-->", "]]>", "?>"
	prev2  byte  // the byte before prev
	err    error // errRestrictedXML once seen: every later read fails
	header bool  // the stream header has been read
	total  int64 // bytes read from r, for the size of each stanza
}

func newStanzaLimiter(r io.Reader, max int64) *stanzaLimiter {
	if max <= 0 {
		max = DefaultMaxStanzaSize
	}
	return &stanzaLimiter{r: bufio.NewReader(r), max: max}
}

// ReadByte implements io.ByteReader.
func (l *stanzaLimiter) ReadByte() (byte, error) {
	if len(l.prefix) > 0 && !l.relex {
		b := l.prefix[0]
		l.prefix = l.prefix[1:]
		return b, nil
	}
	if l.err != nil {
		return 0, l.err
	}
	if l.n >= l.max {
		return 0, fmt.Errorf("%w (over %d bytes)", errStanzaTooLarge, l.max)
	}
	b, err := l.rawByte()
	if err != nil {
		return 0, err
	}
	l.total++
	l.n++
	if l.step(b) {
		l.n = 0
	}
	if l.err != nil {
		return 0, l.err
	}
	return b, nil
}

// Read implements io.Reader through ReadByte (encoding/xml only uses
// ReadByte).
func (l *stanzaLimiter) Read(p []byte) (int, error) {
	for i := range p {
		b, err := l.ReadByte()
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		p[i] = b
	}
	return len(p), nil
}

// discard reads on, without a limit, until the current top-level element
// has ended (or the stream has), then serves syntheticRoot before the rest
// of the stream. It reads at most what the peer sends; memory stays
// constant.
func (l *stanzaLimiter) discard() error {
	for {
		b, err := l.rawByte()
		if err != nil {
			return err
		}
		l.total++
		ended := l.step(b)
		if l.err != nil {
			return l.err
		}
		if ended || l.depth < 1 {
			break
		}
	}
	l.n = 0
	l.prefix, l.relex = []byte(syntheticRoot), false
	return nil
}

// rawByte reads the next byte of the stream: one readElement gave back,
// else one from r.
func (l *stanzaLimiter) rawByte() (byte, error) {
	if len(l.prefix) > 0 {
		b := l.prefix[0]
		l.prefix = l.prefix[1:]
		return b, nil
	}
	return l.r.ReadByte()
}

// step advances the lexer by one byte and reports whether a top-level
// element (a child of the stream root) or the stream header just ended.
// Markup that XMPP forbids sets l.err.
func (l *stanzaLimiter) step(b byte) (ended bool) {
	prev, prev2 := l.prev, l.prev2
	l.prev2, l.prev = prev, b
	switch l.state {
	case lexText:
		if b == '<' {
			l.state = lexLT
		}
	case lexLT:
		switch b {
		case '/':
			l.state = lexEnd
		case '!':
			l.state = lexBang
		case '?':
			if l.header || l.depth > 0 {
				l.err = errRestrictedXML // only the XML declaration, before the header
			}
			l.state = lexPI
		default:
			l.state = lexStart
		}
	case lexStart:
		switch b {
		case '"', '\'':
			l.state, l.quote = lexQuote, b
		case '>':
			l.state = lexText
			if prev == '/' {
				return l.depth == 1 // an empty top-level element
			}
			l.depth++
			if l.depth == 1 {
				l.header = true
				return true // the stream header
			}
			return false
		}
	case lexQuote:
		if b == l.quote {
			l.state = lexStart
			l.prev = 0 // a quote is not the '/' of "/>"
		}
	case lexEnd:
		if b == '>' {
			l.state = lexText
			l.depth--
			return l.depth == 1
		}
	case lexBang:
		if b != '[' || l.depth < 1 {
			l.err = errRestrictedXML // a comment, DOCTYPE or other declaration
		}
		l.state = lexCDATA
		l.prev, l.prev2 = 0, 0
	case lexCDATA:
		if b == '>' && prev == ']' && prev2 == ']' {
			l.state = lexText
		}
	case lexPI:
		if b == '>' && prev == '?' {
			l.state = lexText
		}
	}
	return false
}

// skipLarge drops the rest of an oversized stanza whose start tag (if it
// was read) is start, and sets the reader up to go on after it. It returns
// the *errUndecodable for the skipped stanza, or a fatal error.
func (sr *streamReader) skipLarge(start xml.StartElement, cause error) error {
	if err := sr.lim.discard(); err != nil {
		return fmt.Errorf("skipping an oversized <%s>: %w", start.Name.Local, err)
	}
	sr.wire = &depthTracker{d: xml.NewDecoder(sr.lim)}
	sr.dec = xml.NewTokenDecoder(sr.wire)
	sr.leanNS = stanza.NSComponent            // syntheticRoot's
	if _, err := sr.dec.Token(); err != nil { // the synthetic root
		return fmt.Errorf("skipping an oversized <%s>: %w", start.Name.Local, err)
	}
	return &errUndecodable{name: start.Name.Local, err: cause, start: start.Copy()}
}

// setMaxStanzaSize sets the largest stanza the reader accepts, in bytes;
// n <= 0 keeps the current limit.
func (sr *streamReader) setMaxStanzaSize(n int64) {
	if n > 0 {
		sr.lim.max = n
	}
}

// readElement reads the next top-level element of the stream, and the
// white space before it, into buf[:0] and reports whether it got all of
// it. It stops, with ok false, at anything else: text other than white
// space, the end of the stream's root, an element longer than max bytes,
// restricted XML, a size over the limit, or a read error. Then it gives
// back what it read and puts the lexer back where it was, so that the XML
// decoder's reads meet the same bytes, and the same errors at the same
// places, as if readElement had not been called. It is only tried between
// top-level elements, with nothing given back pending.
func (l *stanzaLimiter) readElement(buf []byte, max int) (out []byte, ok bool) {
	buf = buf[:0]
	if len(l.prefix) > 0 || l.depth != 1 || l.state != lexText || l.err != nil {
		return buf, false
	}
	saved := l.lexer
	inElement := false
	for len(buf) < max && l.n < l.max {
		b, err := l.r.ReadByte()
		if err != nil {
			break
		}
		l.total++
		l.n++
		buf = append(buf, b)
		if !inElement {
			switch {
			case b == '<':
				inElement = true
			case !isLeanSpace(b):
				return l.unread(buf, saved)
			}
		}
		if l.step(b) {
			l.n = 0
			return buf, true
		}
		if l.err != nil || l.depth < 1 {
			break
		}
	}
	return l.unread(buf, saved)
}

// unread gives back buf, read by readElement from the lexer state saved,
// to be read and lexed again.
func (l *stanzaLimiter) unread(buf []byte, saved lexer) ([]byte, bool) {
	l.lexer = saved
	l.prefix, l.relex = buf, true
	return buf, false
}
