package media

import (
	"context"
	"errors"
	"fmt"
)

// Fallback uploads through Primary and, when Primary fails before reading
// any of the body, through Secondary: typically HTTPUpload first and the
// built-in FileHost second, so that a refused slot (no service, forbidden,
// quota, a file too large for the server, a server that does not answer)
// still gets the file delivered. Once Primary has started reading the body
// the error is returned as is, since the body cannot be read again. A nil
// Primary means Secondary only. Context errors are never retried.
type Fallback struct {
	Primary, Secondary Uploader
}

// Upload implements Uploader.
func (fb Fallback) Upload(ctx context.Context, f Upload) (string, error) {
	if fb.Primary == nil {
		return fb.Secondary.Upload(ctx, f)
	}
	body := &countingReader{r: f.Body}
	f2 := f
	f2.Body = body
	u, err := fb.Primary.Upload(ctx, f2)
	if err == nil || fb.Secondary == nil || body.n > 0 || ctx.Err() != nil ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return u, err
	}
	u, err2 := fb.Secondary.Upload(ctx, f)
	if err2 != nil {
		return "", fmt.Errorf("%w (after the first uploader failed: %v)", err2, err)
	}
	return u, nil
}
