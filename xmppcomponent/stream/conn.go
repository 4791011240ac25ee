package stream

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gosrc.io/xmpp/stanza"
)

// ErrClosed is returned by Send, SendIQ and WaitConnected once Run has
// returned (or after a second call to Run).
var ErrClosed = errors.New("stream: connection closed")

// Defaults applied by New to zero fields of Config.
const (
	DefaultWriteTimeout = 10 * time.Second
	DefaultMinBackoff   = 100 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	DefaultQueueSize    = 10000
	DefaultWorkers      = 32
	DefaultPingInterval = 15 * time.Second
	DefaultStableAfter  = 10 * time.Second
	// DefaultAckDelay is Config.AckDelay's default.
	DefaultAckDelay = 20 * time.Millisecond
)

// Config configures a Conn.
type Config struct {
	// Addr is the server's component listener, host:port.
	Addr string
	// Domain is the component's JID (e.g. gw.example.test); it is the 'to'
	// of the stream header and the 'from' of the pings the Conn sends.
	Domain string
	// Secret is the shared component secret.
	Secret string
	// Logger receives connection events; nil means slog.Default().
	Logger *slog.Logger
	// WriteTimeout bounds every write to the socket; a write that does not
	// finish in time kills the connection. Default 10s. The handshake as a
	// whole is bounded by twice this value.
	WriteTimeout time.Duration
	// MinBackoff and MaxBackoff bound the jittered exponential delay between
	// connection attempts. Defaults 100ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// StableAfter is how long a connection must stay up before the backoff
	// starts again from MinBackoff. A connection that ends sooner (a
	// handshake that another instance replaces within seconds), or that
	// ends with a conflict stream error, keeps the backoff growing.
	// Default 10s.
	StableAfter time.Duration
	// SecretSetting names, in log messages and in Problem, where the
	// operator sets the secret (e.g. "component.secret"). Default "the
	// component secret".
	SecretSetting string
	// QueueSize is the maximum number of stanzas waiting to be written;
	// Send blocks while the queue is full. The number of written but not yet
	// acknowledged stanzas is bounded by the same value. Default 10000.
	QueueSize int
	// Workers is the number of serial dispatch lanes that run the Handler.
	// Default 32.
	Workers int
	// PingInterval is the keepalive period: an XEP-0199 ping goes to PingTo
	// at least this often, and a ping unanswered for twice this long kills
	// the connection. Default 15s.
	PingInterval time.Duration
	// AckDelay is the shortest gap between two acknowledgement pings: once
	// a burst of writes has drained the queue, its ping waits until
	// AckDelay after the previous ping, so that under load one ping
	// confirms many stanzas (each ping is two more stanzas for the server
	// to route) while the confirmation of a lone stanza comes at most
	// AckDelay plus a round trip after it was written. Default
	// DefaultAckDelay.
	AckDelay time.Duration
	// PingTo is the JID the keepalive and acknowledgement pings are sent to.
	// Default: Domain without its first label (the parent server domain).
	PingTo string
	// PingResource, if set, makes the pings come from Domain/PingResource
	// rather than Domain: a server that spreads a component's stanzas over
	// several connections (ejabberd) may hand a ping's reply to another
	// one, whose reader can tell from the resource whose it is and bring
	// it back (DeliverReply).
	PingResource string
	// MaxStanzaSize is the largest inbound stanza in bytes; a larger one
	// is skipped without being buffered and reaches the Handler as an
	// Undecodable. Default DefaultMaxStanzaSize.
	MaxStanzaSize int64
	// MaxLaneBytes bounds the bytes (as read from the wire) of the inbound
	// stanzas queued on one dispatch lane, and MaxBacklogBytes those on all
	// lanes together. A stanza that does not fit is not handled: its sender
	// gets the stanza error wait/resource-constraint. Defaults
	// DefaultMaxLaneBytes and DefaultMaxBacklogBytes.
	MaxLaneBytes, MaxBacklogBytes int64
	// MayConnect, if set, is asked before each connection attempt; an
	// error fails the attempt, and the supervisor backs off and asks
	// again. A process of a cluster says no once it may have lost the
	// front lease, so that it never replaces the active process's link.
	MayConnect func(ctx context.Context) error
	// Intake, if set, records inbound stanzas as they are read, before
	// they reach the lanes, and is told once each is handled (intake.go):
	// the read loop waits while MaxUnrecorded/2 stanzas wait for a
	// write. nil means nothing is recorded.
	Intake Intake
	// HandleRecorded, if set, handles the stanzas Intake recorded instead
	// of the Handler, and is given their done function to call once each
	// is handled — which may be after it returned, for a stanza it keeps
	// waiting elsewhere — and not at all if it is not handled before the
	// Conn stops. Without it the Handler runs and done is called when it
	// returns.
	HandleRecorded func(ctx context.Context, p stanza.Packet, done func())
	// Admit, if set, is called on the read loop with every stanza bound
	// for the Handler, before it is queued on a dispatch lane, so that
	// what its sender may not do (rates, sizes) is refused before it takes
	// a place in a lane. A non-nil refusal is written instead of handling
	// the stanza (dropped, with a log line, if the outbound queue is
	// full). Admit must be quick and must not block.
	Admit func(p stanza.Packet) (refusal stanza.Packet)
	// OnState, if set, is called (from the supervisor goroutine) every time
	// the link goes up (true) or down (false).
	OnState func(connected bool)
}

