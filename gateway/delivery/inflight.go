package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// inflightWait bounds how long an inbound receipt waits for the outbound
// sends of its chat to finish recording their ids.
const inflightWait = 5 * time.Second

// InFlight counts sends in progress per chat, so that a receipt the
// platform emits while SendMessage has not yet recorded the XMPP ↔ platform
// id pair waits for that record instead of naming an id the XMPP client
// never saw. Platforms report receipts on their own goroutines, often before
// the send call has returned. The zero value is ready to use.
type InFlight struct {
	mu    sync.Mutex
	sends map[inflightKey]*inflightChat
}

type inflightKey struct {
	owner ids.Owner
	chat  ids.ChatID
}

type inflightChat struct {
	n    int
	idle chan struct{} // closed when n drops to 0
}

// Begin notes that a send to chat started.
func (f *InFlight) Begin(owner ids.Owner, chat ids.ChatID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sends == nil {
		f.sends = make(map[inflightKey]*inflightChat)
	}
	k := inflightKey{owner, chat}
	c := f.sends[k]
	if c == nil {
		c = &inflightChat{idle: make(chan struct{})}
		f.sends[k] = c
	}
	c.n++
}

// End notes that a send to chat ended (its ids are recorded).
func (f *InFlight) End(owner ids.Owner, chat ids.ChatID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := inflightKey{owner, chat}
	c := f.sends[k]
	if c == nil {
		return
	}
	c.n--
	if c.n == 0 {
		close(c.idle)
		delete(f.sends, k)
	}
}

// Wait returns when no send is in progress in the chat, after inflightWait,
// or when ctx ends, whichever is first.
func (f *InFlight) Wait(ctx context.Context, owner ids.Owner, chat ids.ChatID) {
	f.mu.Lock()
	c := f.sends[inflightKey{owner, chat}]
	f.mu.Unlock()
	if c == nil {
		return
	}
	t := time.NewTimer(inflightWait)
	defer t.Stop()
	select {
	case <-c.idle:
	case <-t.C:
	case <-ctx.Done():
	}
}
