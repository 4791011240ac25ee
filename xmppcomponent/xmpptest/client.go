package xmpptest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gosrc.io/xmpp/stanza"
)

const (
	clientLoginTimeout = 30 * time.Second // when DialClient's ctx has no deadline
	clientWriteTimeout = 10 * time.Second
	clientCloseGrace   = 2 * time.Second
	nsPing             = "urn:xmpp:ping"
	nsRoster           = "jabber:iq:roster"
)

// ErrClientClosed is returned once the client's connection has ended.
var ErrClientClosed = errors.New("xmpptest: client connection closed")

// Stanza is one top-level element a Client received.
type Stanza struct {
	// Packet is Raw parsed by stanza.NextPacket: stanza.Message,
	// stanza.Presence, *stanza.IQ, stanza.StreamError, ... It is nil if gosrc
	// could not parse the element.
	Packet stanza.Packet
	// Raw is the whole element, re-serialized canonically (see readElement):
	// double-quoted attributes, resolved namespaces (xmlns="jabber:client" on
	// the top-level element), self-closed empty elements. Use it to assert
	// payloads gosrc does not parse.
	Raw string
}

// Client is a minimal XMPP client for tests: plaintext TCP (no TLS), SASL
// PLAIN, resource binding, and a roster request at login (so that, like a
// real client, it receives roster pushes and subscription approvals). It
// answers pings by itself (not delivered to Next); roster pushes are
// acknowledged and delivered to Next; other inbound get/set IQs are answered
// with service-unavailable (see SetIQHandler) and delivered to Next.
type Client struct {
	// JID is the full JID bound for this session.
	JID string

	nc  net.Conn
	dec *xml.Decoder

	wmu      sync.Mutex // serializes writes
	consumer sync.Mutex // serializes Next and WaitFor

	mu      sync.Mutex
	inbox   []Stanza
	notify  chan struct{} // cap 1: inbox grew or the reader ended
	pending map[string]chan Stanza
	iqh     func(Stanza) stanza.Packet
	trace   func(sent bool, raw string)
	err     error // why the reader ended

	done      chan struct{} // closed when the reader ends
	closeOnce sync.Once
	idBase    string
	idSeq     atomic.Uint64
}

