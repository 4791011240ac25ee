package gateway

import (
	"errors"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Direction is which way something crossed the gateway.
type Direction string

// Directions.
const (
	// ToPlatform: from an XMPP user to the platform.
	ToPlatform Direction = "to_platform"
	// ToXMPP: from the platform to an XMPP user.
	ToXMPP Direction = "to_xmpp"
)

// Observer receives the hub's measurements (metrics). Implementations must
// be fast and safe for concurrent use. Options.Observer nil means none.
type Observer interface {
	// Relayed counts one item that crossed the hub: kind is "message",
	// "receipt", "chatstate", "presence", "contact", "edit", ... and d is
	// how long the hub took to hand it on (the adapter's send, or the
	// XMPP side's queueing).
	Relayed(platform ids.PlatformID, dir Direction, kind string, d time.Duration)
	// Failed counts an item that could not be relayed, by error kind (see
	// ErrorKind).
	Failed(platform ids.PlatformID, dir Direction, kind, errKind string)
	// StateChanged reports an account's new connection state.
	StateChanged(platform ids.PlatformID, account ids.AccountID, state event.State)
}

// ErrorKind names the hub sentinel err wraps ("not_supported",
// "not_linked", ...) or "internal".
func ErrorKind(err error) string {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "internal"
}

var errorKinds = []struct {
	err  error
	name string
}{
	{ErrNotSupported, "not_supported"},
	{ErrNotLinked, "not_linked"},
	{ErrNotRegistered, "not_registered"},
	{ErrUnknownChat, "unknown_chat"},
	{ErrTargetNotFound, "target_not_found"},
	{ErrForbidden, "forbidden"},
	{ErrRateLimited, "rate_limited"},
	{ErrBadRequest, "bad_request"},
	{ErrUnavailable, "unavailable"},
	{ErrNotDurable, "not_durable"},
	{ErrNotAcceptable, "not_acceptable"},
	{ErrRemoteNotFound, "remote_not_found"},
	{ErrRemoteTimeout, "remote_timeout"},
}

// eventKind is the Relayed kind of an event.
func eventKind(ev event.Event) string {
	switch ev.(type) {
	case *event.Message:
		return "message"
	case *event.Edit:
		return "edit"
	case *event.Retract:
		return "retract"
	case *event.Reaction:
		return "reaction"
	case *event.Receipt:
		return "receipt"
	case *event.ChatState:
		return "chatstate"
	case *event.Presence:
		return "presence"
	case *event.ContactInfo:
		return "contact"
	case *event.ChatInfo:
		return "chatinfo"
	case *event.MembershipChange:
		return "membership"
	case *event.AccountState:
		return "state"
	}
	return "other"
}

// noObserver discards measurements.
type noObserver struct{}

func (noObserver) Relayed(ids.PlatformID, Direction, string, time.Duration) {}
func (noObserver) Failed(ids.PlatformID, Direction, string, string)         {}
func (noObserver) StateChanged(ids.PlatformID, ids.AccountID, event.State)  {}

// observe records the outcome of relaying one item that started at t0.
func (g *Gateway) observe(platform ids.PlatformID, dir Direction, kind string, t0 time.Time, err error) {
	if errors.Is(err, ErrQueued) {
		return // the retry queue observes how it ends
	}
	if err != nil {
		g.obs.Failed(platform, dir, kind, ErrorKind(err))
		return
	}
	g.obs.Relayed(platform, dir, kind, time.Since(t0))
}
