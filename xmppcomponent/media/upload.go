package media

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Uploader stores a file where XMPP clients can fetch it and returns its URL.
type Uploader interface {
	Upload(ctx context.Context, f Upload) (url string, err error)
}

// Upload is a file to store.
type Upload struct {
	// Owner is the bare JID of the user the file is for. FileHost records
	// it; HTTPUpload does not use it (the component is the uploader).
	Owner string
	// Sender identifies who sent the file (the platform user), so that
	// FileHost can bound what one sender stores over all owners; empty
	// means unknown (only the owner's share and the quota apply).
	Sender string
	// Name is the file name; it is sanitized, and an extension matching
	// MIMEType is added if it has none. May be empty.
	Name string
	// MIMEType is the file's media type; empty means
	// application/octet-stream.
	MIMEType string
	// Size is the exact length of Body in bytes; required (XEP-0363 needs
	// it before the upload starts).
	Size int64
	// Body is read once, up to Size bytes.
	Body io.Reader
}

// Errors of the uploaders. SlotError and FileHost errors wrap them.
var (
	// ErrFileTooLarge: the file is larger than the service or host accepts.
	ErrFileTooLarge = errors.New("media: file too large")
	// ErrQuota: the service's or host's storage quota is used up.
	ErrQuota = errors.New("media: storage quota exhausted")
	// ErrForbidden: the upload service does not grant slots to the
	// component.
	ErrForbidden = errors.New("media: upload not allowed")
	// ErrNotAcceptable: the service refused this file (its type or name).
	ErrNotAcceptable = errors.New("media: file not acceptable")
	// ErrNoService: the server offers no HTTP upload service to the
	// component.
	ErrNoService = errors.New("media: no HTTP upload service")
	// ErrSizeMismatch: Body was shorter or longer than Size.
	ErrSizeMismatch = errors.New("media: body length differs from the declared size")
)

// Bounds a QuotaError names.
const (
	QuotaHost   = "quota"        // the file host's quota, for everybody together
	QuotaOwner  = "owner share"  // the share of the user the files are for
	QuotaSender = "sender share" // the share of one sender, over all users
)

// QuotaError is ErrQuota from FileHost, with the bound in the way.
type QuotaError struct {
	// Bound is QuotaHost, QuotaOwner or QuotaSender.
	Bound string
	// Used is what the bound already holds, Limit the bound and Need the
	// size of the refused file, in bytes.
	Used, Limit, Need int64
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("%v: %s: %d of %d bytes used, %d more needed", ErrQuota, e.Bound, e.Used, e.Limit, e.Need)
}

// Is makes errors.Is(err, ErrQuota) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// countingReader counts the bytes read through it and notes the end.
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	}
	return n, err
}

// ctxReader fails reads once ctx is done, so that copying a slow body
// stops when the caller gives up.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
