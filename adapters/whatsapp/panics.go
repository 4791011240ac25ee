package whatsapp

import (
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// panicNotes remembers whether the owner was told of a failed event.
type panicNotes struct {
	mu    sync.Mutex
	count int
}

// PanicsRecovered is how many WhatsApp events the session failed to
// handle because of a bug (a panic) since it was made.
func (s *Session) PanicsRecovered() int {
	s.panics.mu.Lock()
	defer s.panics.mu.Unlock()
	return s.panics.count
}

// recoverEvent, deferred by the event handler, turns a panic while
// handling evt into a refusal: the event is not acknowledged (whatsmeow
// itself would recover and acknowledge it, and the message would be
// lost), WhatsApp offers it again, the log has the stack, and the owner
// is told once per session in the gateway contact's status.
func (s *Session) recoverEvent(evt any, ok *bool) {
	r := recover()
	if r == nil {
		return
	}
	*ok = false
	s.log.Error("whatsapp: handling an event failed (a bug); it is not acknowledged and WhatsApp offers it again",
		"event", fmt.Sprintf("%T", evt), "panic", r, "stack", string(debug.Stack()))
	s.panics.mu.Lock()
	s.panics.count++
	first := s.panics.count == 1
	s.panics.mu.Unlock()
	if !first {
		return
	}
	// The panic may have left the session's lock held: tell only if it
	// is free, rather than block the handler for ever.
	if !s.mu.TryLock() {
		s.log.Error("whatsapp: the session's lock was held when handling failed; the owner is not told")
		return
	}
	state := s.reported.state
	s.mu.Unlock()
	if state == "" {
		state = event.StateConnected
	}
	s.setState(s.eventContext(), state, fmt.Sprintf(
		"Something from WhatsApp (%T) could not be handled because of a bug in the gateway; WhatsApp offers it again, "+
			"and the operator's log has the details.", evt))
}
