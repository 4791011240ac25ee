package stream

import (
	"context"
	"hash/maphash"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"gosrc.io/xmpp/stanza"
)

// dispatcher runs the Handler off the read loop on a fixed set of serial
// lanes. A stanza's lane is chosen by hashing its bare from and bare to, so
// the stanzas of one conversation are handled one at a time and in order,
// while different conversations proceed in parallel. The read loop never
// blocks on a slow Handler (it must keep reading IQ replies that Handlers
// may be waiting for), so the lanes' queues are bounded instead: by count
// and bytes per lane (maxLaneBacklog, Config.MaxLaneBytes) and by bytes
// over all lanes (Config.MaxBacklogBytes). A stanza that does not fit is
// not queued: reject answers its sender wait/resource-constraint.
type dispatcher struct {
	h       Handler
	log     *slog.Logger
	seed    maphash.Seed
	lanes   []*lane
	backlog atomic.Int64
	dropped atomic.Int64 // stanzas refused because their lane or the backlog was full
	wg      sync.WaitGroup

	// The byte bounds (0: none) and the bytes queued over all lanes.
	laneBytes, totalBytes int64
	bytes                 atomic.Int64
	// reject, if set, is told of each refused stanza (from the read loop;
	// it must not block).
	reject func(p stanza.Packet)
	// rec, if set, records the stanzas the read loop accepts before they
	// reach dispatchDone (intake.go); handleRecorded is
	// Config.HandleRecorded.
	rec            *recorder
	handleRecorded func(ctx context.Context, p stanza.Packet, done func())
	// admit, if set, decides first whether p is queued at all
	// (Config.Admit); it answers what it refuses.
	admit func(p stanza.Packet) bool
	// handling is the Handlers' context; the lanes stop with it, or once
	// draining is set (Conn.Drain). refuse, if set, then answers what is
	// read and not recorded (drain.go).
	handling context.Context
	draining atomic.Bool
	refuse   func(p stanza.Packet)
}

type lane struct {
	mu    sync.Mutex
	items []laneItem
	bytes int64         // the wire size of items
	wake  chan struct{} // cap 1
}

// laneItem is a queued stanza, its size on the wire and what to call once
// it is handled (Intake.Record's function, or nil).
type laneItem struct {
	p    stanza.Packet
	size int64
	done func()
}

func newDispatcher(h Handler, log *slog.Logger, seed maphash.Seed, n int) *dispatcher {
	d := &dispatcher{h: h, log: log, seed: seed, lanes: make([]*lane, n)}
	for i := range d.lanes {
		d.lanes[i] = &lane{wake: make(chan struct{}, 1)}
	}
	return d
}

// start launches one worker per lane; they stop when ctx is done.
func (d *dispatcher) start(ctx context.Context) {
	d.handling = ctx
	for _, l := range d.lanes {
		d.wg.Add(1)
		go d.work(ctx, l)
	}
}

// wait blocks until every worker has returned (after ctx is done).
func (d *dispatcher) wait() { d.wg.Wait() }

// backlogLen counts the stanzas waiting for a lane, and those waiting to
// be recorded before.
func (d *dispatcher) backlogLen() int {
	n := int(d.backlog.Load())
	if d.rec != nil {
		n += d.rec.backlogLen()
	}
	return n
}

// maxLaneBacklog bounds the number of stanzas in each lane's queue: beyond
// it (or the byte bounds), stanzas are refused rather than held, so that a
// flood from remote users cannot grow the gateway's memory without bound
// while its Handler is slow.
const maxLaneBacklog = 4096

// Defaults of Config.MaxLaneBytes and Config.MaxBacklogBytes.
const (
	DefaultMaxLaneBytes    = 16 << 20
	DefaultMaxBacklogBytes = 128 << 20
)

// dispatch queues p, size bytes on the wire, on its conversation's lane.
// It never blocks; a stanza for a full lane, or one that would take the
// lanes over their byte budget, is refused: counted, logged and handed to
// reject. A stanza always fits an empty lane within the overall budget, so
// a single large stanza is never refused for its size alone.
func (d *dispatcher) dispatch(p stanza.Packet, size int64) {
	if d.admit != nil && !d.stopped() && !d.admit(p) {
		return
	}
	d.dispatchDone(p, size, nil)
}

