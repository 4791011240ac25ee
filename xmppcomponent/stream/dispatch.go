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
// while different conversations proceed in parallel. Lanes have unbounded
// queues: the read loop never blocks on a slow Handler (it must keep reading
// IQ replies that Handlers may be waiting for).
type dispatcher struct {
	h       Handler
	log     *slog.Logger
	seed    maphash.Seed
	lanes   []*lane
	backlog atomic.Int64
	dropped atomic.Int64 // stanzas dropped because their lane was full
	wg      sync.WaitGroup
}

type lane struct {
	mu    sync.Mutex
	items []stanza.Packet
	wake  chan struct{} // cap 1
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
	for _, l := range d.lanes {
		d.wg.Add(1)
		go d.work(ctx, l)
	}
}

// wait blocks until every worker has returned (after ctx is done).
func (d *dispatcher) wait() { d.wg.Wait() }

func (d *dispatcher) backlogLen() int { return int(d.backlog.Load()) }

// maxLaneBacklog bounds each lane's queue: beyond it, stanzas are dropped
// (and logged) rather than held, so that a flood from remote users cannot
// grow the gateway's memory without bound while its Handler is slow.
const maxLaneBacklog = 4096

// dispatch queues p on its conversation's lane. It never blocks; a stanza
// for a full lane is dropped.
func (d *dispatcher) dispatch(p stanza.Packet) {
	l := d.lanes[d.laneOf(p)]
	l.mu.Lock()
	if len(l.items) >= maxLaneBacklog {
		l.mu.Unlock()
		if n := d.dropped.Add(1); n&(n-1) == 0 { // log the 1st, 2nd, 4th, 8th... drop
			from, _, _ := connAddrs(p)
			d.log.Warn("dispatch lane full: dropping inbound stanzas", slog.Int64("dropped", n), slog.String("from", from))
		}
		return
	}
	d.backlog.Add(1)
	l.items = append(l.items, p)
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
	var batch []stanza.Packet
	for {
		select {
		case <-ctx.Done():
			l.mu.Lock()
			left := len(l.items)
			l.items = nil
			l.mu.Unlock()
			if left > 0 {
				d.backlog.Add(-int64(left))
				d.log.Warn("dropping inbound stanzas not yet handled at shutdown", slog.Int("count", left))
			}
			return
		case <-l.wake:
		}
		l.mu.Lock()
		batch, l.items = l.items, batch[:0]
		l.mu.Unlock()
		for i, p := range batch {
			if ctx.Err() != nil {
				// Put the rest back so the shutdown branch counts them.
				l.mu.Lock()
				l.items = append(batch[i:len(batch):len(batch)], l.items...)
				l.mu.Unlock()
				break
			}
			d.call(ctx, p)
			d.backlog.Add(-1)
			batch[i] = nil
		}
		batch = batch[:0]
	}
}

// call runs the Handler, turning a panic into an error log.
func (d *dispatcher) call(ctx context.Context, p stanza.Packet) {
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
	d.h(ctx, p)
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
