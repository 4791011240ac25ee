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
	// wake has room for one signal: "the queue or the device changed".
	wake chan struct{}
}

func newDevice(account ids.AccountID, token string) *device {
	return &device{token: token, account: account, wake: make(chan struct{}, 1)}
}

// pushLocked appends q to the device's queue. The caller holds Platform.mu.
func (d *device) pushLocked(q queued) {
	if d.revoked || (!q.persistent && !d.online) {
		return
	}
	d.queue = append(d.queue, q)
	d.signal()
}

func (d *device) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// next blocks until the device has an event to emit, the device is
// revoked (errRevoked) or ctx is done.
func (p *Platform) next(ctx context.Context, d *device) (queued, error) {
	for {
		p.mu.Lock()
		if d.revoked {
			p.mu.Unlock()
			return queued{}, errRevoked
		}
		if len(d.queue) > 0 {
			q := d.queue[0]
			d.queue[0] = queued{}
			d.queue = d.queue[1:]
			p.mu.Unlock()
			return q, nil
		}
		p.mu.Unlock()
		select {
		case <-d.wake:
		case <-ctx.Done():
			return queued{}, ctx.Err()
		}
	}
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