// dispatchDone is dispatch for a stanza with a done function (nil for
// none), already admitted: done is called once the Handler has returned,
// or once the stanza was refused and its sender told.
func (d *dispatcher) dispatchDone(p stanza.Packet, size int64, done func()) {
	l := d.lanes[d.laneOf(p)]
	l.mu.Lock()
	if d.stopped() {
		// Checked under l.mu: the lane's worker, stopping, takes what
		// was queued before (stopLane).
		l.mu.Unlock()
		d.notHandled(p, done)
		return
	}
	full := len(l.items) >= maxLaneBacklog ||
		(l.bytes > 0 && d.laneBytes > 0 && l.bytes+size > d.laneBytes) ||
		(d.totalBytes > 0 && d.bytes.Load() > 0 && d.bytes.Load()+size > d.totalBytes)
	if full {
		l.mu.Unlock()
		from, _, _ := connAddrs(p)
		if n := d.dropped.Add(1); n&(n-1) == 0 { // log the 1st, 2nd, 4th, 8th... refusal
			d.log.Warn("dispatch lane full: refusing inbound stanzas with resource-constraint",
				slog.Int64("refused", n), slog.String("from", from), slog.Int64("queued_bytes", d.bytes.Load()))
		}
		if d.reject != nil {
			d.reject(p)
		}
		if done != nil {
			done()
		}
		return
	}
	d.backlog.Add(1)
	d.bytes.Add(size)
	l.bytes += size
	l.items = append(l.items, laneItem{p, size, done})
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) laneOf(p stanza.Packet) int {
	from, to, ok := connAddrs(p)
	if !ok {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(d.seed)
	hashLowerASCII(&h, connBare(from))
	h.WriteByte(0)
	hashLowerASCII(&h, connBare(to))
	return int(h.Sum64() % uint64(len(d.lanes)))
}

func (d *dispatcher) work(ctx context.Context, l *lane) {
	defer d.wg.Done()
	var batch []laneItem
	for {
		select {
		case <-ctx.Done():
			d.stopLane(l)
			return
		case <-l.wake:
		}
		if d.draining.Load() {
			d.stopLane(l)
			return
		}
		l.mu.Lock()
		batch, l.items = l.items, batch[:0]
		l.mu.Unlock()
		for i, it := range batch {
			if ctx.Err() != nil || d.draining.Load() {
				// Put the rest back so the shutdown branch counts them.
				l.mu.Lock()
				l.items = append(batch[i:len(batch):len(batch)], l.items...)
				l.mu.Unlock()
				break
			}
			switch {
			case it.done != nil && d.handleRecorded != nil:
				d.callRecorded(ctx, it.p, it.done) // it calls done
			case it.done != nil:
				d.call(ctx, it.p)
				if ctx.Err() == nil {
					// A Handler cut short by the shutdown may not have
					// finished: the stanza stays recorded for the next
					// start.
					it.done()
				}
			default:
				d.call(ctx, it.p)
			}
			d.backlog.Add(-1)
			// The stanza's bytes stay counted until it has been handled:
			// they are held until then.
			l.mu.Lock()
			l.bytes -= it.size
			l.mu.Unlock()
			d.bytes.Add(-it.size)
			batch[i] = laneItem{}
		}
		batch = batch[:0]
		if d.draining.Load() {
			d.stopLane(l)
			return
		}
	}
}

// call runs the Handler, turning a panic into an error log.
func (d *dispatcher) call(ctx context.Context, p stanza.Packet) {
	d.callWith(p, func() { d.h(ctx, p) })
}

// callRecorded runs Config.HandleRecorded, turning a panic into an error
// log (done is then not called: the stanza stays recorded).
func (d *dispatcher) callRecorded(ctx context.Context, p stanza.Packet, done func()) {
	d.callWith(p, func() { d.handleRecorded(ctx, p, done) })
}

// callWith runs f for p, turning a panic into an error log.
func (d *dispatcher) callWith(p stanza.Packet, f func()) {
	defer func() {
		if r := recover(); r != nil {
			from, to, _ := connAddrs(p)
			d.log.Error("handler panicked",
				slog.Any("panic", r),
				slog.String("stanza", p.Name()),
				slog.String("from", from),
				slog.String("to", to),
				slog.String("stack", string(debug.Stack())))
		}
	}()
	f()
}

// connAddrs returns the from and to of the stanza types gosrc decodes.
func connAddrs(p stanza.Packet) (from, to string, ok bool) {
	switch v := p.(type) {
	case stanza.Message:
		return v.From, v.To, true
	case *stanza.Message:
		return v.From, v.To, true
	case stanza.Presence:
		return v.From, v.To, true
	case *stanza.Presence:
		return v.From, v.To, true
	case *stanza.IQ:
		return v.From, v.To, true
	case Undecodable:
		return v.Attrs.From, v.Attrs.To, true
	}
	return "", "", false
}

// connBare strips the resource: everything from the first '/'.
func connBare(j string) string {
	if i := strings.IndexByte(j, '/'); i >= 0 {
		return j[:i]
	}
	return j
}

func hashLowerASCII(h *maphash.Hash, s string) {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		h.WriteByte(b)
	}
}

