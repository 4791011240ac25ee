package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/media"
)

// discoverRetry is how long the gateway waits before asking the server
// again for an upload service after a failed discovery.
const discoverRetry = 10 * time.Minute

// appFiles puts files from the platform where XMPP clients can fetch them:
// the server's XEP-0363 service when it grants the component slots, else
// the built-in file host.
type appFiles struct {
	cfg    config.FilesConfig
	domain string // the component's JID
	server string // the XMPP server's domain
	log    *slog.Logger
	host   *media.FileHost
	ln     net.Listener
	conn   media.IQSender

	mu         sync.Mutex
	upload     *media.HTTPUpload
	discovered time.Time
}

var _ xmppcomponent.FileUploader = (*appFiles)(nil)

// newAppFiles opens the file host (listening at once, so that its public
// URL is known when it is not configured).
func newAppFiles(cfg config.Config, dataDir string, log *slog.Logger) (*appFiles, error) {
	f := &appFiles{cfg: cfg.Files, domain: cfg.Component.JID, server: cfg.ParentDomain(), log: log}
	if cfg.Files.Listen == "" {
		return f, nil
	}
	ln, err := net.Listen("tcp", cfg.Files.Listen)
	if err != nil {
		return nil, fmt.Errorf("files.listen: %w", err)
	}
	public := cfg.Files.PublicURL
	if public == "" {
		public = "http://" + ln.Addr().String() + "/"
	}
	dir := cfg.Files.Dir
	if !filepath.IsAbs(dir) && dataDir != "" {
		dir = filepath.Join(dataDir, dir)
	}
	host, err := media.NewFileHost(media.FileHostConfig{
		Dir: dir, PublicURL: public, Listen: ln.Addr().String(),
		Expiry: cfg.Files.ExpiryDuration(), Quota: cfg.Files.Quota, MaxFileSize: cfg.Files.MaxFileSize,
		Logger: log.With("part", "filehost"),
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("files: %w", err)
	}
	f.host, f.ln = host, ln
	return f, nil
}

// serve runs the file host until ctx ends.
func (f *appFiles) serve(ctx context.Context) {
	if f.host == nil {
		return
	}
	if err := f.host.ServeListener(ctx, f.ln); err != nil && !errors.Is(err, context.Canceled) {
		f.log.Error("file host stopped", "err", err)
	}
}

func (f *appFiles) close() error {
	if f.host == nil {
		return nil
	}
	return f.host.Close()
}

// serverUpload returns the server's upload service, discovering it on
// first use and again after discoverRetry when there was none.
func (f *appFiles) serverUpload(ctx context.Context) *media.HTTPUpload {
	if !f.cfg.ServerUpload || f.conn == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upload != nil || time.Since(f.discovered) < discoverRetry {
		return f.upload
	}
	f.discovered = time.Now()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	service, maxSize, err := media.Discover(dctx, f.conn, f.domain, f.server)
	if err != nil {
		f.log.Info("no XEP-0363 upload service for the gateway; using the built-in file host", "server", f.server, "err", err)
		return nil
	}
	f.upload = media.NewHTTPUpload(f.conn, f.domain, service, nil)
	f.upload.MaxFileSize = maxSize
	f.log.Info("uploading files through the server", "service", service, "max_file_size", maxSize)
	return f.upload
}

// Upload implements xmppcomponent.FileUploader.
func (f *appFiles) Upload(ctx context.Context, owner ids.Owner, a event.Attachment) (string, error) {
	var up media.Uploader
	switch su := f.serverUpload(ctx); {
	case su != nil && f.host != nil:
		up = media.Fallback{Primary: su, Secondary: f.host}
	case su != nil:
		up = su
	case f.host != nil:
		up = f.host
	default:
		return "", errors.New("no place for files: enable files.listen or files.server_upload")
	}
	rc, err := a.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("read the file from the platform: %w", err)
	}
	defer rc.Close()
	body, size := io.Reader(rc), a.Size
	if size <= 0 {
		// XEP-0363 needs the size first: read it, within the host's limit.
		limit := f.cfg.MaxFileSize
		data, err := io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			return "", fmt.Errorf("read the file from the platform: %w", err)
		}
		if int64(len(data)) > limit {
			return "", fmt.Errorf("%w: more than %d bytes", media.ErrFileTooLarge, limit)
		}
		body, size = bytes.NewReader(data), int64(len(data))
	}
	return up.Upload(ctx, media.Upload{Owner: string(owner), Name: a.Name, MIMEType: a.MIMEType, Size: size, Body: body})
}
