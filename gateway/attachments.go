package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/media"
)

// MediaOptions configure how the hub downloads files that XMPP users send.
type MediaOptions struct {
	// AllowPrivate lets downloads reach loopback and private addresses
	// (tests, or an upload service on the operator's internal network).
	// Off, the hub refuses them: users must not make the gateway probe the
	// operator's network.
	AllowPrivate bool
	// Timeout bounds one download; 0 means media.DefaultTimeout.
	Timeout time.Duration
}

// fetchAttachments makes every attachment of an outbound message readable:
// files that arrive from XMPP as URLs (XEP-0066, XEP-0363) are downloaded,
// capped at the chat's file size limit and checked against its media types,
// before the adapter sees them.
func (g *Gateway) fetchAttachments(ctx context.Context, caps Capabilities, msg *event.Message) error {
	for i := range msg.Attachments {
		a := &msg.Attachments[i]
		if a.Open != nil || a.URL == "" {
			continue
		}
		f := &media.Fetcher{
			MaxSize:      caps.MaxFileSize,
			Timeout:      g.media.Timeout,
			AllowPrivate: g.media.AllowPrivate,
			AllowedTypes: caps.MediaTypes,
		}
		file, err := f.Fetch(ctx, a.URL)
		switch {
		case errors.Is(err, media.ErrTooLarge):
			return fmt.Errorf("the file is larger than the platform's limit of %d bytes: %w", caps.MaxFileSize, ErrNotAcceptable)
		case errors.Is(err, media.ErrUnsupportedType):
			return fmt.Errorf("the platform does not accept this type of file (%v): %w", err, ErrNotAcceptable)
		case errors.Is(err, media.ErrForbiddenAddress), errors.Is(err, media.ErrBadURL), errors.Is(err, media.ErrBadStatus):
			g.log.Info("attachment not downloaded", "err", err)
			return fmt.Errorf("cannot download the file: %v: %w", err, ErrBadRequest)
		case errors.Is(err, media.ErrUnreachable):
			// The user's URL is at fault: no error in the gateway's log.
			g.log.Info("attachment not downloaded", "err", err)
			return fmt.Errorf("cannot download the file: %v: %w", err, ErrRemoteNotFound)
		case errors.Is(err, media.ErrTimeout) && ctx.Err() == nil:
			g.log.Info("attachment not downloaded", "err", err)
			return fmt.Errorf("cannot download the file: %v: %w", err, ErrRemoteTimeout)
		case err != nil:
			return fmt.Errorf("cannot download the file: %w", err)
		}
		a.Name, a.MIMEType, a.Size, a.Open = file.Name, file.MIMEType, file.Size, file.Open
		if a.Kind == "" || a.Kind == event.KindVoice && !isVoice(file.MIMEType) {
			a.Kind = event.KindOf(file.MIMEType)
		}
	}
	return checkAttachments(caps, msg.Attachments)
}

// isVoice reports whether a file of MIME type mimeType can be a voice
// message: Ogg or Opus audio. The XMPP side guesses KindVoice from a URL
// before the file is fetched; a file that turns out otherwise gets the
// kind of its type.
func isVoice(mimeType string) bool {
	base, _, _ := strings.Cut(strings.ToLower(mimeType), ";")
	switch strings.TrimSpace(base) {
	case "audio/ogg", "audio/opus":
		return true
	}
	return false
}