// admitFunc is Config.Admit as the dispatcher calls it: a refusal is
// written at once, without waiting for room in the outbound queue.
func (c *Conn) admitFunc() func(p stanza.Packet) bool {
	admit := c.cfg.Admit
	if admit == nil {
		return nil
	}
	return func(p stanza.Packet) bool {
		refusal := admit(p)
		if refusal == nil {
			return true
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // Send must not wait for room
		if err := c.Send(ctx, refusal); err != nil {
			c.log.Warn("refusal of an inbound stanza not sent", slog.Any("error", err))
		}
		return false
	}
}

// rejectBusy answers a stanza the dispatcher had no room for with the
// stanza error wait/resource-constraint (RFC 6120 §8.3.3.18), so that its
// sender learns it was not handled and may retry later. Errors and IQ
// results are not answered (RFC 6120 §8.3.1), nor stanzas without a
// sender. It never blocks: with the outbound queue full too, the answer is
// dropped.
func (c *Conn) rejectBusy(p stanza.Packet) {
	c.answerError(p, "wait", "resource-constraint", "The gateway is busy with earlier stanzas; try again later.")
}

// answerError answers p with a stanza error of type errType, condition
// and text, as rejectBusy says; it never blocks.
func (c *Conn) answerError(p stanza.Packet, errType, condition, text string) {
	var kind, from, to, id string
	var typ stanza.StanzaType
	switch v := p.(type) {
	case stanza.Message:
		kind, from, to, id, typ = "message", v.From, v.To, v.Id, v.Type
	case stanza.Presence:
		kind, from, to, id, typ = "presence", v.From, v.To, v.Id, v.Type
	case *stanza.IQ:
		kind, from, to, id, typ = "iq", v.From, v.To, v.Id, v.Type
	case Undecodable:
		kind, from, to, id, typ = v.Kind, v.Attrs.From, v.Attrs.To, v.Attrs.Id, v.Attrs.Type
	default:
		return
	}
	if from == "" || typ == stanza.StanzaType("error") || (kind == "iq" && typ == stanza.StanzaType("result")) {
		return
	}
	var b strings.Builder
	b.WriteString("<" + kind + " type='error' from='" + escapeConnAttr(to) + "' to='" + escapeConnAttr(from) + "'")
	if id != "" {
		b.WriteString(" id='" + escapeConnAttr(id) + "'")
	}
	b.WriteString("><error type='" + errType + "'><" + condition + " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" +
		"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>" + text + "</text></error></" + kind + ">")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // enqueue must not wait for room
	_ = c.enqueue(ctx, []byte(b.String()), nil)
}
