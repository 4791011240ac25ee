package gateway

import (
	"errors"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
)

// Sentinel errors of the hub. The XMPP side maps each to one stanza error
// condition (xmppcomponent/errors.go); anything else is an internal error.
var (
	// ErrNotSupported: the platform cannot do this (in this chat).
	ErrNotSupported = errors.New("not supported by the platform")
	// ErrNotLinked: the owner has no linked account.
	ErrNotLinked = errors.New("no linked account")
	// ErrNotRegistered: the owner has not registered with the gateway.
	ErrNotRegistered = errors.New("not registered with the gateway")
	// ErrUnknownChat: no such contact or chat on the platform.
	ErrUnknownChat = errors.New("unknown contact or chat")
	// ErrTargetNotFound: the message referred to is unknown.
	ErrTargetNotFound = errors.New("message not found")
	// ErrForbidden: the requester may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited: too many requests; try later.
	ErrRateLimited = errors.New("rate limited")
	// ErrTooFast: the requester went over its own rate limit (see
	// limits.go); try later. It wraps ErrRateLimited, which on its own means
	// everybody together (or the platform) went over a limit.
	ErrTooFast = fmt.Errorf("too fast: %w", ErrRateLimited)
	// ErrOverLimit: the request is larger than the gateway's policy allows
	// (body length, attachments). It wraps ErrBadRequest.
	ErrOverLimit = fmt.Errorf("over the gateway's limits: %w", ErrBadRequest)
	// ErrBadRequest: the request is malformed (bad input to a login step,
	// an invalid phone number, ...).
	ErrBadRequest = errors.New("bad request")
	// ErrNotAcceptable: the platform supports this, but not within these
	// limits (an edit after the edit window, a second reaction where one is
	// allowed, a file too large or of a refused type).
	ErrNotAcceptable = errors.New("not acceptable to the platform")
	// ErrRemoteNotFound: a server the user named (a file's URL) cannot be
	// reached: its name does not resolve or it refuses the connection.
	// The user's input is at fault, not the gateway.
	ErrRemoteNotFound = errors.New("remote server not found")
	// ErrRemoteTimeout: a server the user named (a file's URL) did not
	// answer in time.
	ErrRemoteTimeout = errors.New("remote server timeout")
	// ErrUnavailable: the platform session is not connected right now.
	ErrUnavailable = errors.New("platform unavailable")
	// ErrNotDurable: Host.Emit could not journal the event (the store is
	// unreachable); the adapter must not acknowledge it to the platform,
	// and should offer it again later (delivery.Journal).
	ErrNotDurable = delivery.ErrNotDurable
)

// Explained is an error with a sentence for the person who caused it,
// beside the details for the log. Frontends show Text to the user instead
// of the error's message, which is for operators: it carries the
// platform's name and the hub's context ("send to alice: sandbox: ...").
// Wrapping keeps it: errors.As finds it under any number of %w.
type Explained struct {
	// Text is a whole sentence for people, without internal prefixes or
	// jargon: what was wrong and what to do instead.
	Text string
	// Err is the error with its details, usually wrapping a sentinel.
	Err error
}

// Error implements error: the details, for the log.
func (e *Explained) Error() string { return e.Err.Error() }

// Unwrap returns the detailed error, so that errors.Is finds its sentinel.
func (e *Explained) Unwrap() error { return e.Err }

// Explain attaches text, a sentence for people, to err.
func Explain(text string, err error) error {
	return &Explained{Text: text, Err: err}
}

// ExplainedText returns the sentence for people that err carries, if an
// Explained is in its chain.
func ExplainedText(err error) (string, bool) {
	var e *Explained
	if errors.As(err, &e) {
		return e.Text, true
	}
	return "", false
}