// Handler receives every inbound stanza except the IQ results and errors that
// answer the Conn's own SendIQ calls and pings. Stanzas of one conversation
// (same bare from and bare to) are delivered one at a time and in order;
// different conversations are handled in parallel. ctx is the one given to
// Run. Packets are the values stanza.NextPacket produces: stanza.Message and
// stanza.Presence by value, *stanza.IQ by pointer.
type Handler func(ctx context.Context, p stanza.Packet)

// Stats is a snapshot of a Conn's counters.
type Stats struct {
	// Connects counts successful handshakes.
	Connects uint64
	// Disconnects counts established connections that ended.
	Disconnects uint64
	// StanzasIn counts stanzas read from the server (acknowledgement ping
	// replies excluded).
	StanzasIn uint64
	// StanzasOut counts stanzas written to the socket (pings excluded;
	// stanzas re-sent after a reconnect count again).
	StanzasOut uint64
	// Pings counts the XEP-0199 pings written (acknowledgement and
	// keepalive).
	Pings uint64
	// BytesIn and BytesOut count the bytes read and written after the
	// handshakes (pings and their replies included).
	BytesIn, BytesOut uint64
	// Queued is the number of stanzas waiting to be written.
	Queued int
	// InFlight is the number of stanzas written but not yet acknowledged by
	// a ping reply.
	InFlight int
	// Dispatching is the number of inbound stanzas waiting for a Handler
	// lane (not part of the original brief; useful to spot a slow Handler).
	Dispatching int
}

// Conn is an XEP-0114 component connection with its own supervisor: it
// connects, authenticates, reads and dispatches inbound stanzas, writes the
// outbound queue, and reconnects with jittered exponential backoff.
//
// Delivery is at-least-once: stanzas that were written but not yet confirmed
// by the reply to a later ping are re-sent after a reconnect, so in rare
// cases (the connection dies after the server processed a stanza but before
// the ping reply arrived) the server sees a stanza twice.
type Conn struct {
	cfg  Config
	h    Handler
	log  *slog.Logger
	seed maphash.Seed

	mu          sync.Mutex
	q           outQueue
	session     *session      // the current connection's, nil between them
	spaceWanted bool          // a Send waits for room in the queue
	space       chan struct{} // closed (and replaced) when room frees up
	wake        chan struct{} // cap 1: wakes the writer
	started     bool          // Run was called
	ended       bool          // Run returned
	connected   bool
	upSince     time.Time     // when the current connection was established
	problem     error         // see Problem
	up          chan struct{} // closed while connected; replaced on disconnect
	endCh       chan struct{} // closed when Run returns

	iqs    iqTracker
	idBase string
	idSeq  atomic.Uint64

	lanes *dispatcher
	// drained is set by Drain; stopHandling ends the Handlers' context
	// (drain.go).
	drained      bool
	stopHandling context.CancelFunc

	connects, disconnects atomic.Uint64
	stanzasIn, stanzasOut atomic.Uint64
	pingsOut              atomic.Uint64
	bytesIn, bytesOut     atomic.Uint64
}

// New returns a Conn for cfg that delivers inbound stanzas to h (nil h
// drops them). Nothing happens until Run is called; Send may be called
// before that and queues.
func New(cfg Config, h Handler) *Conn {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With(slog.String("component", cfg.Domain), slog.String("addr", cfg.Addr))
	if h == nil {
		h = func(context.Context, stanza.Packet) {}
	}
	return &Conn{
		cfg:    cfg,
		h:      h,
		log:    log,
		seed:   maphash.MakeSeed(),
		space:  make(chan struct{}),
		wake:   make(chan struct{}, 1),
		up:     make(chan struct{}),
		endCh:  make(chan struct{}),
		iqs:    iqTracker{pending: make(map[string]*pendingIQ)},
		idBase: randomIDBase(),
	}
}

