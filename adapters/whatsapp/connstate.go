package whatsapp

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// How the session reacts to WhatsApp's connection troubles beyond a plain
// disconnection: lost keep-alives, bans, refusals and logouts that say
// why.

// Ban and refusal backoff: a ban without an announced end, and a refusal
// that may heal, are retried after banBackoffMin, doubling up to
// banBackoffMax while they repeat; a connection resets it.
const (
	banBackoffMin     = time.Hour
	banBackoffMax     = 24 * time.Hour
	refusalBackoffMin = time.Minute
	refusalBackoffMax = time.Hour
)

// connTrouble is what the session remembers of connection troubles.
type connTrouble struct {
	keepAliveLost time.Time     // when keep-alives started failing; zero: they work
	banWait       time.Duration // the last wait after a ban without end
	refusalWait   time.Duration // the last wait after a refusal
	retryAt       time.Time     // when the session reconnects by itself; zero: not scheduled
}

// onKeepAliveTimeout reports a connection whose keep-alive pings go
// unanswered as connecting: messages may not flow until it recovers.
func (s *Session) onKeepAliveTimeout(ctx context.Context, e *events.KeepAliveTimeout) {
	s.mu.Lock()
	if s.phase != sessConnected {
		s.mu.Unlock()
		return
	}
	first := s.trouble.keepAliveLost.IsZero()
	if first {
		s.trouble.keepAliveLost = e.LastSuccess
		if s.trouble.keepAliveLost.IsZero() {
			s.trouble.keepAliveLost = s.a.now()
		}
	}
	since := s.trouble.keepAliveLost
	s.mu.Unlock()
	s.log.Info("whatsapp: keep-alive timed out", "errors", e.ErrorCount, "last_success", e.LastSuccess)
	if first {
		s.setState(ctx, event.StateConnecting, fmt.Sprintf(
			"WhatsApp has not answered since %s; messages may be delayed until the connection recovers.",
			since.UTC().Format("15:04 MST")))
	}
}

// onKeepAliveRestored reports the connection as working again.
func (s *Session) onKeepAliveRestored(ctx context.Context) {
	s.mu.Lock()
	lost := !s.trouble.keepAliveLost.IsZero()
	s.trouble.keepAliveLost = time.Time{}
	connected := s.phase == sessConnected
	s.mu.Unlock()
	s.log.Info("whatsapp: keep-alive restored")
	if lost && connected {
		s.setState(ctx, event.StateConnected, "The connection to WhatsApp works again.")
	}
}

// resetTrouble forgets troubles once WhatsApp accepted the connection.
func (s *Session) resetTrouble() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trouble = connTrouble{}
}

// retryIn remembers when the session reconnects by itself (d: after
// how long; 0: it does not).
func (s *Session) retryIn(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == 0 {
		s.trouble.retryAt = time.Time{}
		return
	}
	s.trouble.retryAt = s.a.now().Add(d)
}

// onTemporaryBan stops the connection until the ban ends. A ban without
// an announced end is tried again after an hour, then after twice as long
// each time it repeats, up to a day.
func (s *Session) onTemporaryBan(ctx context.Context, e *events.TemporaryBan) {
	detail := fmt.Sprintf("WhatsApp has temporarily banned this account (%s).", e.Code)
	wait := e.Expire + time.Minute
	if e.Expire > 0 {
		until := s.a.now().Add(e.Expire).UTC()
		detail += fmt.Sprintf(" The ban ends in about %s, at %s; the gateway reconnects then.",
			e.Expire.Round(time.Minute), until.Format("2006-01-02 15:04 MST"))
	} else {
		s.mu.Lock()
		wait = min(max(s.trouble.banWait*2, banBackoffMin), banBackoffMax)
		s.trouble.banWait = wait
		s.mu.Unlock()
		detail += fmt.Sprintf(" WhatsApp did not say when it ends; the gateway tries again in %s, and less often while the ban lasts.",
			durationText(wait))
	}
	detail += " WhatsApp may ban accounts that use unofficial clients."
	s.retryIn(wait)
	s.stopped(ctx, event.StateBanned, detail, wait)
}

// onConnectFailure handles a refusal whatsmeow does not handle itself.
// Refusals that cannot heal by waiting stop the session and say what to
// do; others are retried with backoff.
func (s *Session) onConnectFailure(ctx context.Context, e *events.ConnectFailure) {
	switch e.Reason {
	case events.ConnectFailureBadUserAgent:
		s.retryIn(0)
		s.stopped(ctx, event.StateDisconnected, fmt.Sprintf(
			"WhatsApp refuses this gateway's client identification (%s); the operator must update Drawbridge. "+
				"The gateway does not retry until it is restarted; your account stays linked.", e.Reason), 0)
		return
	case events.ConnectFailureClientUnknown, events.ConnectFailureNotFound:
		s.retryIn(0)
		s.stopped(ctx, event.StateDisconnected, fmt.Sprintf(
			"WhatsApp does not know this gateway's device any more (%s %s). Link the account again; "+
				"the gateway does not retry.", e.Reason, e.Message), 0)
		return
	}
	s.mu.Lock()
	wait := min(max(s.trouble.refusalWait*2, refusalBackoffMin), refusalBackoffMax)
	s.trouble.refusalWait = wait
	s.mu.Unlock()
	s.retryIn(wait)
	s.stopped(ctx, event.StateDisconnected,
		fmt.Sprintf("WhatsApp refused the connection (%s %s); retrying in %s.", e.Reason, e.Message, durationText(wait)), wait)
}

// logoutBan is what a logout on connect says about the account beyond
// the device being unlinked: WhatsApp's web client calls reason 403
// "locked" and 406 "banned". Empty for other logouts.
func logoutBan(evt *events.LoggedOut) string {
	if !evt.OnConnect {
		return ""
	}
	switch evt.Reason {
	case events.ConnectFailureMainDeviceGone:
		return "WhatsApp locked this account or its phone was switched (403). Open WhatsApp on the phone: " +
			"if it says the account is locked or banned, follow its steps; then link the gateway again."
	case events.ConnectFailureUnknownLogout:
		return "WhatsApp banned this account (406). Open WhatsApp on the phone to see why and to appeal; " +
			"WhatsApp may ban accounts that use unofficial clients."
	}
	return ""
}

// durationText says a wait in words ("1 hour", "2 minutes").
func durationText(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return timerText(uint32(d / time.Second))
	case d >= time.Minute && d%time.Minute == 0:
		return timerText(uint32(d / time.Second))
	}
	return d.Round(time.Second).String()
}
