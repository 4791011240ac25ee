package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

var (
	_ gateway.Session         = (*Session)(nil)
	_ gateway.ReceiptSender   = (*Session)(nil)
	_ gateway.ChatStateSender = (*Session)(nil)
	_ gateway.ContactLister   = (*Session)(nil)
	_ gateway.UserResolver    = (*Session)(nil)
	_ gateway.Editor          = (*Session)(nil)
	_ gateway.Retracter       = (*Session)(nil)
	_ gateway.Reactor         = (*Session)(nil)
	_ gateway.AvatarGetter    = (*Session)(nil)
)

type sessionPhase int

const (
	phaseIdle sessionPhase = iota
	phaseConnecting
	phaseConnected
	phaseLoggedOut
	// phaseSuperseded: a newer Session of the account replaced this one.
	phaseSuperseded
)

// Session is one linked device of an account. It implements
// gateway.Session and the optional ReceiptSender, ChatStateSender,
// ContactLister, UserResolver, Editor, Retracter, Reactor and
// AvatarGetter.
//
// While connected, the account's events are emitted through Host.Emit in
// the order the platform produced them, by one goroutine that runs while
// there are events to emit (an idle connected session holds none). It
// must not be stopped from inside Host.Emit (Disconnect and Logout wait
// for it).
type Session struct {
	a    *Adapter
	host gateway.Host
	p    *Platform
	acct ids.AccountID
	dev  *device

	mu     sync.Mutex
	phase  sessionPhase
	cancel context.CancelFunc
	// em emits the events of the current connection (nil before the
	// first).
	em *emitter
	// stopped is closed when the last connection attempt has fully ended.
	stopped chan struct{}
}

func newSession(a *Adapter, host gateway.Host, d *device) *Session {
	return &Session{a: a, host: host, p: a.p, acct: d.account, dev: d}
}

// Account returns the account the session belongs to.
func (s *Session) Account() ids.AccountID { return s.acct }

// Connect implements gateway.Session. It reports event.StateConnecting,
// then event.StateConnected, and returns; then the session emits a
// ContactInfo for each contact, a Presence for each contact, and
// everything the platform kept while the device was offline, in order.
// The connection lasts until Disconnect, Logout or Adapter.Stop, not
// until ctx is done (ctx's values are kept). A device that the phone
// unlinked reports event.StateLoggedOut and forgets its token.
func (s *Session) Connect(ctx context.Context) {
	s.mu.Lock()
	switch s.phase {
	case phaseConnecting, phaseConnected:
		s.mu.Unlock()
		return
	case phaseLoggedOut:
		s.mu.Unlock()
		s.host.SetState(ctx, s.acct, event.StateLoggedOut, "this device is logged out; link the account again")
		return
	case phaseSuperseded:
		s.mu.Unlock()
		s.a.logger().Warn("sandbox: Connect on a superseded session ignored", "account", s.acct)
		return
	}
	prev := s.stopped
	stopped := make(chan struct{})
	s.phase, s.stopped = phaseConnecting, stopped
	s.mu.Unlock()
	if prev != nil {
		<-prev
	}

	s.host.SetState(ctx, s.acct, event.StateConnecting, "")
	if err := s.p.attach(s.dev); err != nil {
		close(stopped)
		if s.transition(stopped, phaseConnecting, phaseLoggedOut) {
			s.loggedOutRemotely(ctx)
		}
		return
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	if s.stopped != stopped || s.phase != phaseConnecting {
		// Disconnected or logged out meanwhile.
		s.mu.Unlock()
		cancel()
		s.p.detach(s.dev)
		close(stopped)
		return
	}
	em := &emitter{}
	em.run = func() { s.emit(runCtx, cancel, em, stopped) }
	s.phase, s.cancel, s.em = phaseConnected, cancel, em
	s.mu.Unlock()
	s.host.SetState(ctx, s.acct, event.StateConnected, "")
	s.a.logger().Debug("sandbox: session connected", "account", s.acct)
	s.p.startEmitting(s.dev, em)
}

// transition moves the session from phase from to phase to if the
// connection attempt stopped is still the current one.
func (s *Session) transition(stopped chan struct{}, from, to sessionPhase) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped != stopped || s.phase != from {
		return false
	}
	s.phase, s.cancel = to, nil
	return true
}

