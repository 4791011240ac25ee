package stream

import (
	"context"
	"sync"

	"gosrc.io/xmpp/stanza"
)

// Intake makes inbound stanzas durable between the moment they are read
// and the moment their Handler has returned (Config.Intake): what a
// process that dies in between had read is not lost with it. XEP-0114 has
// no acknowledgement of stanzas the component received, so the server
// cannot re-send them: only the component can keep them.
type Intake interface {
	// Record is given the stanzas read, in order, as a batch: all those
	// read while the previous call ran (group commit), so that it can
	// write them in one go. It returns one function per stanza (nil for
	// those it did not record); the dispatcher calls it once the
	// stanza's Handler has returned, or the stanza was refused with an
	// error to its sender, and not if the Conn stops before. The
	// stanzas reach the dispatch lanes only once Record has returned.
	Record(ctx context.Context, ps []stanza.Packet) []func()
}

// maxRecordBacklog bounds the stanzas read and waiting for Record while
// the previous batch is written: past it the read loop waits, and TCP
// holds the server back, until that write ends. It is what bounds the
// stanzas the component has read and not yet made durable
// (MaxUnrecorded): a crash loses those, like those still in the socket.
const maxRecordBacklog = 64

// MaxUnrecorded is the most stanzas a Conn with an Intake has read from
// its socket and not yet had recorded: one batch being written and one
// waiting. Besides, the reader buffers up to 4 KiB of the stream that
// it has not parsed yet.
const MaxUnrecorded = 2 * maxRecordBacklog

// recorder passes the stanzas the read loop accepts through an Intake on
// their way to the dispatcher, in order, one Record call per batch.
type recorder struct {
	in   Intake
	disp *dispatcher

	mu     sync.Mutex
	room   *sync.Cond // signalled when items shrinks or the recorder stops
	items  []laneItem
	closed bool
	wake   chan struct{} // cap 1
	done   chan struct{} // closed by stop
	wg     sync.WaitGroup
}

func newRecorder(in Intake, disp *dispatcher) *recorder {
	r := &recorder{in: in, disp: disp, wake: make(chan struct{}, 1), done: make(chan struct{})}
	r.room = sync.NewCond(&r.mu)
	return r
}

// accept queues p, size bytes on the wire, for recording; it waits only
// while maxRecordBacklog stanzas already wait.
func (r *recorder) accept(p stanza.Packet, size int64) {
	r.mu.Lock()
	for len(r.items) >= maxRecordBacklog && !r.closed {
		r.room.Wait()
	}
	if r.closed {
		// Only after the last reader ended (Run): not reached.
		r.mu.Unlock()
		r.disp.notHandled(p, nil)
		return
	}
	r.items = append(r.items, laneItem{p: p, size: size})
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) backlogLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.items)
}

// start runs the recording loop until stop: it records everything
// accepted before (Run stops it once the last reader has ended, so that
// what is read while the stream closes is recorded too). ctx is given to
// Record; it should not end before stop.
func (r *recorder) start(ctx context.Context) {
	r.wg.Go(func() {
		for {
			select {
			case <-r.done:
				r.drain(ctx)
				r.mu.Lock()
				r.closed = true
				r.room.Broadcast()
				r.mu.Unlock()
				return
			case <-r.wake:
			}
			r.drain(ctx)
		}
	})
}

// stop ends the recording loop once it has recorded what waits.
func (r *recorder) stop() { close(r.done) }

// wait returns once the recording loop has ended.
func (r *recorder) wait() { r.wg.Wait() }

// drain records and dispatches what waits, batch after batch.
func (r *recorder) drain(ctx context.Context) {
	for {
		r.mu.Lock()
		batch := r.items
		r.items = nil
		r.room.Broadcast()
		r.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		ps := make([]stanza.Packet, len(batch))
		for i, it := range batch {
			ps[i] = it.p
		}
		dones := r.in.Record(ctx, ps)
		for i, it := range batch {
			var done func()
			if i < len(dones) {
				done = dones[i]
			}
			r.disp.dispatchDone(it.p, it.size, done)
		}
	}
}
