package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"sync"
)

// openFunc returns a file's content, as event.Attachment.Open does.
type openFunc = func(ctx context.Context) (io.ReadCloser, error)

// refTable keeps the Open functions of files by reference id, the newest
// max of them: a reference outlives its event long enough for the other
// side to fetch the file, and the table stays bounded.
type refTable struct {
	mu    sync.Mutex
	max   int
	order []string
	open  map[string]openFunc
}

func newRefTable(max int) *refTable {
	return &refTable{max: max, open: map[string]openFunc{}}
}

// put stores open and returns its new reference.
func (t *refTable) put(open openFunc) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	ref := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open[ref] = open
	t.order = append(t.order, ref)
	for len(t.order) > t.max {
		delete(t.open, t.order[0])
		t.order = t.order[1:]
	}
	return ref
}

func (t *refTable) get(ref string) (openFunc, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.open[ref]
	return o, ok
}

func (t *refTable) drop(ref string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, ref)
}
