package xmppcomponent

import (
	"context"
	"errors"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// FileUploader stores a file from the platform where the owner's XMPP
// clients can fetch it, and returns its URL. Sender is the platform user
// who sent it (empty for the gateway's own files), so that the uploader
// can bound what one sender stores.
type FileUploader interface {
	Upload(ctx context.Context, owner ids.Owner, sender ids.UserID, a event.Attachment) (url string, err error)
}

// errNoFileHost: files from the platform need somewhere to live.
var errNoFileHost = errors.New("no file host is configured for files from the platform")

// attachmentURL returns where the owner's clients can fetch a platform file.
func (c *Component) attachmentURL(ctx context.Context, owner ids.Owner, sender ids.UserID, a event.Attachment) (string, error) {
	if c.cfg.Uploader == nil {
		if a.URL != "" {
			return a.URL, nil
		}
		return "", errNoFileHost
	}
	if a.Open == nil {
		return "", fmt.Errorf("the platform gave no content for %s", fileLabel(a))
	}
	url, err := c.cfg.Uploader.Upload(ctx, owner, sender, a)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", fileLabel(a), err)
	}
	return url, nil
}