// DialClient connects to addr (a c2s listener, host:port), authenticates
// bareJID with SASL PLAIN over plaintext, binds a resource (chosen by the
// server), starts a session if the server offers one and requests the
// roster. It sends no presence: call SendPresence
// when the test wants to be available (and receive messages sent to the
// bare JID or stored offline). ctx bounds the login only.
func DialClient(ctx context.Context, addr, bareJID, password string) (*Client, error) {
	local, domain, ok := strings.Cut(bareJID, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "/") {
		return nil, fmt.Errorf("xmpptest: %q is not a bare JID", bareJID)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("xmpptest: dial %s: %w", addr, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(clientLoginTimeout)
	}
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	c := &Client{
		nc:      nc,
		notify:  make(chan struct{}, 1),
		pending: make(map[string]chan Stanza),
		done:    make(chan struct{}),
		idBase:  randomID() + "-",
	}
	err = c.login(local, domain, password)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("xmpptest: login as %s at %s: %w", bareJID, addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	go c.readLoop()
	return c, nil
}

// login runs the stream negotiation synchronously.
func (c *Client) login(local, domain, password string) error {
	br := bufio.NewReader(c.nc)
	features, err := c.openStream(br, domain)
	if err != nil {
		return err
	}
	if !slices.Contains(features.Mechanisms.Mechanism, "PLAIN") {
		return fmt.Errorf("the server offers no SASL PLAIN (mechanisms %v; is allow_unencrypted_plain_auth set?)", features.Mechanisms.Mechanism)
	}
	creds := base64.StdEncoding.EncodeToString([]byte("\x00" + local + "\x00" + password))
	if err := c.SendRaw("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + creds + "</auth>"); err != nil {
		return err
	}
	st, err := c.readStanza()
	if err != nil {
		return err
	}
	switch st.Packet.(type) {
	case stanza.SASLSuccess:
	case stanza.SASLFailure:
		return fmt.Errorf("authentication failed: %s", st.Raw)
	default:
		return fmt.Errorf("unexpected answer to <auth>: %s", st.Raw)
	}
	// The stream restarts after SASL: a new header and a new parser.
	if features, err = c.openStream(br, domain); err != nil {
		return err
	}
	if features.Bind.XMLName.Local != "bind" {
		return errors.New("the server offers no resource binding")
	}
	res, err := c.syncIQ("<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>", "bind-1")
	if err != nil {
		return fmt.Errorf("resource binding: %w", err)
	}
	var bound struct {
		Bind struct {
			JID string `xml:"jid"`
		} `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
	}
	if err := xml.Unmarshal([]byte(res.Raw), &bound); err != nil || bound.Bind.JID == "" {
		return fmt.Errorf("resource binding: no jid in %s", res.Raw)
	}
	c.JID = bound.Bind.JID
	if features.Session.XMLName.Local == "session" {
		if _, err := c.syncIQ("<iq type='set' id='session-1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>", "session-1"); err != nil {
			return fmt.Errorf("session: %w", err)
		}
	}
	// Like a real client, fetch the roster: only such "interested"
	// resources get roster pushes and subscription approvals (RFC 6121).
	if _, err := c.syncIQ("<iq type='get' id='roster-1'><query xmlns='jabber:iq:roster'/></iq>", "roster-1"); err != nil {
		return fmt.Errorf("roster: %w", err)
	}
	return nil
}

// openStream sends a stream header and reads the server's header and
// features.
func (c *Client) openStream(br *bufio.Reader, domain string) (stanza.StreamFeatures, error) {
	header := `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to="` +
		attrEscape(domain) + `">`
	if err := c.SendRaw(header); err != nil {
		return stanza.StreamFeatures{}, err
	}
	c.dec = xml.NewDecoder(br) // reads br byte by byte: no data is buffered away from the next parser
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return stanza.StreamFeatures{}, fmt.Errorf("reading stream header: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Space != stanza.NSStream || se.Name.Local != "stream" {
				return stanza.StreamFeatures{}, fmt.Errorf("expected a stream header, got <%s>", se.Name.Local)
			}
			break
		}
	}
	st, err := c.readStanza()
	if err != nil {
		return stanza.StreamFeatures{}, err
	}
	f, ok := st.Packet.(stanza.StreamFeatures)
	if !ok {
		return stanza.StreamFeatures{}, fmt.Errorf("expected stream features, got %s", st.Raw)
	}
	return f, nil
}

// syncIQ sends a raw IQ during login and reads until its reply.
func (c *Client) syncIQ(raw, id string) (Stanza, error) {
	if err := c.SendRaw(raw); err != nil {
		return Stanza{}, err
	}
	for {
		st, err := c.readStanza()
		if err != nil {
			return Stanza{}, err
		}
		iq, ok := st.Packet.(*stanza.IQ)
		if !ok || iq.Id != id {
			continue
		}
		if iq.Type == stanza.IQTypeError {
			return st, fmt.Errorf("error reply: %s", st.Raw)
		}
		return st, nil
	}
}

// readStanza reads the next top-level element.
func (c *Client) readStanza() (Stanza, error) {
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return Stanza{}, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return Stanza{}, errors.New("the server closed the stream")
		case xml.StartElement:
			raw, err := readElement(c.dec, t)
			if err != nil {
				return Stanza{}, err
			}
			st := Stanza{Raw: raw}
			if p, err := stanza.NextPacket(xml.NewDecoder(strings.NewReader(raw))); err == nil {
				st.Packet = p
			}
			return st, nil
		}
	}
}

