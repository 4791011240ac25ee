package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// openFile gives a file the adapter emitted an Open that streams it from
// the adapter by reference.
func (a *Adapter) openFile(ref string) func(context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		ctx, cancel := context.WithCancel(ctx)
		stream, err := a.client().OpenAttachment(ctx, &adapterv1.OpenAttachmentRequest{Ref: ref})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("remote adapter %s: file %s: %w", a.info.ID, ref, fromRPC(err))
		}
		return &chunkReader{stream: stream, cancel: cancel}, nil
	}
}

type chunkReader struct {
	stream adapterv1.AdapterService_OpenAttachmentClient
	cancel context.CancelFunc
	buf    []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		c, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if err != nil {
			return 0, fmt.Errorf("reading a file from the adapter: %w", fromRPC(err))
		}
		if len(c.GetData()) > chunkSize {
			return 0, fmt.Errorf("file chunk of %d bytes, more than %d: %w", len(c.GetData()), chunkSize, errMalformed)
		}
		r.buf = c.GetData()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	r.cancel()
	return nil
}

// hostFile is the host's side of a file it sends the adapter: its open
// reader and how far the adapter read.
type hostFile struct {
	mu  sync.Mutex
	rc  io.ReadCloser
	off int64
}

// readFile answers an adapter's read of a file the host sends: the chunk
// at off (reads go forward; a read from 0 starts again).
func (a *Adapter) readFile(ctx context.Context, ref string, off int64) ([]byte, bool, error) {
	open, ok := a.files.get(ref)
	if !ok {
		return nil, false, fmt.Errorf("file %q: unknown reference (read only while SendMessage runs): %w", ref, gateway.ErrTargetNotFound)
	}
	a.mu.Lock()
	if a.reading == nil {
		a.reading = map[string]*hostFile{}
	}
	f := a.reading[ref]
	a.mu.Unlock()
	if f == nil || off == 0 && f.off != 0 {
		if f != nil {
			_ = f.rc.Close()
		}
		rc, err := open(ctx)
		if err != nil {
			return nil, false, err
		}
		f = &hostFile{rc: rc}
		a.mu.Lock()
		a.reading[ref] = f
		a.mu.Unlock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if off != f.off {
		return nil, false, fmt.Errorf("file %q read at %d, expected %d (reads go forward): %w", ref, off, f.off, gateway.ErrBadRequest)
	}
	buf := make([]byte, chunkSize)
	n, err := io.ReadFull(f.rc, buf)
	f.off += int64(n)
	eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !eof {
		return nil, false, err
	}
	if eof {
		_ = f.rc.Close()
		a.mu.Lock()
		delete(a.reading, ref)
		a.mu.Unlock()
	}
	return buf[:n], eof, nil
}

// dropFile forgets a file the host sent once its SendMessage returned,
// closing what the adapter left half read.
func (a *Adapter) dropFile(ref string) {
	a.files.drop(ref)
	a.mu.Lock()
	f := a.reading[ref]
	delete(a.reading, ref)
	a.mu.Unlock()
	if f != nil {
		_ = f.rc.Close()
	}
}
