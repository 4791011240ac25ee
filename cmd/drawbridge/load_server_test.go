package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// loadServer plays the XMPP server's side of XEP-0114 for the load test:
// it accepts one component connection, checks the handshake, answers the
// component's pings and server queries, and hands every other stanza to
// onStanza (from the read goroutine).
type loadServer struct {
	ln       net.Listener
	domain   string
	secret   string
	onStanza func(s loadStanza)
	// holdPings leaves the component's pings unanswered, so that nothing
	// it writes is confirmed (the fault tests).
	holdPings atomic.Bool

	mu sync.Mutex
	w  *bufio.Writer
	nc net.Conn

	ready chan struct{} // closed once the handshake succeeded
	done  chan error    // the read loop's end
}

// loadStanza is what the load test needs of an inbound stanza.
type loadStanza struct {
	XMLName xml.Name
	Type    string    `xml:"type,attr"`
	ID      string    `xml:"id,attr"`
	From    string    `xml:"from,attr"`
	To      string    `xml:"to,attr"`
	Body    string    `xml:"body"`
	Ping    *struct{} `xml:"urn:xmpp:ping ping"`
	Command *struct {
		SessionID string `xml:"sessionid,attr"`
		Status    string `xml:"status,attr"`
	} `xml:"http://jabber.org/protocol/commands command"`
}

func startLoadServer(tb testing.TB, domain, secret string, onStanza func(loadStanza)) *loadServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &loadServer{ln: ln, domain: domain, secret: secret, onStanza: onStanza, ready: make(chan struct{}), done: make(chan error, 1)}
	go func() { s.done <- s.serve() }()
	tb.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		if s.nc != nil {
			_ = s.nc.Close()
		}
		s.mu.Unlock()
	})
	return s
}

func (s *loadServer) addr() string { return s.ln.Addr().String() }

// serve accepts the component and reads its stream until it ends.
func (s *loadServer) serve() error {
	nc, err := s.ln.Accept()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.nc, s.w = nc, bufio.NewWriterSize(nc, 64<<10)
	s.mu.Unlock()
	dec := xml.NewDecoder(bufio.NewReaderSize(nc, 64<<10))
	const streamID = "load-stream-1"
	for { // the component's stream header
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("reading the component's header: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "stream" {
			break
		}
	}
	if err := s.write(`<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='` + s.domain + `' id='` + streamID + `'>`); err != nil {
		return err
	}
	sum := sha1.Sum([]byte(streamID + s.secret))
	want := hex.EncodeToString(sum[:])
	handshook := false
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local == "handshake" {
			var h string
			if err := dec.DecodeElement(&h, &se); err != nil {
				return err
			}
			if strings.TrimSpace(h) != want {
				_ = s.write(`<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`)
				return fmt.Errorf("bad handshake %q", h)
			}
			if err := s.write(`<handshake/>`); err != nil {
				return err
			}
			if !handshook {
				handshook = true
				close(s.ready)
			}
			continue
		}
		var st loadStanza
		if err := dec.DecodeElement(&st, &se); err != nil {
			return fmt.Errorf("decoding <%s>: %w", se.Name.Local, err)
		}
		s.answerServerIQ(st)
		if s.onStanza != nil && st.To != "" && strings.Contains(st.To, "@") {
			s.onStanza(st)
		}
	}
}

// answerServerIQ answers what the component asks the server itself:
// pings with a result, anything else (disco, uploads) with an error.
func (s *loadServer) answerServerIQ(st loadStanza) {
	if st.XMLName.Local != "iq" || strings.Contains(st.To, "@") || (st.Type != "get" && st.Type != "set") {
		return
	}
	if st.Ping != nil {
		if s.holdPings.Load() {
			return
		}
		_ = s.write(`<iq type='result' id='` + xmlAttr(st.ID) + `' from='` + xmlAttr(st.To) + `' to='` + xmlAttr(st.From) + `'/>`)
		return
	}
	_ = s.write(`<iq type='error' id='` + xmlAttr(st.ID) + `' from='` + xmlAttr(st.To) + `' to='` + xmlAttr(st.From) + `'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`)
}

// write sends raw XML to the component and flushes it.
func (s *loadServer) write(raw string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.WriteString(raw); err != nil {
		return err
	}
	return s.w.Flush()
}

// xmlAttr escapes s for a single-quoted attribute.
func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}
