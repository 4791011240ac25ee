package stream

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"gosrc.io/xmpp/stanza"
)

// StreamError is a stream-level error sent by the server (RFC 6120 §4.9),
// e.g. not-authorized (wrong secret), conflict (another connection holds the
// component) or host-unknown (the server has no such component). The
// supervisor logs it at Error level and keeps retrying.
type StreamError struct {
	Condition string
	Text      string
}

// Error implements error.
func (e *StreamError) Error() string {
	if e.Text != "" {
		return "stream: stream error: " + e.Condition + ": " + e.Text
	}
	return "stream: stream error: " + e.Condition
}

// errStreamClosed is returned by the read loop when the server closes the
// stream with </stream:stream>.
var errStreamClosed = errors.New("stream: server closed the stream")

// depthTracker passes the tokens of the wire decoder through, counting the
// element depth, so that a stanza that fails to decode can be skipped without
// losing the stream. It can replay one token first (see resync).
type depthTracker struct {
	d      *xml.Decoder
	depth  int
	replay xml.Token
}

// Token implements xml.TokenReader.
func (t *depthTracker) Token() (xml.Token, error) {
	if tok := t.replay; tok != nil {
		t.replay = nil
		return tok, nil
	}
	tok, err := t.d.Token()
	switch tok.(type) {
	case xml.StartElement:
		t.depth++
	case xml.EndElement:
		t.depth--
	}
	return tok, err
}

// streamReader reads the top-level elements of an XMPP stream. Stanzas are
// decoded by dec, which reads through wire; after a stanza fails to decode,
// dec's state is unreliable (encoding/xml may leave internal end-of-element
// markers behind), so the rest of the element is skipped on the wire decoder
// and dec is replaced by a fresh one primed with the stream's root element.
type streamReader struct {
	wire *depthTracker
	dec  *xml.Decoder
	root xml.StartElement
	lim  *stanzaLimiter // bounds each stanza's size (limit.go)

	// noLean turns the lean decoder (lean.go) off: every stanza goes
	// through encoding/xml (for tests that compare the two).
	noLean bool
	// leanNS is the stream's default namespace, for the lean decoder.
	leanNS string
	// leanBuf holds the bytes of the stanza being read (reused).
	leanBuf []byte
}

func newStreamReader(r io.Reader) *streamReader {
	lim := newStanzaLimiter(r, DefaultMaxStanzaSize)
	wire := &depthTracker{d: xml.NewDecoder(lim)}
	return &streamReader{wire: wire, dec: xml.NewTokenDecoder(wire), lim: lim}
}

