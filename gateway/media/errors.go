package media

import (
	"errors"
	"fmt"
)

// Errors of Fetch. The hub maps ErrTooLarge and ErrUnsupportedType to its
// "not acceptable" refusal, ErrUnreachable and ErrTimeout to the remote
// server errors, and the others to a bad request.
var (
	// ErrTooLarge means the file is larger than Fetcher.MaxSize, as declared
	// by Content-Length or found while reading.
	ErrTooLarge = errors.New("media: file too large")
	// ErrBusy means the downloads in progress hold the whole Budget and
	// none gave room back in time. The fault is not the URL's: the same
	// file may pass later.
	ErrBusy = errors.New("media: too many downloads in progress")
	// ErrForbiddenAddress means the URL's host is, or resolves to, an
	// address the Fetcher must not connect to (loopback, private,
	// link-local, unspecified, multicast, reserved).
	ErrForbiddenAddress = errors.New("media: address not allowed")
	// ErrBadURL means the URL is malformed, not http(s), or led to too many
	// redirects.
	ErrBadURL = errors.New("media: bad URL")
	// ErrUnsupportedType means the file's content type is not one of
	// Fetcher.AllowedTypes.
	ErrUnsupportedType = errors.New("media: content type not allowed")
	// ErrBadStatus means the server answered with a status other than 200;
	// the error is a *StatusError.
	ErrBadStatus = errors.New("media: unexpected HTTP status")
	// ErrUnreachable means the URL's host could not be reached: its name
	// does not resolve, or the connection was refused or found no route.
	// The fault lies with the URL, not with the gateway.
	ErrUnreachable = errors.New("the server cannot be reached")
	// ErrTimeout means the URL's host did not connect, answer or send the
	// whole file in time (Fetcher.Timeout, or the connect timeout). Such
	// errors also match context.DeadlineExceeded when the whole Timeout
	// passed.
	ErrTimeout = errors.New("the server did not answer in time")
)

// StatusError is returned when the server answers with a status other than
// 200 OK. errors.Is(err, ErrBadStatus) is true for it.
type StatusError struct {
	// URL is the address that answered (after redirects, password
	// redacted). Error leaves it out: its path may be a capability.
	URL string
	// Host is URL's host.
	Host string
	// StatusCode and Status are the response's.
	StatusCode int
	Status     string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("media: %s answered %s", e.Host, e.Status)
}

// Is makes errors.Is(err, ErrBadStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrBadStatus }
