package gateway

import (
	"context"
	"fmt"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// fetchPool bounds the downloads of files from XMPP users: at most
// perOwner at once for one owner and global for everybody. An owner waits
// for one of its own slots before it competes for a global one, so one
// owner's downloads hold at most perOwner global slots, and the others'
// downloads never queue behind its backlog.
type fetchPool struct {
	perOwner int
	global   chan struct{}

	mu     sync.Mutex
	owners map[ids.Owner]*ownerSlots
}

// ownerSlots are one owner's download slots; users counts the holders and
// waiters, so that the entry goes when nobody needs it.
type ownerSlots struct {
	slots chan struct{}
	users int
}

func newFetchPool(perOwner, global int) *fetchPool {
	return &fetchPool{perOwner: perOwner, global: make(chan struct{}, global), owners: make(map[ids.Owner]*ownerSlots)}
}

// acquire waits for a slot of owner's and a global one, at most until ctx
// is done; the error then wraps ErrRateLimited. release must be called
// once the download is over.
func (p *fetchPool) acquire(ctx context.Context, owner ids.Owner) (release func(), err error) {
	p.mu.Lock()
	o := p.owners[owner]
	if o == nil {
		o = &ownerSlots{slots: make(chan struct{}, p.perOwner)}
		p.owners[owner] = o
	}
	o.users++
	p.mu.Unlock()
	done := func() {
		p.mu.Lock()
		if o.users--; o.users == 0 {
			delete(p.owners, owner)
		}
		p.mu.Unlock()
	}
	select {
	case o.slots <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, fmt.Errorf("your earlier files are still downloading (at most %d at once): %w", p.perOwner, ErrTooFast)
	}
	select {
	case p.global <- struct{}{}:
	case <-ctx.Done():
		<-o.slots
		done()
		return nil, fmt.Errorf("the gateway is downloading too many files right now (at most %d at once); try again shortly: %w", cap(p.global), ErrRateLimited)
	}
	return func() {
		<-p.global
		<-o.slots
		done()
	}, nil
}