// emit is the goroutine of em: it emits the device's events until the
// queue is empty (the next event starts it again), ctx is done or the
// device is unlinked, which ends the connection.
func (s *Session) emit(ctx context.Context, cancel context.CancelFunc, em *emitter, stopped chan struct{}) {
	backoff := minRedelivery
	for {
		q, err := s.p.next(ctx, s.dev, em)
		if errors.Is(err, errIdle) {
			return
		}
		if errors.Is(err, errRevoked) {
			if s.transition(stopped, phaseConnected, phaseLoggedOut) {
				s.loggedOutRemotely(ctx)
			}
			s.end(cancel, em, stopped, true)
			return
		}
		if err != nil {
			s.p.exited(em)
			return
		}
		if err := s.host.Emit(ctx, q.ev); err != nil {
			if ctx.Err() != nil {
				s.p.requeue(s.dev, q)
				s.p.exited(em)
				return
			}
			if errors.Is(err, gateway.ErrNotDurable) {
				// As a real platform does with what a device did not
				// acknowledge: offer it again, later.
				s.p.requeue(s.dev, q)
				s.a.logger().Warn("sandbox: the hub could not take an event over; redelivering",
					"account", s.acct, "event", fmt.Sprintf("%T", q.ev), "in", backoff, "err", err)
				if !waitCtx(ctx, backoff) {
					s.p.exited(em)
					return
				}
				backoff = min(2*backoff, maxRedelivery)
				continue
			}
			s.a.logger().Warn("sandbox: the hub refused an event; dropped",
				"account", s.acct, "event", fmt.Sprintf("%T", q.ev), "id", q.ev.EventMeta().ID, "err", err)
			continue
		}
		backoff = minRedelivery
		if q.onEmitted != nil {
			q.onEmitted()
		}
	}
}

// end ends the connection whose emitter is em, once: em stops, and when
// its goroutine is over (exiting: the caller is that goroutine), the
// device goes offline and stopped is closed.
func (s *Session) end(cancel context.CancelFunc, em *emitter, stopped chan struct{}, exiting bool) {
	cancel()
	idle, first := s.p.stopEmitting(s.dev, em, exiting)
	if !first {
		return
	}
	<-idle
	s.p.detach(s.dev)
	close(stopped)
}

// The delay before an event the hub could not journal is offered again
// doubles from minRedelivery up to maxRedelivery.
const (
	minRedelivery = 50 * time.Millisecond
	maxRedelivery = 2 * time.Second
)

// waitCtx waits for d; it reports false if ctx ended first.
func waitCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// loggedOutRemotely handles the phone having unlinked this device.
func (s *Session) loggedOutRemotely(ctx context.Context) {
	if err := s.forgetToken(ctx); err != nil {
		s.a.logger().Warn("sandbox: could not forget the device token", "account", s.acct, "err", err)
	}
	s.a.forgetSession(s)
	s.host.SetState(ctx, s.acct, event.StateLoggedOut, "the phone unlinked this device; link the account again")
}

// forgetToken deletes the device token from the KV if it is still this
// device's (a newer link may have replaced it).
func (s *Session) forgetToken(ctx context.Context) error {
	kv := s.host.KV(s.acct)
	tok, err := kv.Get(ctx, kvDeviceToken)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if string(tok) != s.dev.token {
		return nil
	}
	return kv.Delete(ctx, kvDeviceToken)
}

// halt stops the connection, if any, and waits until it has ended; the
// session is then in phase next (logged-out and superseded are final).
// It reports whether the session was connecting or connected.
func (s *Session) halt(next sessionPhase) bool {
	s.mu.Lock()
	was := s.phase == phaseConnecting || s.phase == phaseConnected
	if s.phase != phaseLoggedOut && s.phase != phaseSuperseded {
		s.phase = next
	}
	cancel, em, stopped := s.cancel, s.em, s.stopped
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		// Connected: the connection ends here, or in its emitter's
		// goroutine if that is ending it already (the device was
		// unlinked).
		s.end(cancel, em, stopped, false)
	}
	if stopped != nil {
		<-stopped
	}
	return was
}

// Disconnect implements gateway.Session: it stops emitting (events that
// must not be lost wait on the platform for the next Connect) and reports
// event.StateDisconnected. It returns once no more events are emitted.
func (s *Session) Disconnect() {
	if s.halt(phaseIdle) {
		s.host.SetState(context.Background(), s.acct, event.StateDisconnected, "")
		s.a.logger().Debug("sandbox: session disconnected", "account", s.acct)
	}
}

// supersede stops the session for good, without reporting a state: a
// newer Session of the account took over.
func (s *Session) supersede() {
	s.halt(phaseSuperseded)
}

// Logout implements gateway.Session: it disconnects without reporting a
// state, unlinks the device on the platform and deletes the device token
// from the KV. Calling it again, or on a superseded session, does nothing.
func (s *Session) Logout(ctx context.Context) error {
	s.mu.Lock()
	superseded := s.phase == phaseSuperseded
	s.mu.Unlock()
	if superseded {
		return nil
	}
	s.halt(phaseLoggedOut)
	s.p.removeDevice(s.dev)
	s.a.forgetSession(s)
	if err := s.forgetToken(ctx); err != nil {
		return fmt.Errorf("sandbox: forgetting the device token of %s: %w", s.acct, err)
	}
	return nil
}

// Capabilities implements gateway.Session: bodies up to MaxBodyLength
// bytes; receipts, read markers and chat states in one-to-one chats only
// (the sandbox has none in groups: SendReceipt and SendChatState take a
// contact); edits within edit_window and retractions within
// retract_window (counted from when the platform took the message);
// MaxReactionsPerUser (one) reaction per user on a message, any emoji;
// replies; files up to max_file_size bytes of the types MediaTypes lists.
func (s *Session) Capabilities(chat ids.ChatID) gateway.Capabilities {
	caps := s.p.Capabilities()
	if IsGroupID(chat) {
		caps.Receipts, caps.ReadMarkers, caps.ChatStates = false, false, false
	}
	return caps
}
