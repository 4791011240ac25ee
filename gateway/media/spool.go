package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

const (
	// sniffLen is how much of the start of a file is kept to work out its
	// type (http.DetectContentType reads at most 512 bytes).
	sniffLen = 512
	// budgetStep is how many bytes a download of unknown length takes from
	// its Budget at a time.
	budgetStep = 1 << 20
	// copyBuf is the buffer a download is copied through.
	copyBuf = 64 << 10
)

// spool streams body into a new temporary file, refusing more than
// f.MaxSize bytes as soon as they arrive and taking the bytes from
// f.Budget (all of contentLength at once when it is known, else step by
// step). On error nothing is left behind.
func (f *Fetcher) spool(ctx context.Context, body io.Reader, contentLength int64) (_ *File, err error) {
	tmp, err := os.CreateTemp(f.TempDir, "drawbridge-fetch-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file for the download: %w", err)
	}
	file := &File{path: tmp.Name(), budget: f.Budget}
	defer func() {
		if cerr := tmp.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing the download: %w", cerr)
		}
		if err != nil {
			file.Close()
		}
	}()
	if f.Budget != nil && contentLength > 0 {
		if err := f.Budget.take(ctx, contentLength); err != nil {
			return nil, err
		}
		file.reserved = contentLength
	}
	buf := make([]byte, copyBuf)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if file.Size+int64(n) > f.MaxSize {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.MaxSize)
			}
			if f.Budget != nil && file.Size+int64(n) > file.reserved {
				step := max(int64(budgetStep), file.Size+int64(n)-file.reserved)
				step = min(step, f.MaxSize-file.reserved)
				if err := f.Budget.take(ctx, step); err != nil {
					return nil, err
				}
				file.reserved += step
			}
			if len(file.head) < sniffLen {
				file.head = append(file.head, buf[:min(n, sniffLen-len(file.head))]...)
			}
			if _, err := tmp.Write(buf[:n]); err != nil {
				return nil, fmt.Errorf("writing the download: %w", err)
			}
			file.Size += int64(n)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("reading the body: %w", rerr)
		}
	}
	if f.Budget != nil && file.reserved > file.Size {
		// Content-Length said more than came (the read would have
		// failed) or the last step was generous: give the rest back.
		f.Budget.give(file.reserved - file.Size)
		file.reserved = file.Size
	}
	return file, nil
}

// closeOnce is the part of a File that Close changes.
type closeOnce struct {
	once sync.Once
	err  error
}
