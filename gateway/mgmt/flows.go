package mgmt

import (
	"crypto/rand"
	"encoding/base32"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
)

// flows are the LinkAccount streams in progress, by flow id, so that
// SubmitLoginInput can answer the one waiting for input.
type flows struct {
	mu  sync.Mutex
	all map[string]*flow
}

// flow is one LinkAccount stream. The stream's goroutine owns the login
// run; SubmitLoginInput hands it answers through submit.
type flow struct {
	id     string
	submit chan submission // unbuffered: taken only while waiting
	done   chan struct{}   // closed when the stream ends

	mu      sync.Mutex
	waiting bool // the stream shows an INPUT step and waits for submit
}

// submission is one SubmitLoginInput call.
type submission struct {
	inputs map[string]string
	reply  chan submitResult // buffered, 1
}

type submitResult struct {
	step gateway.LoginStep
	err  error
}

func newFlowID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "lf-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

func (fs *flows) add() *flow {
	f := &flow{id: newFlowID(), submit: make(chan submission), done: make(chan struct{})}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.all == nil {
		fs.all = make(map[string]*flow)
	}
	fs.all[f.id] = f
	return f
}

func (fs *flows) remove(f *flow) {
	fs.mu.Lock()
	delete(fs.all, f.id)
	fs.mu.Unlock()
	close(f.done)
}

func (fs *flows) get(id string) (*flow, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.all[id]
	return f, ok
}

func (f *flow) setWaiting(w bool) {
	f.mu.Lock()
	f.waiting = w
	f.mu.Unlock()
}

func (f *flow) isWaiting() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting
}
