package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/media"
)

// MediaOptions configure how the hub downloads files that XMPP users send.
type MediaOptions struct {
	// AllowPrivate lets downloads reach loopback and private addresses
	// (tests, or an upload service on the operator's internal network).
	// Off, the hub refuses them: users must not make the gateway probe the
	// operator's network.
	AllowPrivate bool
	// Timeout bounds one download, from connecting to the last byte; 0
	// means media.DefaultTimeout.
	Timeout time.Duration
	// ConnectTimeout bounds connecting to the file's host; 0 means
	// media.DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// TempDir is where downloads are kept until the platform has them; ""
	// means os.TempDir().
	TempDir string
	// InFlightBytes bounds the bytes of all downloaded files not yet
	// passed on, together (0: DefaultInFlightBytes). A download that finds
	// it used up waits up to BudgetWait for room, then is refused
	// (ErrRateLimited); a file larger than it is refused at once.
	InFlightBytes int64
	// BudgetWait is how long a download waits for room in InFlightBytes;
	// 0 means DefaultBudgetWait.
	BudgetWait time.Duration
	// PerOwner bounds the downloads of one owner at once, and Global those
	// of everybody (0: DefaultFetchesPerOwner, DefaultFetches).
	PerOwner, Global int
}

// Defaults of MediaOptions.
const (
	DefaultInFlightBytes   = 256 << 20
	DefaultBudgetWait      = 10 * time.Second
	DefaultFetchesPerOwner = 2
	DefaultFetches         = 16
)

func (o MediaOptions) withDefaults() MediaOptions {
	if o.Timeout <= 0 {
		o.Timeout = media.DefaultTimeout
	}
	if o.InFlightBytes <= 0 {
		o.InFlightBytes = DefaultInFlightBytes
	}
	if o.BudgetWait <= 0 {
		o.BudgetWait = DefaultBudgetWait
	}
	if o.PerOwner <= 0 {
		o.PerOwner = DefaultFetchesPerOwner
	}
	if o.Global <= 0 {
		o.Global = DefaultFetches
	}
	return o
}

// releaseNothing is the release of a message with nothing to download.
func releaseNothing() {}

// needsFetch reports whether fetchAttachments has anything to download
// for msg.
func needsFetch(msg *event.Message) bool {
	for i := range msg.Attachments {
		if a := &msg.Attachments[i]; a.Open == nil && a.URL != "" {
			return true
		}
	}
	return false
}

// fetchAttachments makes every attachment of an outbound message readable:
// files that arrive from XMPP as URLs (XEP-0066, XEP-0363) are downloaded,
// capped at the chat's file size limit and checked against its media types,
// before the adapter sees them. Downloads take a slot of owner's and a
// global one (fetchPool) and their bytes from the in-flight budget.
//
// release removes the downloaded files and sets those attachments' Open
// back to nil (a later attempt downloads them again); it must be called
// once the adapter is done with the message, also on error.
func (g *Gateway) fetchAttachments(ctx context.Context, owner ids.Owner, caps Capabilities, msg *event.Message) (release func(), err error) {
	if !needsFetch(msg) {
		return releaseNothing, nil // the common case, without allocations
	}
	var files []*media.File
	var fetched []int
	release = func() {
		for _, f := range files {
			if err := f.Close(); err != nil {
				g.log.Warn("downloaded file not removed", "err", err)
			}
		}
		for _, i := range fetched {
			msg.Attachments[i].Open = nil
		}
		files, fetched = nil, nil
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	for i := range msg.Attachments {
		a := &msg.Attachments[i]
		if a.Open != nil || a.URL == "" {
			continue
		}
		file, err := g.fetch(ctx, owner, caps, a.URL)
		if err != nil {
			return release, err
		}
		files, fetched = append(files, file), append(fetched, i)
		a.Name, a.MIMEType, a.Size, a.Open = file.Name, file.MIMEType, file.Size, file.Open
		if a.Kind == "" || a.Kind == event.KindVoice && !isVoice(file.MIMEType) {
			a.Kind = event.KindOf(file.MIMEType)
		}
	}
	return release, checkAttachments(caps, msg.Attachments)
}

// fetch downloads one file for owner, mapping the download's errors to the
// hub's.
func (g *Gateway) fetch(ctx context.Context, owner ids.Owner, caps Capabilities, url string) (*media.File, error) {
	wctx, cancel := context.WithTimeout(ctx, g.media.Timeout)
	done, err := g.fetches.acquire(wctx, owner)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	defer done()
	f := &media.Fetcher{
		MaxSize:        caps.MaxFileSize,
		Timeout:        g.media.Timeout,
		ConnectTimeout: g.media.ConnectTimeout,
		TempDir:        g.media.TempDir,
		Budget:         g.budget,
		AllowPrivate:   g.media.AllowPrivate,
		AllowedTypes:   caps.MediaTypes,
	}
	file, err := f.Fetch(ctx, url)
	switch {
	case errors.Is(err, media.ErrBusy):
		g.log.Warn("attachment not downloaded: the in-flight budget is used up", "owner", owner, "err", err)
		return nil, fmt.Errorf("the gateway is downloading too many files right now (%d MiB at once); try again shortly: %w", g.budget.Max()>>20, ErrRateLimited)
	case errors.Is(err, media.ErrTooLarge) && caps.MaxFileSize > g.budget.Max():
		return nil, fmt.Errorf("the file is larger than the platform's limit of %d bytes or than the gateway downloads at once (%d bytes): %w", caps.MaxFileSize, g.budget.Max(), ErrNotAcceptable)
	case errors.Is(err, media.ErrTooLarge):
		return nil, fmt.Errorf("the file is larger than the platform's limit of %d bytes: %w", caps.MaxFileSize, ErrNotAcceptable)
	case errors.Is(err, media.ErrUnsupportedType):
		return nil, fmt.Errorf("the platform does not accept this type of file (%v): %w", err, ErrNotAcceptable)
	case errors.Is(err, media.ErrForbiddenAddress), errors.Is(err, media.ErrBadURL), errors.Is(err, media.ErrBadStatus):
		g.log.Info("attachment not downloaded", "err", err)
		return nil, fmt.Errorf("cannot download the file: %v: %w", err, ErrBadRequest)
	case errors.Is(err, media.ErrUnreachable):
		// The user's URL is at fault: no error in the gateway's log.
		g.log.Info("attachment not downloaded", "err", err)
		return nil, fmt.Errorf("cannot download the file: %v: %w", err, ErrRemoteNotFound)
	case errors.Is(err, media.ErrTimeout) && ctx.Err() == nil:
		g.log.Info("attachment not downloaded", "err", err)
		return nil, fmt.Errorf("cannot download the file: %v: %w", err, ErrRemoteTimeout)
	case err != nil:
		return nil, fmt.Errorf("cannot download the file: %w", err)
	}
	return file, nil
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
