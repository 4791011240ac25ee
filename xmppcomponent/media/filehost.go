package media

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults of FileHostConfig.
const (
	DefaultFileHostListen  = "127.0.0.1:8081"
	DefaultFileExpiry      = 7 * 24 * time.Hour
	DefaultFileHostQuota   = 1 << 30   // 1 GiB
	DefaultMaxFileSize     = 100 << 20 // 100 MiB
	DefaultJanitorInterval = 10 * time.Minute
	fileIDBytes            = 32
	fileIDLen              = 52 // base32 of 32 bytes, unpadded
	dataSuffix, metaSuffix = ".bin", ".json"
	tempPrefix             = ".tmp-"
)

// fileIDEncoding is lower-case base32 without padding.
var fileIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// FileHostConfig configures a FileHost.
type FileHostConfig struct {
	// Dir holds the files and their metadata; required. It is created
	// (mode 0700) if missing.
	Dir string
	// PublicURL is the prefix clients see, e.g.
	// https://files.example.org/drawbridge/ (http or https). A reverse
	// proxy may forward requests with or without its path.
	PublicURL string
	// Listen is the address Serve listens on; default 127.0.0.1:8081.
	Listen string
	// Expiry is how long a file is served; default 7 days.
	Expiry time.Duration
	// Quota bounds the bytes of all stored files; default 1 GiB. When a
	// new file would exceed it, expired files are removed first; if that
	// is not enough the upload fails with ErrQuota (live files are never
	// evicted early: their URLs have been sent).
	Quota int64
	// OwnerQuota bounds the bytes of the stored files of one owner (the
	// user the files are for, Upload.Owner), and SenderQuota those of one
	// sender (Upload.Sender, counted over all owners), so that one sender,
	// or the files sent to one user, cannot fill the host for everybody.
	// 0 means no such share (Quota alone); a share above Quota is bounded
	// by Quota. Uploads without an owner or a sender count against Quota
	// alone.
	OwnerQuota, SenderQuota int64
	// MaxFileSize bounds one file; default 100 MiB, and never more than
	// Quota or a share.
	MaxFileSize int64
	// JanitorInterval is how often expired files are removed; default
	// 10 minutes (never more than Expiry).
	JanitorInterval time.Duration
	// Now is the clock; default time.Now. Tests inject their own.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// FileHost is Drawbridge's built-in HTTP file host: files get unguessable
// URLs (PublicURL + 52 base32 characters of 256 random bits + "/" + the
// sanitized name), are served for Expiry and then removed. Each file is a
// data file and a small JSON sidecar in Dir, so files survive restarts.
//
// Upload implements Uploader; Handler serves the files (GET and HEAD), or
// Serve runs an HTTP server for them on Listen. A janitor goroutine
// removes expired files until Close.
type FileHost struct {
	cfg      FileHostConfig
	base     string // PublicURL with a trailing slash
	basePath string // its path, with a trailing slash
	log      *slog.Logger

	mu       sync.Mutex
	files    map[string]fileMeta
	used     int64 // bytes of stored files
	reserved int64 // bytes of uploads in progress
	// byOwner and bySender count the bytes of stored files and uploads
	// in progress of each owner and sender (entries at 0 are removed).
	byOwner, bySender map[string]int64

	closeOnce sync.Once
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
}

// NewFileHost validates cfg, creates Dir, loads the files stored there
// (removing leftovers of interrupted uploads and expired files) and starts
// the janitor.
func NewFileHost(cfg FileHostConfig) (*FileHost, error) {
	if cfg.Dir == "" {
		return nil, errors.New("media: FileHostConfig.Dir is required")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("media: FileHostConfig.PublicURL %q is not an absolute http(s) URL without query or user", cfg.PublicURL)
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultFileHostListen
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = DefaultFileExpiry
	}
	if cfg.Quota <= 0 {
		cfg.Quota = DefaultFileHostQuota
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	cfg.OwnerQuota, cfg.SenderQuota = max(cfg.OwnerQuota, 0), max(cfg.SenderQuota, 0)
	cfg.MaxFileSize = min(cfg.MaxFileSize, cfg.Quota)
	for _, share := range []int64{cfg.OwnerQuota, cfg.SenderQuota} {
		if share > 0 {
			cfg.MaxFileSize = min(cfg.MaxFileSize, share)
		}
	}
	if cfg.JanitorInterval <= 0 {
		cfg.JanitorInterval = DefaultJanitorInterval
	}
	cfg.JanitorInterval = min(cfg.JanitorInterval, cfg.Expiry)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := privateDir(cfg.Dir, cfg.Logger); err != nil {
		return nil, err
	}
	h := &FileHost{
		cfg:      cfg,
		log:      cfg.Logger.With(slog.String("filehost", cfg.Dir)),
		files:    map[string]fileMeta{},
		byOwner:  map[string]int64{},
		bySender: map[string]int64{},
		done:     make(chan struct{}),
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	u.RawPath = ""
	h.base, h.basePath = u.String(), u.Path
	if err := h.load(); err != nil {
		return nil, err
	}
	if _, err := h.RemoveExpired(); err != nil {
		h.log.Warn("removing expired files", slog.Any("error", err))
	}
	h.wg.Add(1)
	go h.janitor()
	return h, nil
}

// Close stops the janitor and every Serve, and waits for the janitor to
// end. Uploads in progress finish; the stored files stay on disk.
func (h *FileHost) Close() error {
	h.closeOnce.Do(func() { close(h.done) })
	h.wg.Wait()
	return nil
}

// MaxFileSize is the largest file Upload accepts.
func (h *FileHost) MaxFileSize() int64 { return h.cfg.MaxFileSize }

// Usage returns the bytes stored (uploads in progress included) and the
// quota.
func (h *FileHost) Usage() (used, quota int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.used + h.reserved, h.cfg.Quota
}

// Upload stores f and returns its public URL. It fails with
// ErrFileTooLarge, ErrQuota (a *QuotaError says which bound: the host's
// quota, the owner's or the sender's share) or ErrSizeMismatch (errors
// wrap them), or with
// ctx's error. The data is written to a temporary file and renamed into
// place, and the metadata sidecar is written last, so an interrupted
// upload leaves nothing that is served.
func (h *FileHost) Upload(ctx context.Context, f Upload) (string, error) {
	if f.Size < 0 || f.Body == nil {
		return "", errors.New("media: an Upload needs a Body and a Size >= 0")
	}
	if f.Size > h.cfg.MaxFileSize {
		return "", fmt.Errorf("%w: %d bytes, the file host accepts %d", ErrFileTooLarge, f.Size, h.cfg.MaxFileSize)
	}
	if err := h.reserve(f.Owner, f.Sender, f.Size); err != nil {
		return "", err
	}
	committed := false
	defer func() {
		if !committed {
			h.mu.Lock()
			h.reserved -= f.Size
			h.count(f.Owner, f.Sender, -f.Size)
			h.mu.Unlock()
		}
	}()
	id, err := newFileID()
	if err != nil {
		return "", err
	}
	now := h.cfg.Now()
	m := fileMeta{
		Name:    safeName(f.Name, f.MIMEType),
		Type:    mediaType(f.MIMEType),
		Size:    f.Size,
		Owner:   f.Owner,
		Sender:  f.Sender,
		Created: now.UTC(),
		Expires: now.Add(h.cfg.Expiry).UTC(),
	}
	if err := h.writeData(ctx, id, f); err != nil {
		return "", err
	}
	if err := h.writeMeta(id, m); err != nil {
		_ = os.Remove(h.path(id, dataSuffix))
		return "", err
	}
	h.mu.Lock()
	h.reserved -= f.Size
	h.used += f.Size
	h.files[id] = m
	h.mu.Unlock()
	committed = true
	h.log.DebugContext(ctx, "file stored", slog.String("id", id[:8]), slog.Int64("size", f.Size), slog.String("type", m.Type))
	return h.base + id + "/" + url.PathEscape(m.Name), nil
}

// reserve books size bytes of the quota and of the owner's and the
// sender's shares, removing expired files first if they are in the way.
func (h *FileHost) reserve(owner, sender string, size int64) error {
	for attempt := 0; ; attempt++ {
		h.mu.Lock()
		err := h.fits(owner, sender, size)
		if err == nil {
			h.reserved += size
			h.count(owner, sender, size)
			h.mu.Unlock()
			return nil
		}
		h.mu.Unlock()
		if attempt > 0 {
			return err
		}
		if _, err := h.RemoveExpired(); err != nil {
			h.log.Warn("removing expired files", slog.Any("error", err))
		}
	}
}

// fits returns nil if size more bytes fit in the quota and the shares of
// owner and sender, else a *QuotaError naming the first bound in the way.
// h.mu is held.
func (h *FileHost) fits(owner, sender string, size int64) error {
	if owner != "" && h.cfg.OwnerQuota > 0 && h.byOwner[owner]+size > h.cfg.OwnerQuota {
		return &QuotaError{Bound: QuotaOwner, Used: h.byOwner[owner], Limit: h.cfg.OwnerQuota, Need: size}
	}
	if sender != "" && h.cfg.SenderQuota > 0 && h.bySender[sender]+size > h.cfg.SenderQuota {
		return &QuotaError{Bound: QuotaSender, Used: h.bySender[sender], Limit: h.cfg.SenderQuota, Need: size}
	}
	if used := h.used + h.reserved; used+size > h.cfg.Quota {
		return &QuotaError{Bound: QuotaHost, Used: used, Limit: h.cfg.Quota, Need: size}
	}
	return nil
}

// count adds delta bytes to owner's and sender's usage. h.mu is held.
func (h *FileHost) count(owner, sender string, delta int64) {
	add := func(m map[string]int64, key string) {
		if key == "" {
			return
		}
		if m[key] += delta; m[key] <= 0 {
			delete(m, key)
		}
	}
	add(h.byOwner, owner)
	add(h.bySender, sender)
}

// ShareUsage returns the bytes stored (uploads in progress included) for
// owner and from sender, and their shares (0: none).
func (h *FileHost) ShareUsage(owner, sender string) (ownerUsed, ownerQuota, senderUsed, senderQuota int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byOwner[owner], h.cfg.OwnerQuota, h.bySender[sender], h.cfg.SenderQuota
}

// writeData copies exactly f.Size bytes of f.Body to the file's data path.
func (h *FileHost) writeData(ctx context.Context, id string, f Upload) (err error) {
	tmp, err := os.CreateTemp(h.cfg.Dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("media: storing a file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(ctxReader{ctx, f.Body}, f.Size+1))
	if err != nil {
		return fmt.Errorf("media: storing a file: %w", err)
	}
	if n != f.Size {
		return fmt.Errorf("%w: %d bytes declared, %s", ErrSizeMismatch, f.Size, sizeRead(n, f.Size))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("media: storing a file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("media: storing a file: %w", err)
	}
	if err := os.Rename(tmp.Name(), h.path(id, dataSuffix)); err != nil {
		return fmt.Errorf("media: storing a file: %w", err)
	}
	return nil
}

func sizeRead(n, size int64) string {
	if n > size {
		return "the body is longer"
	}
	return fmt.Sprintf("the body had %d", n)
}

// path is the file of id with the given suffix.
func (h *FileHost) path(id, suffix string) string {
	return filepath.Join(h.cfg.Dir, id+suffix)
}

// newFileID returns 256 random bits in lower-case base32.
func newFileID() (string, error) {
	var b [fileIDBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("media: random file id: %w", err)
	}
	return fileIDEncoding.EncodeToString(b[:]), nil
}

// validFileID reports whether s has the shape of an id (so it is safe as a
// file name).
func validFileID(s string) bool {
	if len(s) != fileIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// privateDir creates dir readable by its owner only (0700), or takes
// group and other permissions away from an existing one: its listing
// would give other local users the capability URLs of every file.
func privateDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("media: creating the file host directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("media: the file host directory: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		if err := os.Chmod(dir, m&0o700); err != nil {
			return fmt.Errorf("media: the file host directory %s is open to other users (%v) and cannot be restricted: %w", dir, m, err)
		}
		log.Warn("media: the file host directory was open to other users; restricted it to its owner", "dir", dir, "was", m.String())
	}
	return nil
}