// open reads the server's stream header and returns its id.
func (sr *streamReader) open() (string, error) {
	for {
		tok, err := sr.dec.Token()
		if err != nil {
			return "", fmt.Errorf("reading stream header: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Space != stanza.NSStream || se.Name.Local != "stream" {
			return "", fmt.Errorf("expected a stream header, got <%s xmlns='%s'>", se.Name.Local, se.Name.Space)
		}
		sr.root = se.Copy()
		id := ""
		for _, a := range se.Attr {
			switch {
			case a.Name.Space == "" && a.Name.Local == "id":
				id = a.Value
			case a.Name.Space == "" && a.Name.Local == "xmlns":
				sr.leanNS = a.Value
			}
		}
		return id, nil
	}
}

// resync skips the rest of a stanza that failed to decode and replaces the
// stanza decoder.
func (sr *streamReader) resync() error {
	for sr.wire.depth > 1 {
		if _, err := sr.wire.Token(); err != nil {
			return err
		}
	}
	sr.wire.replay = sr.root
	sr.dec = xml.NewTokenDecoder(sr.wire)
	_, err := sr.dec.Token() // the replayed root
	return err
}

// errUndecodable marks a stanza that was skipped because it could not be
// decoded; the stream itself is intact.
type errUndecodable struct {
	name  string
	err   error
	start xml.StartElement // the stanza's start tag, when it was read
}

func (e *errUndecodable) Error() string {
	return "skipped undecodable <" + e.name + ">: " + e.err.Error()
}

func (e *errUndecodable) Unwrap() error { return e.err }

// next returns the next top-level packet: stanza.Message, stanza.Presence,
// *stanza.IQ (the types stanza.NextPacket produces), stanza.Handshake,
// stanza.StreamError or stanza.StreamClosePacket. Unknown top-level elements
// are skipped. An *errUndecodable error means one stanza was dropped and
// reading may continue; any other error is fatal for the stream.
//
// This mirrors stanza.NextPacket, which cannot be used directly because on an
// unknown element or a payload that fails to decode it leaves the decoder in
// the middle of the element.
func (sr *streamReader) next() (stanza.Packet, error) {
	if m, ok := sr.nextLean(); ok {
		return m, nil
	}
	for {
		tok, err := sr.dec.Token()
		if errors.Is(err, errStanzaTooLarge) {
			return nil, sr.skipLarge(xml.StartElement{Name: xml.Name{Local: "stanza"}}, err)
		}
		if sr.lim.err != nil {
			return nil, sr.lim.err
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Space == stanza.NSStream && t.Name.Local == "stream" {
				return stanza.StreamClosePacket{}, nil
			}
		case xml.StartElement:
			p, err := sr.decode(t)
			if sr.lim.err != nil {
				return nil, sr.lim.err
			}
			if errors.Is(err, errStanzaTooLarge) {
				return nil, sr.skipLarge(t, err)
			}
			if err != nil {
				if skipErr := sr.resync(); skipErr != nil {
					if errors.Is(skipErr, errStanzaTooLarge) {
						return nil, sr.skipLarge(t, skipErr)
					}
					return nil, fmt.Errorf("decoding <%s>: %w", t.Name.Local, err)
				}
				return nil, &errUndecodable{name: t.Name.Local, err: err, start: t.Copy()}
			}
			if p != nil {
				return p, nil
			}
		}
	}
}

// nextLean reads the next top-level element itself and decodes it with
// the lean decoder; when that declines, the element's bytes are served
// again to the encoding/xml decoder, which is where next left it: between
// two top-level elements.
func (sr *streamReader) nextLean() (stanza.Message, bool) {
	if sr.noLean {
		return stanza.Message{}, false
	}
	saved := sr.lim.lexer
	raw, ok := sr.lim.readElement(sr.leanBuf, leanMaxBytes)
	sr.leanBuf = raw[:0]
	if !ok {
		return stanza.Message{}, false
	}
	el := raw
	for len(el) > 0 && isLeanSpace(el[0]) {
		el = el[1:]
	}
	// Only messages are worth the copy into a string.
	if len(el) > len("<message") && string(el[:len("<message")]) == "<message" {
		if m, ok := leanMessage(string(el), sr.leanNS); ok {
			return m, true
		}
	}
	sr.lim.unread(raw, saved)
	return stanza.Message{}, false
}

// decode decodes one top-level element; it returns nil, nil for elements it
// skipped on purpose.
func (sr *streamReader) decode(se xml.StartElement) (stanza.Packet, error) {
	switch se.Name.Space {
	case stanza.NSComponent, stanza.NSClient, "":
		switch se.Name.Local {
		case "message":
			var m stanza.Message
			err := sr.dec.DecodeElement(&m, &se)
			return m, err
		case "presence":
			var p stanza.Presence
			err := sr.dec.DecodeElement(&p, &se)
			return p, err
		case "iq":
			iq := new(stanza.IQ)
			err := sr.dec.DecodeElement(iq, &se)
			return iq, err
		case "handshake":
			var h stanza.Handshake
			err := sr.dec.DecodeElement(&h, &se)
			return h, err
		}
	case stanza.NSStream:
		if se.Name.Local == "error" {
			var e stanza.StreamError
			err := sr.dec.DecodeElement(&e, &se)
			return e, err
		}
	}
	return nil, sr.dec.Skip()
}

// streamErrorOf converts gosrc's StreamError packet.
func streamErrorOf(e stanza.StreamError) *StreamError {
	cond := e.Error.Local
	if cond == "" || cond == "text" {
		cond = "undefined-condition"
	}
	return &StreamError{Condition: cond, Text: e.Text}
}
