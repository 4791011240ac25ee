package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"
)

// session is one authenticated connection: a read loop and a writer
// goroutine around a net.Conn. The first failure (read, write, ping timeout,
// shutdown) ends both.
type session struct {
	c    *Conn
	nc   net.Conn
	sr   *streamReader
	log  *slog.Logger
	num  uint64
	done chan struct{} // closed by fail
	once sync.Once
	err  error // set by fail before done is closed

	readerDone chan struct{}

	// Ping state, guarded by c.mu. At most one ping is outstanding.
	pingOut  bool      // a ping waits for its reply
	pingID   string    // its id
	pingSeq  uint64    // the last stanza written before it
	pingSent time.Time // when it was written
	lastPing time.Time // when the last ping was written (or the session began)
	pings    uint64    // pings sent in this session, for ids
}

func newSession(c *Conn, nc net.Conn, sr *streamReader, num uint64) *session {
	return &session{
		c:          c,
		nc:         nc,
		sr:         sr,
		log:        c.log.With(slog.Uint64("session", num)),
		num:        num,
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		lastPing:   time.Now(),
	}
}

// fail ends the session with err (only the first call counts) and closes
// the socket, which unblocks the reader and the writer.
//
// Unless the session ends with a clean shutdown (errShutdown, after
// </stream:stream>), the socket is reset (SO_LINGER 0) rather than closed:
// the stanzas still in its send buffer are re-sent on the next connection,
// so they must not reach the server later as well. A server that stopped
// reading (a write timed out) would otherwise get the whole send buffer,
// which the kernel grows to megabytes, once it reads again, and route
// every stanza in it twice.
func (s *session) fail(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		if tc, ok := s.nc.(*net.TCPConn); ok && err != errShutdown {
			_ = tc.SetLinger(0)
		}
		_ = s.nc.Close()
	})
}

// readLoop reads stanzas until the connection fails. IQ replies to pending
// SendIQ calls and pings are consumed here (never blocking); everything else
// goes to the dispatcher, through the recorder if there is an Intake (which
// holds the loop while maxRecordBacklog stanzas wait to be recorded).
func (s *session) readLoop(disp *dispatcher) {
	accept := disp.dispatch
	if disp.rec != nil {
		// Admitted first (what is refused is not worth a write), then
		// recorded (intake.go), in the order read. Once the lanes stop,
		// nothing is admitted: the hub may be stopping, and a refusal
		// read after our </stream:stream> could not be written; the
		// next process admits what was recorded.
		accept = func(p stanza.Packet, size int64) {
			if disp.admit != nil && !disp.stopped() && !disp.admit(p) {
				return
			}
			disp.rec.accept(p, size)
		}
	}
	defer close(s.readerDone)
	c := s.c
	for {
		start := s.sr.lim.total
		p, err := s.sr.next()
		size := s.sr.lim.total - start // on the wire, for the lanes' byte budget
		c.bytesIn.Add(uint64(size))
		if err != nil {
			var skipped *errUndecodable
			if errors.As(err, &skipped) {
				c.stanzasIn.Add(1)
				s.log.Warn("dropping inbound stanza", slog.Any("error", err))
				if u, ok := skipped.undecodable(s.sr.lim.max); ok {
					// The stanza itself was not kept: count what is.
					accept(u, int64(len(u.Attrs.From)+len(u.Attrs.To)+len(u.Attrs.Id))+64) // the Handler tells the sender (malformed.go)
				}
				continue
			}
			if errors.Is(err, errRestrictedXML) {
				s.sendStreamError("restricted-xml")
			}
			s.fail(fmt.Errorf("stream: read: %w", err))
			return
		}
		switch v := p.(type) {
		case stanza.StreamError:
			s.fail(streamErrorOf(v))
			return
		case stanza.StreamClosePacket:
			s.fail(errStreamClosed)
			return
		case stanza.Handshake:
			continue // stray; nothing to do
		case *stanza.IQ:
			if v.Type == stanza.IQTypeResult || v.Type == stanza.IQTypeError {
				if s.ackPing(v) {
					continue
				}
				c.stanzasIn.Add(1)
				if !c.iqs.deliver(v) {
					accept(v, size)
				}
				continue
			}
		}
		c.stanzasIn.Add(1)
		accept(p, size)
	}
}

// sendStreamError tells the server why the component ends the stream
// (RFC 6120 §4.9) before the session fails. The write is one call, so it
// never interleaves with the writer's batches.
func (s *session) sendStreamError(condition string) {
	_ = s.nc.SetWriteDeadline(time.Now().Add(min(s.c.cfg.WriteTimeout, closeGrace)))
	_, _ = s.nc.Write([]byte("<stream:error><" + condition + " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"))
}

// ackPing consumes the reply (result or error: either proves the server has
// processed everything written before the ping) to the outstanding ping and
// drops the in-flight stanzas it confirms.
func (s *session) ackPing(iq *stanza.IQ) bool {
	c := s.c
	c.mu.Lock()
	ok := s.pingOut && iq.Id == s.pingID && (iq.From == "" || strings.EqualFold(iq.From, c.cfg.PingTo))
	var confirmed []func()
	if ok {
		s.pingOut = false
		confirmed = c.q.ack(s.pingSeq, nil)
	}
	c.mu.Unlock()
	for _, done := range confirmed {
		done()
	}
	if ok {
		if iq.Type == stanza.IQTypeError && iq.Error != nil {
			s.log.Debug("ping answered with an error", slog.String("condition", iq.Error.Reason))
		}
		c.wakeWriter()
	}
	return ok
}
