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

	"github.com/drawbridge-im/drawbridge/gateway"
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
	cfg     config.FilesConfig
	domain  string // the component's JID
	server  string // the XMPP server's domain
	log     *slog.Logger
	conn    media.IQSender
	dataDir string
	done    chan struct{}

	mu         sync.Mutex
	host       *media.FileHost
	ln         net.Listener
	upload     *media.HTTPUpload
	discovered time.Time
}

var _ xmppcomponent.FileUploader = (*appFiles)(nil)

// newAppFiles prepares the file host; start opens it.
func newAppFiles(cfg config.Config, dataDir string, log *slog.Logger) *appFiles {
	f := &appFiles{cfg: cfg.Files, domain: cfg.PrimaryJID(), server: cfg.ParentDomain(), log: log, dataDir: dataDir}
	return f
}

// start opens the file host's listener (so that its public URL is known
// when none is configured) and serves it until ctx ends.
func (f *appFiles) start(ctx context.Context) error {
	if f.cfg.Listen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", f.cfg.Listen)
	if err != nil {
		return fmt.Errorf("files.listen: %w", err)
	}
	public := f.cfg.PublicURL
	if public == "" {
		public = "http://" + ln.Addr().String() + "/"
	}
	dir := f.cfg.Dir
	if !filepath.IsAbs(dir) && f.dataDir != "" {
		dir = filepath.Join(f.dataDir, dir)
	}
	host, err := media.NewFileHost(media.FileHostConfig{
		Dir: dir, PublicURL: public, Listen: ln.Addr().String(),
		Expiry: f.cfg.ExpiryDuration(), Quota: int64(f.cfg.Quota), MaxFileSize: int64(f.cfg.MaxFileSize),
		OwnerQuota: int64(f.cfg.OwnerQuota), SenderQuota: int64(f.cfg.SenderQuota),
		Logger: f.log.With("part", "filehost"),
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("files: %w", err)
	}
	f.mu.Lock()
	f.host, f.ln = host, ln
	f.mu.Unlock()
	f.done = make(chan struct{})
	go func() {
		defer close(f.done)
		if err := host.ServeListener(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			f.log.Error("file host stopped", "err", err)
		}
	}()
	return nil
}

// fileHost returns the running file host, or nil.
func (f *appFiles) fileHost() *media.FileHost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.host
}

// close stops the file host; the context given to start must be done.
func (f *appFiles) close() error {
	h := f.fileHost()
	if h == nil {
		return nil
	}
	<-f.done
	return h.Close()
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
func (f *appFiles) Upload(ctx context.Context, owner ids.Owner, sender ids.UserID, a event.Attachment) (string, error) {
	var up media.Uploader
	switch su, host := f.serverUpload(ctx), f.fileHost(); {
	case su != nil && host != nil:
		up = media.Fallback{Primary: su, Secondary: host}
	case su != nil:
		up = su
	case host != nil:
		up = host
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
		limit := int64(f.cfg.MaxFileSize)
		data, err := io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			return "", fmt.Errorf("read the file from the platform: %w", err)
		}
		if int64(len(data)) > limit {
			return "", fmt.Errorf("%w: more than %d bytes", media.ErrFileTooLarge, limit)
		}
		body, size = bytes.NewReader(data), int64(len(data))
	}
	url, err := up.Upload(ctx, media.Upload{Owner: string(owner), Sender: string(sender), Name: a.Name, MIMEType: a.MIMEType, Size: size, Body: body})
	if err != nil {
		return "", f.explainUpload(err)
	}
	return url, nil
}

// explainUpload gives the file host's refusals the sentence the user sees
// in the chat: for a quota, whose share is used up and when space comes
// back.
func (f *appFiles) explainUpload(err error) error {
	var q *media.QuotaError
	if !errors.As(err, &q) {
		if errors.Is(err, media.ErrFileTooLarge) {
			return gateway.Explain(fmt.Sprintf("it is larger than the gateway's file host accepts (%s, files.max_file_size)", mib(int64(f.cfg.MaxFileSize))), err)
		}
		return err
	}
	var whose string
	switch q.Bound {
	case media.QuotaOwner:
		whose = fmt.Sprintf("your share of the gateway's file storage (%s, files.owner_quota) is used up", mib(q.Limit))
	case media.QuotaSender:
		whose = fmt.Sprintf("the sender's share of the gateway's file storage (%s, files.sender_quota) is used up: they sent more files than it holds", mib(q.Limit))
	default:
		whose = fmt.Sprintf("the gateway's file storage (%s, files.quota) is full", mib(q.Limit))
	}
	return gateway.Explain(fmt.Sprintf("%s; files are kept for %s, and space comes back as they expire", whose, spanText(f.cfg.ExpiryDuration())), err)
}

// spanText writes d in days or hours when it is whole ones.
func spanText(d time.Duration) string {
	switch day := 24 * time.Hour; {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

// mib writes a byte count in GiB or MiB.
func mib(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