func (cfg Config) withDefaults() Config {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.AckDelay <= 0 {
		cfg.AckDelay = DefaultAckDelay
	}
	if cfg.StableAfter <= 0 {
		cfg.StableAfter = DefaultStableAfter
	}
	if cfg.SecretSetting == "" {
		cfg.SecretSetting = "the component secret"
	}
	if cfg.MaxLaneBytes <= 0 {
		cfg.MaxLaneBytes = DefaultMaxLaneBytes
	}
	if cfg.MaxBacklogBytes <= 0 {
		cfg.MaxBacklogBytes = DefaultMaxBacklogBytes
	}
	if cfg.PingTo == "" {
		cfg.PingTo = parentDomain(cfg.Domain)
	}
	return cfg
}

// parentDomain strips the first label: gw.example.test → example.test. A
// single-label domain is returned as is.
func parentDomain(d string) string {
	if i := strings.IndexByte(d, '.'); i >= 0 && i+1 < len(d) {
		return d[i+1:]
	}
	return d
}

// Send serializes p and queues it for writing. It returns once the stanza is
// queued (not written): queued stanzas survive reconnects. If the queue is
// full, Send blocks until there is room or ctx is done (then it returns an
// error wrapping ctx.Err()). After Run has returned it returns ErrClosed.
// p is serialized before Send returns, so the caller may reuse it.
func (c *Conn) Send(ctx context.Context, p stanza.Packet) error {
	data, err := marshalPacket(p)
	if err != nil {
		return err
	}
	return c.enqueue(ctx, data, nil)
}

// SendConfirmed is Send with a confirmation: done is called once the server
// has answered an acknowledgement ping written after the stanza, which
// proves that the server has processed the stanza (routed it to its
// recipient, or to offline storage). done runs on the Conn's read
// goroutine and must not block; it is called at most once, and never if the
// stanza is not confirmed before Run returns. A stanza re-sent after a
// reconnect is confirmed by the reply on the new connection. done is not
// called if SendConfirmed returns an error.
func (c *Conn) SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error {
	data, err := marshalPacket(p)
	if err != nil {
		return err
	}
	return c.enqueue(ctx, data, done)
}

// Connected reports whether the component is currently authenticated with
// the server.
func (c *Conn) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

// WaitConnected blocks until the component is connected, ctx is done (error
// wrapping ctx.Err()) or Run has returned (ErrClosed).
func (c *Conn) WaitConnected(ctx context.Context) error {
	c.mu.Lock()
	up, ended := c.up, c.ended
	c.mu.Unlock()
	if ended {
		return ErrClosed
	}
	select {
	case <-up:
		return nil
	case <-c.endCh:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("stream: waiting for connection: %w", ctx.Err())
	}
}

// Connects is the number of successful handshakes so far: it identifies
// the current connection (it goes up before the first stanza of a new
// connection is read), so state the server grants per connection can be
// tied to it.
func (c *Conn) Connects() uint64 { return c.connects.Load() }

// Stats returns a snapshot of the counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	queued, inflight := c.q.queued(), c.q.inFlight()
	c.mu.Unlock()
	s := Stats{
		Connects:    c.connects.Load(),
		Disconnects: c.disconnects.Load(),
		StanzasIn:   c.stanzasIn.Load(),
		StanzasOut:  c.stanzasOut.Load(),
		Pings:       c.pingsOut.Load(),
		BytesIn:     c.bytesIn.Load(),
		BytesOut:    c.bytesOut.Load(),
		Queued:      queued,
		InFlight:    inflight,
	}
	if d := c.lanesSnapshot(); d != nil {
		s.Dispatching = d.backlogLen()
	}
	return s
}

func (c *Conn) lanesSnapshot() *dispatcher {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lanes
}

// setConnected flips the link state and reports it to OnState. It is only
// called from the supervisor goroutine, so OnState calls are serialized.
// The counters move first: whoever WaitConnected wakes sees them.
func (c *Conn) setConnected(up bool) {
	if up {
		c.connects.Add(1)
	} else {
		c.disconnects.Add(1)
	}
	c.mu.Lock()
	if up {
		c.connected = true
		c.upSince = time.Now()
		close(c.up)
	} else {
		c.connected = false
		c.up = make(chan struct{})
	}
	c.mu.Unlock()
	if c.cfg.OnState != nil {
		c.cfg.OnState(up)
	}
}
