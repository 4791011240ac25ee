package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

const (
	// ackMinInterval is the gap between acknowledgement pings while a
	// sustained burst keeps the queue non-empty. Once the queue drains, the
	// ping goes out Config.AckDelay after the previous one, so that the
	// at-least-once window (and with it the chance of a duplicate after a
	// reconnect) stays about AckDelay plus one round trip long.
	ackMinInterval = 100 * time.Millisecond
	// writeBatchItems and writeBatchBytes bound one socket write.
	writeBatchItems = 256
	writeBatchBytes = 64 << 10
	// closeGrace bounds the write of our </stream:stream> (or stream
	// error) at shutdown.
	closeGrace = time.Second
	// closeWait bounds how long shutdown waits for the server to close its
	// side of the stream after our </stream:stream>, reading (and
	// recording) what it sent before.
	closeWait = 5 * time.Second
)

var errShutdown = errors.New("stream: shutting down")

// writeLoop is the only goroutine that writes to the socket while the
// session is live. It writes queued stanzas in batches, moving them to the
// in-flight list, and interleaves XEP-0199 pings to PingTo (at most one
// outstanding): one after a burst of writes, AckDelay after the previous
// ping, so that its reply confirms the in-flight stanzas, and one every
// PingInterval as a keepalive. A ping not
// answered within 2×PingInterval, a failed write, or a write that exceeds
// WriteTimeout ends the session. When ctx ends it closes the stream.
func (s *session) writeLoop(ctx context.Context) {
	c := s.c
	buf := make([]byte, 0, writeBatchBytes)
	pingTimeout := 2 * c.cfg.PingInterval
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-s.done:
			return
		default:
		}
		if ctx.Err() != nil {
			s.closeStream()
			return
		}
		now := time.Now()
		c.mu.Lock()
		if s.pingOut && now.Sub(s.pingSent) >= pingTimeout {
			id := s.pingID
			c.mu.Unlock()
			s.fail(fmt.Errorf("stream: no reply to ping %s from %s within %v", id, c.cfg.PingTo, pingTimeout))
			return
		}
		var ping []byte
		if !s.pingOut && s.pingDueLocked(now) {
			ping = s.startPingLocked(now)
		}
		n := 0
		if ping == nil && c.q.inFlight() < c.cfg.QueueSize {
			buf, n = c.q.take(buf[:0], writeBatchItems, writeBatchBytes)
			if n > 0 {
				c.signalSpaceLocked()
			}
		}
		wait := s.nextWakeLocked(now, pingTimeout)
		c.mu.Unlock()

		switch {
		case ping != nil:
			if err := s.write(ping); err != nil {
				s.fail(fmt.Errorf("stream: write ping: %w", err))
				return
			}
			c.pingsOut.Add(1)
			continue
		case n > 0:
			if err := s.write(buf); err != nil {
				s.fail(fmt.Errorf("stream: write: %w", err))
				return
			}
			c.stanzasOut.Add(uint64(n))
			continue
		}
		timer.Reset(wait)
		select {
		case <-c.wake:
		case <-timer.C:
		case <-s.done:
			return
		case <-ctx.Done():
		}
	}
}

// pingDueLocked reports whether a ping should be written now (none being
// outstanding): an acknowledgement ping once a burst of writes has drained
// the queue and AckDelay has passed since the previous ping (or every
// ackMinInterval during a sustained burst), and a keepalive ping every
// PingInterval. c.mu must be held.
func (s *session) pingDueLocked(now time.Time) bool {
	q := &s.c.q
	since := now.Sub(s.lastPing)
	if q.inFlight() > 0 && (q.queued() == 0 && since >= s.c.cfg.AckDelay || since >= ackMinInterval) {
		return true
	}
	return now.Sub(s.lastPing) >= s.c.cfg.PingInterval
}

// startPingLocked records a new outstanding ping covering everything taken
// from the queue so far and returns its serialization. c.mu must be held.
func (s *session) startPingLocked(now time.Time) []byte {
	c := s.c
	s.pings++
	s.pingID = c.idBase + "p" + strconv.FormatUint(s.num, 36) + "." + strconv.FormatUint(s.pings, 36)
	s.pingSeq = c.q.lastSeq()
	s.pingSent, s.lastPing = now, now
	s.pingOut = true
	from := c.cfg.Domain
	if c.cfg.PingResource != "" {
		from += "/" + c.cfg.PingResource
	}
	return []byte("<iq type='get' id='" + s.pingID + "' from='" + escapeConnAttr(from) +
		"' to='" + escapeConnAttr(c.cfg.PingTo) + "'><ping xmlns='urn:xmpp:ping'/></iq>")
}

// nextWakeLocked is how long the writer may sleep when it has nothing to
// write. c.mu must be held.
func (s *session) nextWakeLocked(now time.Time, pingTimeout time.Duration) time.Duration {
	var at time.Time
	switch {
	case s.pingOut:
		at = s.pingSent.Add(pingTimeout)
	case s.c.q.inFlight() > 0 && s.c.q.queued() == 0:
		at = s.lastPing.Add(s.c.cfg.AckDelay)
	case s.c.q.inFlight() > 0:
		at = s.lastPing.Add(ackMinInterval)
	default:
		at = s.lastPing.Add(s.c.cfg.PingInterval)
	}
	return max(at.Sub(now), time.Millisecond)
}

// write writes b within WriteTimeout.
func (s *session) write(b []byte) error {
	if err := s.nc.SetWriteDeadline(time.Now().Add(s.c.cfg.WriteTimeout)); err != nil {
		return err
	}
	n, err := s.nc.Write(b)
	s.c.bytesOut.Add(uint64(n))
	return err
}

// closeStream writes what is still queued (answers to stanzas read, the
// last words of a stopping gateway), sends </stream:stream>, and waits
// for the server to close its side (at most closeWait): the server then
// has read everything we wrote, and the reader everything the server
// wrote before its </stream:stream> — stanzas routed to us until it saw
// ours; later ones it bounces to their senders. Then it ends the session.
func (s *session) closeStream() {
	if err := s.flushQueue(); err != nil {
		s.fail(fmt.Errorf("stream: write at shutdown: %w", err))
		return
	}
	_ = s.nc.SetWriteDeadline(time.Now().Add(min(s.c.cfg.WriteTimeout, closeGrace)))
	if _, err := s.nc.Write([]byte("</stream:stream>")); err == nil {
		t := time.NewTimer(closeWait)
		select {
		case <-s.readerDone:
		case <-s.done:
		case <-t.C:
		}
		t.Stop()
	}
	s.fail(errShutdown)
}

// flushQueue writes the stanzas queued when it is called, in batches,
// each write within WriteTimeout. They stay in flight (unconfirmed) as
// usual.
func (s *session) flushQueue() error {
	c := s.c
	buf := make([]byte, 0, writeBatchBytes)
	c.mu.Lock()
	left := c.q.queued()
	c.mu.Unlock()
	for left > 0 {
		c.mu.Lock()
		var n int
		buf, n = c.q.take(buf[:0], min(left, writeBatchItems), writeBatchBytes)
		if n > 0 {
			c.signalSpaceLocked()
		}
		c.mu.Unlock()
		if n == 0 {
			return nil
		}
		if err := s.write(buf); err != nil {
			return err
		}
		c.stanzasOut.Add(uint64(n))
		left -= n
	}
	return nil
}
