package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Timeouts of the file host's own HTTP server.
const (
	fileHostReadHeaderTimeout = 10 * time.Second
	fileHostIdleTimeout       = 2 * time.Minute
	fileHostShutdownTimeout   = 5 * time.Second
)

// Handler serves the stored files: GET and HEAD of <prefix>/<id>/<name>,
// where prefix is PublicURL's path (or nothing, for a proxy that strips
// it). Unknown, expired or misnamed files are 404. Responses carry the
// stored Content-Type, Content-Disposition (inline for raster images,
// audio, video and plain text, attachment otherwise),
// X-Content-Type-Options: nosniff, and a Content-Security-Policy that
// forbids scripts, plugins and framing (and sandboxes everything that is
// not shown inline). Ranges and conditional requests are supported.
func (h *FileHost) Handler() http.Handler { return http.HandlerFunc(h.serveFile) }

func (h *FileHost) serveFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, h.basePath); ok {
		p = rest
	} else {
		p = strings.TrimPrefix(p, "/")
	}
	id, name, ok := strings.Cut(p, "/")
	if !ok || !validFileID(id) {
		http.NotFound(w, r)
		return
	}
	m, ok := h.lookup(id)
	if !ok || name != m.Name {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(h.path(id, dataSuffix))
	if err != nil {
		// Removed by the janitor between lookup and open.
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", m.Type)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Access-Control-Allow-Origin", "*")
	csp := "default-src 'none'; frame-ancestors 'none'"
	disposition := "inline"
	if !inlineType(m.Type) {
		csp += "; sandbox"
		disposition = "attachment"
	}
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Content-Disposition", disposition+"; filename*=UTF-8''"+url.PathEscape(m.Name))
	if left := m.Expires.Sub(h.cfg.Now()); left > 0 {
		hd.Set("Cache-Control", "private, max-age="+strconv.FormatInt(int64(left/time.Second), 10))
	}
	http.ServeContent(w, r, "", m.Created, f)
}

// Serve listens on the configured Listen address and serves Handler until
// ctx ends or Close is called; it then shuts the server down gracefully and
// returns nil.
func (h *FileHost) Serve(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", h.cfg.Listen)
	if err != nil {
		return fmt.Errorf("media: file host: %w", err)
	}
	return h.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener of the caller's (which it closes).
func (h *FileHost) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           h.Handler(),
		ReadHeaderTimeout: fileHostReadHeaderTimeout,
		IdleTimeout:       fileHostIdleTimeout,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
	}
	stopped := make(chan struct{})
	failed := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-h.done:
		case <-failed:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), fileHostShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	}()
	h.log.InfoContext(ctx, "file host listening", slog.String("addr", ln.Addr().String()), slog.String("public_url", h.base))
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	// Serve failed on its own: stop the watcher.
	close(failed)
	<-stopped
	srv.Close()
	return fmt.Errorf("media: file host: %w", err)
}
