package sandbox

import (
	"context"
	"errors"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// errRevoked is what a device's queue returns once the device was unlinked.
var errRevoked = errors.New("sandbox: device was unlinked")

// queued is one event waiting for a device.
type queued struct {
	ev event.Event
	// persistent events (messages, receipts, contact info) wait for an
	// offline device; the others (chat states, presence) are dropped when
	// the device is offline, as a real platform does.
	persistent bool
	// onEmitted, if set, runs after the hub accepted the event.
	onEmitted func()
}

// device is one linked device of an account: what a real platform keeps
// per companion device, including the server-side store of events that
// wait until the device connects.
type device struct {
	token   string
	account ids.AccountID
	queue   []queued
	online  bool
	revoked bool
	// emitter is the connected session's, while it emits (nil otherwise).
	emitter *emitter
}

func newDevice(account ids.AccountID, token string) *device {
	return &device{token: token, account: account}
}

// emitter emits a device's events for one connection of a session. Like
// the bots' queues (scheduleLocked), it runs a goroutine only while there
// is something to emit, or the device was revoked: a connected session
// with nothing to do holds no goroutine. Its fields are guarded by
// Platform.mu.
type emitter struct {
	// run emits until next reports errIdle (next then marks it not
	// running) or the connection ends (run then says so with exited, or
	// with stopEmitting if it ends the connection itself).
	run     func()
	running bool
	// stopping: the connection is ending; run does not start again.
	stopping bool
	// idle is closed once stopping and run is not running. It is made
	// when the emitter stops (stopEmitting): an idle connected session
	// does not hold one.
	idle chan struct{}
}

// errIdle is what next returns when the device's queue is empty: the
// emitter's goroutine ends, and the next event starts it again.
var errIdle = errors.New("sandbox: nothing to emit")

// pushLocked appends q to the device's queue. The caller holds Platform.mu.
func (d *device) pushLocked(q queued) {
	if d.revoked || (!q.persistent && !d.online) {
		return
	}
	d.queue = append(d.queue, q)
	d.signal()
}

// signal starts the emitter's goroutine if it is not running: the queue or
// the device changed. The caller holds Platform.mu.
func (d *device) signal() {
	e := d.emitter
	if e == nil || e.running || e.stopping || (len(d.queue) == 0 && !d.revoked) {
		return
	}
	e.running = true
	go e.run()
}

// startEmitting installs e on the device and starts it if there is
// something to emit.
func (p *Platform) startEmitting(d *device, e *emitter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.stopping {
		return // the connection ended meanwhile
	}
	d.emitter = e
	d.signal()
}

// stopEmitting stops e: it does not start again, and the returned channel
// is closed once its goroutine, if running, has ended (exiting: the caller
// is that goroutine, which ends). It reports false if e was stopped before.
func (p *Platform) stopEmitting(d *device, e *emitter, exiting bool) (<-chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if exiting {
		e.running = false
	}
	if e.stopping {
		if exiting {
			close(e.idle)
		}
		return e.idle, false
	}
	e.stopping, e.idle = true, make(chan struct{})
	if d.emitter == e {
		d.emitter = nil
	}
	if !e.running {
		close(e.idle)
	}
	return e.idle, true
}

// exited records that e's goroutine ended.
func (p *Platform) exited(e *emitter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.running = false
	if e.stopping {
		close(e.idle)
	}
}

// next returns the device's next event; errRevoked once the device was
// unlinked, ctx's error once it is done, and errIdle if the queue is
// empty, in which case e is no longer running (the next event starts it
// again). The caller is e's goroutine.
func (p *Platform) next(ctx context.Context, d *device, e *emitter) (queued, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d.revoked {
		return queued{}, errRevoked
	}
	if err := ctx.Err(); err != nil {
		return queued{}, err
	}
	if len(d.queue) == 0 {
		e.running = false
		if e.stopping {
			close(e.idle)
		}
		return queued{}, errIdle
	}
	q := d.queue[0]
	d.queue[0] = queued{}
	d.queue = d.queue[1:]
	if len(d.queue) == 0 {
		d.queue = nil // the backing array goes with the last event
	}
	return q, nil
}

// requeue puts q back at the head of the device's queue (the hub did not
// take it because the session stopped).
func (p *Platform) requeue(d *device, q queued) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d.revoked || !q.persistent {
		return
	}
	d.queue = append([]queued{q}, d.queue...)
}

// attach marks the device online and puts the contact list and the
// contacts' presence in front of whatever waited for it. That prelude is a
// snapshot of the moment of connecting, so it is not kept for a later
// connection if the device goes offline before it was emitted.
func (p *Platform) attach(d *device) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d.revoked {
		return errRevoked
	}
	d.online = true
	a := p.accounts[d.account]
	if a == nil {
		return errRevoked
	}
	contacts := p.contactsLocked(a)
	prelude := make([]queued, 0, 2*len(contacts)+len(d.queue))
	for _, u := range contacts {
		prelude = append(prelude, queued{ev: p.contactInfoLocked(a.id, u)})
	}
	for _, u := range contacts {
		prelude = append(prelude, queued{ev: p.presenceLocked(a.id, u)})
	}
	d.queue = append(prelude, d.queue...)
	d.signal()
	p.updateOnlineLocked(a)
	return nil
}

// updateOnlineLocked makes a signed-up user available while one of its
// devices is connected, and tells its contacts. Scripted humans keep the
// presence the Platform API gives them.
func (p *Platform) updateOnlineLocked(a *account) {
	u := p.users[ids.UserID(a.id)]
	if u == nil || u.kind != KindAccount {
		return
	}
	online := false
	for _, d := range a.devices {
		online = online || d.online
	}
	if u.available == online {
		return
	}
	if !online {
		u.lastSeen = p.now()
	}
	u.available = online
	p.watch.bump()
	p.broadcastPresenceLocked(u.id)
}

// detach marks the device offline and drops what only matters live.
func (p *Platform) detach(d *device) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d.online = false
	kept := d.queue[:0]
	for _, q := range d.queue {
		if q.persistent {
			kept = append(kept, q)
		}
	}
	clear(d.queue[len(kept):])
	d.queue = kept
	if a := p.accounts[d.account]; a != nil {
		p.updateOnlineLocked(a)
	}
}
