package stream

import "gosrc.io/xmpp/stanza"

// DeliverReply hands a result or error IQ that was read on another
// connection (another process's link of the same component domain, which
// the server chose for it) to this connection: the reply to its
// outstanding ping, which confirms what was written before it, or to a
// SendIQ waiting for it. It reports whether iq was one of these.
func (c *Conn) DeliverReply(iq *stanza.IQ) bool {
	if iq == nil || iq.Type != stanza.IQTypeResult && iq.Type != stanza.IQTypeError {
		return false
	}
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil && s.ackPing(iq) {
		return true
	}
	return c.iqs.deliver(iq)
}
