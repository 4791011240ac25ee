package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Run connects, serves and reconnects with jittered exponential backoff
// until ctx is done. On shutdown it stops handling (as Drain does, without
// waiting: Handlers see ctx cancelled and should return promptly), writes
// what is queued, closes the stream and reads until the server closed its
// side (at most closeWait; what it reads is recorded with an Intake),
// waits for the dispatch workers, fails pending SendIQ calls and later
// Sends with ErrClosed, and returns nil. Stanzas still queued when the
// connection is down are dropped (and counted in a log line). Run may be called only once; a second call returns an error
// wrapping ErrClosed.
func (c *Conn) Run(ctx context.Context) error {
	disp := newDispatcher(c.h, c.log, c.seed, c.cfg.Workers)
	disp.laneBytes, disp.totalBytes = c.cfg.MaxLaneBytes, c.cfg.MaxBacklogBytes
	disp.reject = c.rejectBusy
	disp.refuse = c.refuseStopping
	if c.cfg.Intake != nil {
		disp.rec = newRecorder(c.cfg.Intake, disp)
		disp.handleRecorded = c.cfg.HandleRecorded
	}
	disp.admit = c.admitFunc()
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return fmt.Errorf("%w: Run called twice", ErrClosed)
	}
	c.started = true
	c.lanes = disp
	c.mu.Unlock()

	// The lanes stop handling at Drain or when ctx ends; the recorder
	// records until the last session's reader has ended (below).
	disp.start(c.handlingContext(ctx, disp))
	if disp.rec != nil {
		disp.rec.start(context.WithoutCancel(ctx))
	}
	var num uint64
	attempt := 0
	for ctx.Err() == nil {
		num++
		established, lasted, err := c.runSession(ctx, disp, num)
		if ctx.Err() != nil {
			break
		}
		cond := streamCondition(err)
		// Only a connection that stayed up starts the backoff afresh: one
		// that another instance replaced within seconds must not make
		// the two reconnect in a tight loop.
		if established && lasted >= c.cfg.StableAfter && cond != "conflict" {
			attempt = 0
		}
		delay := backoffDelay(c.cfg.MinBackoff, c.cfg.MaxBackoff, attempt)
		attempt++
		switch {
		case cond == "conflict":
			p := c.conflictProblem(established, err)
			c.setProblem(p)
			c.log.Error(p.Error(), slog.Any("error", err), slog.String("condition", cond),
				slog.Duration("retry_in", delay))
		case cond == "not-authorized" && !established:
			p := c.secretProblem(err)
			c.setProblem(p)
			c.log.Error(p.Error(), slog.Any("error", err), slog.String("condition", cond),
				slog.Duration("retry_in", delay))
		default:
			c.logSessionEnd(established, err, delay)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}

	c.mu.Lock()
	c.ended = true
	queued, inflight := c.q.queued(), c.q.inFlight()
	c.spaceWanted = true
	c.signalSpaceLocked()
	c.mu.Unlock()
	close(c.endCh)
	disp.wait()
	if disp.rec != nil {
		// Every stanza the readers accepted is recorded before Run
		// returns: nothing read is lost with the process.
		disp.rec.stop()
		disp.rec.wait()
	}
	if queued > 0 {
		c.log.Warn("shutdown: dropping stanzas not yet written", slog.Int("count", queued))
	}
	if inflight > 0 {
		c.log.Info("shutdown: stanzas written but not confirmed", slog.Int("count", inflight))
	}
	return nil
}

// runSession dials, authenticates and serves one connection until it fails
// or ctx ends. established reports whether the handshake succeeded, lasted
// how long the connection then stayed up.
func (c *Conn) runSession(ctx context.Context, disp *dispatcher, num uint64) (established bool, lasted time.Duration, err error) {
	nc, sr, err := c.dial(ctx)
	if err != nil {
		return false, 0, err
	}
	start := time.Now()
	c.mu.Lock()
	if errors.Is(c.problem, ErrNotAuthorized) {
		c.problem = nil // the secret is right now
	}
	c.mu.Unlock()
	s := newSession(c, nc, sr, num)
	c.mu.Lock()
	c.session = s
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.session = nil
		c.mu.Unlock()
	}()
	c.setConnected(true)
	s.log.Info("component connected")

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.readLoop(disp)
	}()
	go func() {
		defer wg.Done()
		s.writeLoop(ctx)
	}()
	wg.Wait()

	if ctx.Err() == nil {
		// Written but unconfirmed stanzas go out again on the next
		// connection. (At shutdown they stay apart, for the final log.)
		c.mu.Lock()
		c.q.requeue()
		c.mu.Unlock()
	}
	c.setConnected(false)
	return true, time.Since(start), s.err
}

// logSessionEnd logs why a connection ended or could not be set up. Stream
// errors (wrong secret, conflict, unknown host) need an operator: Error level.
func (c *Conn) logSessionEnd(established bool, err error, retry time.Duration) {
	attrs := []any{slog.Any("error", err), slog.Duration("retry_in", retry)}
	var se *StreamError
	switch {
	case errors.As(err, &se):
		attrs = append(attrs, slog.String("condition", se.Condition))
		switch {
		case !established:
			c.log.Error("component handshake refused by the server", attrs...)
		case transientStreamConditions[se.Condition]:
			c.log.Warn("component connection closed by the server with a stream error", attrs...)
		default:
			c.log.Error("component connection closed by the server with a stream error", attrs...)
		}
	case errors.Is(err, errRestrictedXML):
		c.log.Error("component stream closed with restricted-xml: the server sent a comment, processing instruction or DTD", attrs...)
	case established:
		c.log.Warn("component connection lost", attrs...)
	default:
		c.log.Warn("component connection failed", attrs...)
	}
}

// transientStreamConditions end an established connection for reasons that
// need no operator (a server restart); others (conflict, not-authorized,
// policy-violation, ...) are logged at Error level.
var transientStreamConditions = map[string]bool{
	"system-shutdown":    true,
	"reset":              true,
	"connection-timeout": true,
}

// backoffDelay is min·2^attempt capped at max, with equal jitter: a uniform
// pick in [d/2, d].
func backoffDelay(minD, maxD time.Duration, attempt int) time.Duration {
	d := minD
	for i := 0; i < attempt && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	half := d / 2
	return half + rand.N(d-half+1)
}
