package stream

import (
	"errors"
	"fmt"
	"time"
)

// Errors that Problem wraps: the link cannot be set up, or does not stay
// up, until an operator acts.
var (
	// ErrConflict: another connection (another gateway instance) holds the
	// component domain on the server, which replaced one connection with
	// the other (Prosody's component_conflict_resolve = "kick_old") or
	// refused the newer one ("kick_new", the default).
	ErrConflict = errors.New("another connection holds the component domain")
	// ErrNotAuthorized: the server refused the handshake, i.e. the secret
	// does not match the server's secret for the component.
	ErrNotAuthorized = errors.New("the server refused the component secret")
)

// problemError is a Problem: a sentence for the operator that wraps one
// of the errors above and the stream error behind it.
type problemError struct {
	kind error
	msg  string
	err  error
}

func (e *problemError) Error() string   { return e.msg }
func (e *problemError) Unwrap() []error { return []error{e.kind, e.err} }

// conflictProblem explains a conflict stream error.
func (c *Conn) conflictProblem(established bool, err error) *problemError {
	how := "the server refused this connection because another one holds the domain"
	if established {
		how = "the server replaced this connection with a newer one"
	}
	return &problemError{kind: ErrConflict, err: err, msg: fmt.Sprintf(
		"another gateway is connected as %s (%s, at %s): stop the other instance, "+
			"or give each instance its own component domain (component.jid) and its own component on the XMPP server",
		c.cfg.Domain, how, c.cfg.Addr)}
}

// secretProblem explains a handshake refused with not-authorized.
func (c *Conn) secretProblem(err error) *problemError {
	d := c.cfg.Domain
	return &problemError{kind: ErrNotAuthorized, err: err, msg: fmt.Sprintf(
		"the XMPP server at %s refused the secret of component %s: %s must equal the server's secret for it "+
			"(Prosody: component_secret in the Component %q section; ejabberd: password of the ejabberd_service listener with hosts: %s)",
		c.cfg.Addr, d, c.cfg.SecretSetting, d, d)}
}

// Problem reports why the link needs an operator, or nil: an error
// wrapping ErrConflict while another instance fights over the component
// domain, or ErrNotAuthorized while the server refuses the secret. Its
// message says what to do. A secret problem ends with the next successful
// handshake; a conflict once a connection has stayed up for MaxBackoff
// plus StableAfter (long enough for the other instance to have come back).
func (c *Conn) Problem() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.problem == nil {
		return nil
	}
	if errors.Is(c.problem, ErrConflict) && c.connected &&
		time.Since(c.upSince) >= c.cfg.MaxBackoff+c.cfg.StableAfter {
		c.problem = nil
	}
	return c.problem
}

// setProblem records p (nil: none) for Problem.
func (c *Conn) setProblem(p error) {
	c.mu.Lock()
	c.problem = p
	c.mu.Unlock()
}

// streamCondition returns the condition of the stream error in err, or "".
func streamCondition(err error) string {
	var se *StreamError
	if errors.As(err, &se) {
		return se.Condition
	}
	return ""
}
