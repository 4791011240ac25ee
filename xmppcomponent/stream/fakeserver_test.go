package stream

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// connTestServer is a fake XMPP server speaking the XEP-0114 component
// protocol on 127.0.0.1, with knobs to misbehave.
type connTestServer struct {
	t      testing.TB
	ln     net.Listener
	domain string
	secret string
	wg     sync.WaitGroup

	mu        sync.Mutex
	reject    string        // stream error condition sent after a valid handshake
	holdPings bool          // leave pings unanswered
	stall     bool          // stop reading after the handshake
	countOnly bool          // count stanzas instead of keeping them
	rawScan   bool          // don't parse: scan the bytes for message bodies (fast even with -race)
	gate      chan struct{} // if set, <handshake/> waits until it is closed
	beforeEnd string        // raw XML sent just before answering the component's </stream:stream>
	attempts  int           // stream headers received
	sessions  []*connTestSession
	closed    bool
	done      chan struct{}
}

// connTestSession is one authenticated connection on the fake server.
type connTestSession struct {
	srv *connTestServer
	nc  net.Conn
	num int

	wmu sync.Mutex

	mu           sync.Mutex
	got          []stanza.Packet
	count        int
	pings        []*stanza.IQ
	closedStream bool
}

func newConnTestServer(t testing.TB, domain, secret string) *connTestServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &connTestServer{t: t, ln: ln, domain: domain, secret: secret, done: make(chan struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.close)
	return s
}

func (s *connTestServer) addr() string { return s.ln.Addr().String() }

func (s *connTestServer) set(f func(s *connTestServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *connTestServer) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	sessions := append([]*connTestSession(nil), s.sessions...)
	s.mu.Unlock()
	_ = s.ln.Close()
	for _, ss := range sessions {
		_ = ss.nc.Close()
	}
	s.wg.Wait()
}

func (s *connTestServer) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer nc.Close()
			s.serve(nc)
		}()
	}
}

func (s *connTestServer) numAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// session waits for the n-th (1-based) authenticated session.
func (s *connTestServer) session(n int) *connTestSession {
	s.t.Helper()
	var ss *connTestSession
	testutil.WaitFor(s.t, fmt.Sprintf("server session %d", n), func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.sessions) >= n {
			ss = s.sessions[n-1]
			return true
		}
		return false
	})
	return ss
}

func (s *connTestServer) serve(nc net.Conn) {
	// Close the socket when the server shuts down, even mid-handshake.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-s.done:
			_ = nc.Close()
		case <-stop:
		}
	}()

	br := bufio.NewReader(nc)
	dec := xml.NewDecoder(br) // reads br directly: br can take over later
	to, err := readComponentHeader(dec)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.attempts++
	id := fmt.Sprintf("stream-%d", s.attempts)
	s.mu.Unlock()
	fmt.Fprintf(nc, "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' id='%s' from='%s'>", id, to)
	if to != s.domain {
		// As Prosody does: a stream error right after the header.
		streamErrorTo(nc, "host-unknown", to+" does not match any configured external components")
		return
	}
	p, err := stanza.NextPacket(dec)
	if err != nil {
		return
	}
	h, ok := p.(stanza.Handshake)
	sum := sha1.Sum([]byte(id + s.secret))
	if !ok || !strings.EqualFold(strings.TrimSpace(h.Value), hex.EncodeToString(sum[:])) {
		streamErrorTo(nc, "not-authorized", "Given token does not match calculated token")
		return
	}
	s.mu.Lock()
	reject, gate, stall, rawScan := s.reject, s.gate, s.stall, s.rawScan
	s.mu.Unlock()
	if reject != "" {
		streamErrorTo(nc, reject, "")
		return
	}
	if gate != nil {
		select {
		case <-gate:
		case <-s.done:
			return
		}
	}
	ss := &connTestSession{srv: s, nc: nc}
	s.mu.Lock()
	ss.num = len(s.sessions) + 1
	s.sessions = append(s.sessions, ss)
	s.mu.Unlock()
	if err := ss.send("<handshake/>"); err != nil {
		return
	}
	switch {
	case stall:
		<-s.done
	case rawScan:
		ss.scanLoop(br)
	default:
		ss.readLoop(dec)
	}
}

func readComponentHeader(dec *xml.Decoder) (to string, err error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Space != stanza.NSStream || se.Name.Local != "stream" {
			return "", fmt.Errorf("not a stream header: %v", se.Name)
		}
		var ns string
		for _, a := range se.Attr {
			switch {
			case a.Name.Local == "to":
				to = a.Value
			case a.Name.Space == "" && a.Name.Local == "xmlns":
				ns = a.Value
			}
		}
		if ns != stanza.NSComponent {
			return "", fmt.Errorf("stream namespace %q", ns)
		}
		return to, nil
	}
}

func streamErrorTo(nc net.Conn, cond, text string) {
	var t string
	if text != "" {
		t = "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + text + "</text>"
	}
	fmt.Fprintf(nc, "<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>%s</stream:error></stream:stream>", cond, t)
}

func (ss *connTestSession) readLoop(dec *xml.Decoder) {
	for {
		p, err := stanza.NextPacket(dec)
		if err != nil {
			return
		}
		if _, ok := p.(stanza.StreamClosePacket); ok {
			ss.mu.Lock()
			ss.closedStream = true
			ss.mu.Unlock()
			ss.srv.mu.Lock()
			last := ss.srv.beforeEnd
			ss.srv.mu.Unlock()
			_ = ss.send(last + "</stream:stream>")
			return
		}
		if iq, ok := p.(*stanza.IQ); ok && iq.Type == stanza.IQTypeGet && isPingIQ(iq) {
			ss.mu.Lock()
			ss.pings = append(ss.pings, iq)
			ss.mu.Unlock()
			ss.srv.mu.Lock()
			hold := ss.srv.holdPings
			ss.srv.mu.Unlock()
			if !hold {
				_ = ss.send(fmt.Sprintf("<iq type='result' id='%s' from='%s' to='%s'/>", iq.Id, iq.To, iq.From))
			}
			continue
		}
		ss.mu.Lock()
		ss.count++
		ss.srv.mu.Lock()
		countOnly := ss.srv.countOnly
		ss.srv.mu.Unlock()
		if !countOnly {
			ss.got = append(ss.got, p)
		}
		ss.mu.Unlock()
	}
}

// scanLoop records "<body>N:" prefixes as messages with body N, without
// parsing XML. Pings are not answered.
func (ss *connTestSession) scanLoop(br *bufio.Reader) {
	for {
		_, err := br.ReadSlice('<')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
		if peek, _ := br.Peek(5); string(peek) != "body>" {
			continue
		}
		_, _ = br.Discard(5)
		idx, err := br.ReadString(':')
		if err != nil {
			return
		}
		ss.mu.Lock()
		ss.count++
		ss.got = append(ss.got, stanza.Message{Body: strings.TrimSuffix(idx, ":")})
		ss.mu.Unlock()
	}
}

// isPingIQ reports whether iq carries an XEP-0199 ping, whether or not a
// payload type is registered for it.
func isPingIQ(iq *stanza.IQ) bool {
	const ns = "urn:xmpp:ping"
	return (iq.Any != nil && iq.Any.XMLName.Space == ns) || (iq.Payload != nil && iq.Payload.Namespace() == ns)
}

// send writes raw XML to the component.
func (ss *connTestSession) send(raw string) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	_ = ss.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := ss.nc.Write([]byte(raw))
	return err
}

// drop closes the TCP connection without a stream close.
func (ss *connTestSession) drop() { _ = ss.nc.Close() }

func (ss *connTestSession) received() []stanza.Packet {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]stanza.Packet(nil), ss.got...)
}

func (ss *connTestSession) numReceived() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.count
}

func (ss *connTestSession) numPings() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.pings)
}

func (ss *connTestSession) gotStreamClose() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.closedStream
}

// bodies returns the bodies of the messages received.
func (ss *connTestSession) bodies() []string {
	var out []string
	for _, p := range ss.received() {
		if m, ok := p.(stanza.Message); ok {
			out = append(out, m.Body)
		}
	}
	return out
}

// connLogSink records log records for assertions and echoes them to t.Log.
type connLogSink struct {
	t       testing.TB
	mu      sync.Mutex
	records []connLogRecord
}

type connLogRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newConnLogger(t testing.TB) (*slog.Logger, *connLogSink) {
	s := &connLogSink{t: t}
	return slog.New(&connLogHandler{sink: s}), s
}

// has reports whether a record at level or above has msg containing
// msgPart and, for each key, an attribute containing the value.
func (s *connLogSink) has(level slog.Level, msgPart string, attrs map[string]string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
next:
	for _, r := range s.records {
		if r.level < level || !strings.Contains(r.msg, msgPart) {
			continue
		}
		for k, v := range attrs {
			if !strings.Contains(r.attrs[k], v) {
				continue next
			}
		}
		return true
	}
	return false
}

type connLogHandler struct {
	sink  *connLogSink
	attrs []slog.Attr
}

func (h *connLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *connLogHandler) Handle(_ context.Context, r slog.Record) error {
	rec := connLogRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.sink.mu.Lock()
	h.sink.records = append(h.sink.records, rec)
	h.sink.mu.Unlock()
	if testing.Verbose() {
		h.sink.t.Logf("%s %s %v", r.Level, r.Message, rec.attrs)
	}
	return nil
}

func (h *connLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &connLogHandler{sink: h.sink, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *connLogHandler) WithGroup(string) slog.Handler { return h }

// startConn runs c until the test ends (or stop is called) and returns stop,
// which cancels Run and returns its error.
func startConn(t testing.TB, c *Conn) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = fmt.Errorf("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return stop
}

func waitConn(t testing.TB, c *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
}

func testMessage(from, to, body string) stanza.Message {
	m := stanza.NewMessage(stanza.Attrs{Type: stanza.MessageTypeChat, From: from, To: to})
	m.Body = body
	return m
}
