package stream

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"
)

// handshakeHash is the XEP-0114 handshake value: hex(sha1(streamID+secret)).
func handshakeHash(streamID, secret string) string {
	sum := sha1.Sum([]byte(streamID + secret))
	return hex.EncodeToString(sum[:])
}

// streamHeader is the opening tag of the component stream.
func streamHeader(domain string) string {
	return "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='" +
		escapeConnAttr(domain) + "'>"
}

// escapeConnAttr escapes s for use inside a single- or double-quoted XML
// attribute value.
func escapeConnAttr(s string) string {
	if !strings.ContainsAny(s, `<>&'"`+"\t\n\r") {
		return s
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}

// dial connects to the server and authenticates the component. It returns
// the authenticated connection and a reader positioned after <handshake/>.
// The whole exchange is bounded by twice WriteTimeout and by ctx.
func (c *Conn) dial(ctx context.Context) (net.Conn, *streamReader, error) {
	timeout := 2 * c.cfg.WriteTimeout
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if c.cfg.MayConnect != nil {
		if err := c.cfg.MayConnect(dctx); err != nil {
			return nil, nil, fmt.Errorf("stream: not connecting to %s: %w", c.cfg.Addr, err)
		}
	}
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("stream: dial %s: %w", c.cfg.Addr, err)
	}
	// Abort blocking reads and writes if ctx ends or the time is up.
	_ = nc.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(dctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	// The stream reader acknowledges what it reads at once (see
	// quickAckReads): with the server's Nagle algorithm on, a delayed ACK
	// would hold its next stanza back for up to 40 ms.
	sr, err := handshake(quickAckReads(nc), c.cfg.Domain, c.cfg.Secret)
	if !stop() || err != nil {
		_ = nc.Close()
		if err == nil {
			err = dctx.Err()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return nil, nil, fmt.Errorf("stream: handshake with %s as %s: %w", c.cfg.Addr, c.cfg.Domain, err)
	}
	_ = nc.SetDeadline(time.Time{})
	sr.setMaxStanzaSize(c.cfg.MaxStanzaSize)
	return nc, sr, nil
}

// handshake runs the XEP-0114 exchange on nc: stream header, stream id,
// <handshake>hash</handshake>, <handshake/>. A stream error from the server
// is returned as *StreamError.
func handshake(nc net.Conn, domain, secret string) (*streamReader, error) {
	if _, err := nc.Write([]byte(streamHeader(domain))); err != nil {
		return nil, fmt.Errorf("writing stream header: %w", err)
	}
	sr := newStreamReader(nc)
	id, err := sr.open()
	if err != nil {
		return nil, err
	}
	_, werr := nc.Write([]byte("<handshake>" + handshakeHash(id, secret) + "</handshake>"))
	// Read even after a failed write: the server may have sent a stream
	// error (e.g. host-unknown) right after its header and closed.
	p, rerr := sr.next()
	var se stanza.StreamError
	switch {
	case rerr == nil && isStreamError(p, &se):
		return nil, streamErrorOf(se)
	case werr != nil:
		return nil, fmt.Errorf("writing handshake: %w", werr)
	case rerr != nil:
		return nil, fmt.Errorf("reading handshake reply: %w", rerr)
	}
	switch p.(type) {
	case stanza.Handshake:
		return sr, nil
	case stanza.StreamClosePacket:
		return nil, errors.New("server closed the stream instead of accepting the handshake")
	default:
		return nil, fmt.Errorf("unexpected <%s> instead of <handshake/>", p.Name())
	}
}

func isStreamError(p stanza.Packet, out *stanza.StreamError) bool {
	se, ok := p.(stanza.StreamError)
	if ok {
		*out = se
	}
	return ok
}