// readLoop routes inbound stanzas until the connection ends.
func (c *Client) readLoop() {
	var err error
	defer func() {
		c.mu.Lock()
		if c.err == nil {
			c.err = fmt.Errorf("%w: %w", ErrClientClosed, err)
		}
		c.mu.Unlock()
		close(c.done)
		c.wake()
	}()
	for {
		var st Stanza
		st, err = c.readStanza()
		if err != nil {
			return
		}
		c.traced(false, st.Raw)
		if se, ok := st.Packet.(stanza.StreamError); ok {
			c.deliver(st)
			err = fmt.Errorf("stream error %s: %s", se.Error.Local, se.Text)
			return
		}
		if iq, ok := st.Packet.(*stanza.IQ); ok {
			switch iq.Type {
			case stanza.IQTypeResult, stanza.IQTypeError:
				c.mu.Lock()
				ch, ok := c.pending[iq.Id]
				delete(c.pending, iq.Id)
				c.mu.Unlock()
				if ok {
					ch <- st // buffered(1)
					continue
				}
			case stanza.IQTypeGet, stanza.IQTypeSet:
				if c.answerIQ(st, iq) {
					continue
				}
			}
		}
		c.deliver(st)
	}
}

// answerIQ answers an inbound request. It reports whether the IQ was fully
// handled (pings) or should also go to Next.
func (c *Client) answerIQ(st Stanza, iq *stanza.IQ) bool {
	if iq.Type == stanza.IQTypeGet && isPing(iq) {
		_ = c.SendRaw(`<iq type="result" id="` + attrEscape(iq.Id) + `" to="` + attrEscape(iq.From) + `"/>`)
		return true
	}
	if iq.Type == stanza.IQTypeSet && c.isRosterPush(iq, st.Raw) {
		_ = c.SendRaw(`<iq type="result" id="` + attrEscape(iq.Id) + `"/>`)
		return false
	}
	c.mu.Lock()
	h := c.iqh
	c.mu.Unlock()
	if h != nil {
		if reply := h(st); reply != nil {
			_ = c.Send(reply)
		}
		return false
	}
	_ = c.SendRaw(`<iq type="error" id="` + attrEscape(iq.Id) + `" to="` + attrEscape(iq.From) +
		`"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	return false
}

// isRosterPush reports whether iq is a roster push from the user's own
// server (no from, or the user's bare JID).
func (c *Client) isRosterPush(iq *stanza.IQ, raw string) bool {
	bare, _, _ := strings.Cut(c.JID, "/")
	if iq.From != "" && iq.From != bare {
		return false
	}
	return (iq.Payload != nil && iq.Payload.Namespace() == nsRoster) ||
		(iq.Any != nil && iq.Any.XMLName.Space == nsRoster) ||
		strings.Contains(raw, `<query xmlns="`+nsRoster+`"`)
}

func isPing(iq *stanza.IQ) bool {
	return (iq.Any != nil && iq.Any.XMLName.Space == nsPing) || (iq.Payload != nil && iq.Payload.Namespace() == nsPing)
}

func (c *Client) deliver(st Stanza) {
	c.mu.Lock()
	c.inbox = append(c.inbox, st)
	c.mu.Unlock()
	c.wake()
}

func (c *Client) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// SetIQHandler replaces the default answer (service-unavailable) to inbound
// get and set IQs other than ping: h returns the reply to send, or nil to
// send none (the test then answers with Send). The IQ is delivered to Next
// either way.
func (c *Client) SetIQHandler(h func(Stanza) stanza.Packet) {
	c.mu.Lock()
	c.iqh = h
	c.mu.Unlock()
}

// Send serializes p with encoding/xml and writes it.
func (c *Client) Send(p stanza.Packet) error {
	data, err := xml.Marshal(p)
	if err != nil {
		return fmt.Errorf("xmpptest: marshal %s: %w", p.Name(), err)
	}
	return c.write(data)
}

// SendRaw writes s as is.
func (c *Client) SendRaw(s string) error { return c.write([]byte(s)) }

// SendPresence sends initial (available) presence.
func (c *Client) SendPresence() error { return c.SendRaw("<presence/>") }

// SetTrace makes the client call f with every stanza it writes (sent
// true) and reads (sent false) from now on, as raw XML; nil stops it. f
// must be quick and must not call the client. `drawbridge report` keeps
// its stanza transcripts with it.
func (c *Client) SetTrace(f func(sent bool, raw string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trace = f
}

func (c *Client) traced(sent bool, raw string) {
	c.mu.Lock()
	f := c.trace
	c.mu.Unlock()
	if f != nil {
		f(sent, raw)
	}
}

func (c *Client) write(b []byte) error {
	c.traced(true, string(b))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("xmpptest: write: %w", err)
	}
	return nil
}

// SendIQ sends iq (setting an id if it has none) and waits for the result or
// error reply with that id. A type=error reply is returned with a nil error:
// inspect Packet or Raw.
func (c *Client) SendIQ(ctx context.Context, iq *stanza.IQ) (Stanza, error) {
	if iq.Id == "" {
		iq.Id = c.idBase + strconv.FormatUint(c.idSeq.Add(1), 10)
	}
	ch := make(chan Stanza, 1)
	c.mu.Lock()
	if _, dup := c.pending[iq.Id]; dup {
		c.mu.Unlock()
		return Stanza{}, fmt.Errorf("xmpptest: an IQ with id %q is already pending", iq.Id)
	}
	c.pending[iq.Id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, iq.Id)
		c.mu.Unlock()
	}
	if err := c.Send(iq); err != nil {
		forget()
		return Stanza{}, err
	}
	select {
	case st := <-ch:
		return st, nil
	case <-ctx.Done():
		forget()
		return Stanza{}, fmt.Errorf("xmpptest: waiting for the reply to IQ %s: %w", iq.Id, ctx.Err())
	case <-c.done:
		forget()
		return Stanza{}, c.readErr()
	}
}

// Next returns the oldest inbound stanza not yet consumed (replies consumed
// by SendIQ and automatically answered pings never show up). Once the
// connection has ended and everything received was returned, it returns an
// error wrapping ErrClientClosed.
func (c *Client) Next(ctx context.Context) (Stanza, error) {
	return c.WaitFor(ctx, func(Stanza) bool { return true })
}

// WaitFor returns the oldest inbound stanza for which match is true and
// consumes it. Stanzas that do not match stay available, in order, to later
// Next and WaitFor calls, so tests can wait for several things in any order
// (use Next to assert an order). match runs on the caller's goroutine; Next
// and WaitFor calls are serialized.
func (c *Client) WaitFor(ctx context.Context, match func(Stanza) bool) (Stanza, error) {
	c.consumer.Lock()
	defer c.consumer.Unlock()
	checked := 0 // inbox[:checked] did not match; only this goroutine removes entries
	for {
		c.mu.Lock()
		for checked < len(c.inbox) {
			st := c.inbox[checked]
			c.mu.Unlock()
			if match(st) {
				c.mu.Lock()
				c.inbox = slices.Delete(c.inbox, checked, checked+1)
				c.mu.Unlock()
				return st, nil
			}
			checked++
			c.mu.Lock()
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-c.done:
			c.mu.Lock()
			more := checked < len(c.inbox)
			c.mu.Unlock()
			if !more {
				return Stanza{}, c.readErr()
			}
		case <-ctx.Done():
			return Stanza{}, fmt.Errorf("xmpptest: waiting for a stanza: %w", ctx.Err())
		}
	}
}

// Close ends the stream (</stream:stream>), waits briefly for the server
// to close its side and closes the connection. It is safe to call more
// than once and on a dead connection.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		select {
		case <-c.done:
		default:
			if c.SendRaw("</stream:stream>") == nil {
				t := time.NewTimer(clientCloseGrace)
				select {
				case <-c.done:
				case <-t.C:
				}
				t.Stop()
			}
		}
		if cerr := c.nc.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		<-c.done
	})
	return err
}

func (c *Client) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func attrEscape(s string) string {
	var b strings.Builder
	escapeAttr(&b, s)
	return b.String()
}
