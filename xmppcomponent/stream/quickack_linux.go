package stream

import (
	"net"
	"syscall"
)

// quickAckReads returns nc with reads that acknowledge the data read at
// once (TCP_QUICKACK after each read) instead of leaving the ACK to
// Linux's delayed-ACK timer (40 ms or more) or to our next write.
//
// Servers commonly write with the Nagle algorithm on (Prosody does unless
// network_settings has nagle = false): a small segment that follows an
// unacknowledged one waits for its ACK. The last thing the server writes
// to us is often something we do not answer with data (the reply to an
// acknowledgement ping, a presence), so without a prompt ACK the next
// stanza it routes to us, typically a user's message, waited for our
// delayed-ACK timer: about 20 ms per message on average on loopback.
// TCP_QUICKACK is not sticky (the kernel falls back to delayed ACKs when it
// sees a request-response pattern), hence the call after every read that
// returned data; it costs one setsockopt per read, and reads are batched.
//
// Writes, deadlines and Close go to nc unchanged. Anything but a
// *net.TCPConn is returned as is.
func quickAckReads(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	return &quickAckConn{TCPConn: tc, raw: raw}
}

// quickAckConn is a TCP connection whose reads set TCP_QUICKACK.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if n > 0 {
		_ = c.raw.Control(setQuickAck)
	}
	return n, err
}

func setQuickAck(fd uintptr) {
	_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
}
