package xmppcomponent

import (
	"errors"
	"regexp"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// errorMapping maps each hub sentinel error to one stanza error. It is the
// only place where hub errors become XMPP.
var errorMapping = []struct {
	err       error
	typ, cond string
}{
	{gateway.ErrNotSupported, "cancel", "feature-not-implemented"},
	{gateway.ErrNotRegistered, "auth", "registration-required"},
	{gateway.ErrNotLinked, "auth", "registration-required"},
	{gateway.ErrUnknownChat, "cancel", "item-not-found"},
	{gateway.ErrTargetNotFound, "cancel", "item-not-found"},
	{gateway.ErrForbidden, "auth", "forbidden"},
	// RFC 6120 §8.3.3: one user over its own rate violates a local
	// policy (policy-violation, as Prosody's own limits answer); the
	// gateway as a whole over its rate lacks the resources
	// (resource-constraint). Both say wait.
	{gateway.ErrTooFast, "wait", "policy-violation"},
	{gateway.ErrRateLimited, "wait", "resource-constraint"},
	{gateway.ErrOverLimit, "modify", "policy-violation"},
	{gateway.ErrBadRequest, "modify", "bad-request"},
	{gateway.ErrUnavailable, "wait", "recipient-unavailable"},
	// RFC 6120 §8.3.3.13-14: a server the user named (a file's URL)
	// cannot be reached, or does not answer in time.
	{gateway.ErrRemoteNotFound, "cancel", "remote-server-not-found"},
	{gateway.ErrRemoteTimeout, "wait", "remote-server-timeout"},
	{gateway.ErrNotAcceptable, "modify", "not-acceptable"},
	// A sharded cluster is moving the user's accounts to another process
	// (or this one has not started them yet): the service is there, but
	// not for this user at this moment.
	{gateway.ErrNotOwned, "wait", "service-unavailable"},
}

// stanzaError turns an error into a stanza error element. Hub sentinels keep
// their message as the text; anything else is internal-server-error with a
// generic text (the caller logs the details).
func stanzaError(err error) (se xep.StanzaError, internal bool) {
	for _, m := range errorMapping {
		if errors.Is(err, m.err) {
			return xep.StanzaError{Type: m.typ, Condition: m.cond, Text: userText(err)}, false
		}
	}
	return xep.StanzaError{Type: "wait", Condition: "internal-server-error", Text: "the gateway failed to handle this; the operator has the details in the log"}, true
}

// userText is the error's message, made for people: the sentence an
// Explained error carries; else the message of the error that wraps the
// hub's sentinel, without the context added around it on the way up
// ("send to alice: ...") nor the platform's name in front ("sandbox: "),
// and without the sentinel's own words at its end (": bad request") when
// something more specific precedes them.
func userText(err error) string {
	if text, ok := gateway.ExplainedText(err); ok {
		return text
	}
	err = innermostWrapper(err)
	s := platformPrefix.ReplaceAllString(err.Error(), "")
	for _, m := range errorMapping {
		suffix := ": " + m.err.Error()
		if errors.Is(err, m.err) && strings.HasSuffix(s, suffix) && len(s) > len(suffix) {
			return strings.TrimSuffix(s, suffix)
		}
	}
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// innermostWrapper is the error in err's chain that wraps a hub sentinel
// directly, or err if there is none or the chain branches.
func innermostWrapper(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		next := errors.Unwrap(e)
		for _, m := range errorMapping {
			if next == m.err {
				return e
			}
		}
	}
	return err
}

// platformPrefix is an adapter's name in front of its messages.
var platformPrefix = regexp.MustCompile(`^[a-z][a-z0-9]*: `)

// Stanza errors the component raises by itself.
var (
	errServiceUnavailable = xep.StanzaError{Type: "cancel", Condition: "service-unavailable"}
	errBadRequest         = func(text string) xep.StanzaError {
		return xep.StanzaError{Type: "modify", Condition: "bad-request", Text: text}
	}
	errItemNotFound = func(text string) xep.StanzaError {
		return xep.StanzaError{Type: "cancel", Condition: "item-not-found", Text: text}
	}
)
