package sandbox

import "sync"

// watch tells those who follow the platform (the web page's live updates,
// web_events.go) that something changed: a message, an edit, a
// retraction, a reaction, a receipt, a chat state, a group, a user. It
// says only that, not what: a follower reads the platform again.
type watch struct {
	mu  sync.Mutex
	gen uint64
	ch  chan struct{}
}

// bump marks a change: the channel handed out so far is closed. It takes
// only watch's own lock, so callers may hold p.mu.
func (w *watch) bump() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}

// next returns the current generation and a channel that is closed at
// the next change.
func (w *watch) next() (uint64, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.gen, w.ch
}

// Changes returns a channel that is closed at the platform's next change
// (a message, edit, retraction, reaction, receipt, chat state, group or
// user), and the number of changes so far.
func (p *Platform) Changes() (uint64, <-chan struct{}) { return p.watch.next() }
