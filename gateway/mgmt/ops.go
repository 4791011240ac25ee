package mgmt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"
)

// ReadyTimeout bounds one readiness check.
const ReadyTimeout = 3 * time.Second

// OpsOptions configure the operations endpoint.
type OpsOptions struct {
	// Listen is host:port.
	Listen string
	// Metrics serves /metrics; nil: 404.
	Metrics http.Handler
	// Ready decides /readyz: nil error means ready.
	Ready func(ctx context.Context) error
	// Profiling also serves /debug/pprof/ (net/http/pprof).
	Profiling bool
	Logger    *slog.Logger
}

// OpsHandler serves /metrics, /healthz (200 while the process serves
// HTTP) and /readyz (200 when Ready says so, 503 with the reason if not).
// With profiling it also serves Go's runtime profiles under /debug/pprof/.
func OpsHandler(metrics http.Handler, ready func(ctx context.Context) error, profiling bool) http.Handler {
	mux := http.NewServeMux()
	if profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "not ready:", err)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// OpsServer serves OpsHandler on its own port.
type OpsServer struct {
	opts OpsOptions

	mu     sync.Mutex
	ln     net.Listener
	hs     *http.Server
	served chan struct{}
}

// NewOps returns an operations server that is not listening yet.
func NewOps(opts OpsOptions) *OpsServer {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &OpsServer{opts: opts}
}

// Start listens and serves in the background until Shutdown.
func (o *OpsServer) Start() error {
	ln, err := net.Listen("tcp", o.opts.Listen)
	if err != nil {
		return fmt.Errorf("metrics.listen: %w", err)
	}
	hs := &http.Server{
		Handler:           OpsHandler(o.opts.Metrics, o.opts.Ready, o.opts.Profiling),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.opts.Logger.Handler(), slog.LevelDebug),
	}
	o.mu.Lock()
	o.ln, o.hs, o.served = ln, hs, make(chan struct{})
	o.mu.Unlock()
	go func() {
		defer close(o.served)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.opts.Logger.Error("metrics: server stopped", "err", err)
		}
	}()
	o.opts.Logger.Info("metrics: listening", "addr", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	return nil
}

// Addr is the address the server listens on (nil before Start).
func (o *OpsServer) Addr() net.Addr {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln == nil {
		return nil
	}
	return o.ln.Addr()
}

// Shutdown stops the server, waiting for requests until ctx is done.
func (o *OpsServer) Shutdown(ctx context.Context) error {
	o.mu.Lock()
	hs, served := o.hs, o.served
	o.mu.Unlock()
	if hs == nil {
		return nil
	}
	err := hs.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, hs.Close())
	}
	<-served
	return err
}
