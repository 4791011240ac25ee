// Package mgmt serves the management API (proto/drawbridge/admin/v1): gRPC
// and, through grpc-gateway, REST/JSON with its OpenAPI document, all on
// one port (HTTP/2 without TLS is accepted, so plain gRPC clients work),
// plus the operations endpoint with Prometheus metrics and health checks.
//
// Both faces call the hub's admin use cases (gateway.Admin), the same ones
// the XMPP administration commands use.
package mgmt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/drawbridge-im/drawbridge/gateway"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// maxRESTBody bounds a REST request's body; the API's requests are small.
const maxRESTBody = 1 << 20

// Options configure the API server.
type Options struct {
	// Admin is the hub's admin use cases. Required.
	Admin *gateway.Admin
	// Listen is host:port (":0" style ports pick a free one).
	Listen string
	Auth   Auth
	// AllowedHosts are names, besides the host of Listen and its loopback
	// forms, that REST requests may carry in Host and Origin
	// (api.allowed_hosts): the names a proxy or an operator uses.
	AllowedHosts []string
	// FlowLimit bounds one LinkAccount stream; 0: DefaultFlowLimit.
	FlowLimit time.Duration
	// Cluster reads the cluster's status for GetClusterStatus; nil: the
	// process runs alone, and the call fails with FAILED_PRECONDITION.
	Cluster ClusterReader
	Logger  *slog.Logger
}

// Server is the API server.
type Server struct {
	opts Options
	log  *slog.Logger
	svc  *service

	mu      sync.Mutex
	ln      net.Listener
	http    *http.Server
	grpc    *grpc.Server
	inner   *bufconn.Listener
	conn    *grpc.ClientConn
	stopCtx context.CancelFunc
	served  chan struct{}
}

// New checks opts (a non-loopback address without credentials is an error
// naming api.token) and returns a server that is not listening yet.
func New(opts Options) (*Server, error) {
	if opts.Admin == nil {
		return nil, errors.New("mgmt: Options.Admin is required")
	}
	if err := opts.Auth.check(opts.Listen); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FlowLimit <= 0 {
		opts.FlowLimit = DefaultFlowLimit
	}
	s := &Server{opts: opts, log: opts.Logger}
	s.svc = &service{admin: opts.Admin, flowLimit: opts.FlowLimit, log: opts.Logger, cluster: opts.Cluster}
	return s, nil
}

// Start listens on Options.Listen and serves in the background until
// Shutdown. Listening errors are returned (naming api.listen).
func (s *Server) Start(ctx context.Context) error {
	tlsConf, err := s.opts.Auth.tlsConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("api.listen: %w", err)
	}
	baseCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))

	// One gRPC server: the outside reaches it through the HTTP server
	// (ServeHTTP), grpc-gateway through an in-memory connection.
	gs := grpc.NewServer(grpc.ChainUnaryInterceptor(s.logUnary), grpc.ChainStreamInterceptor(s.logStream))
	adminv1.RegisterAdminServiceServer(gs, s.svc)
	inner := bufconn.Listen(1 << 20)
	go func() { _ = gs.Serve(inner) }()
	conn, err := grpc.NewClient("passthrough:///drawbridge-admin",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return inner.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		gs.Stop()
		ln.Close()
		return fmt.Errorf("mgmt: REST gateway connection: %w", err)
	}
	rest := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		// The credentials were checked at the door; they go no further.
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			if http.CanonicalHeaderKey(key) == "Authorization" {
				return "", false
			}
			return runtime.DefaultHeaderMatcher(key)
		}),
	)
	if err := adminv1.RegisterAdminServiceHandler(baseCtx, rest, conn); err != nil {
		cancel()
		conn.Close()
		gs.Stop()
		ln.Close()
		return fmt.Errorf("mgmt: REST gateway: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", rest)
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(adminv1.OpenAPI)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	handler := s.guardBrowsers(newBrowserGuard(s.opts.Listen, s.opts.AllowedHosts), s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isGRPC(r) {
			gs.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRESTBody)
		mux.ServeHTTP(w, r)
	})))

	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if tlsConf != nil {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true) // gRPC without TLS: h2c with prior knowledge
	}
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		TLSConfig:         tlsConf,
		Protocols:         &protocols,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.mu.Lock()
	s.ln, s.http, s.grpc, s.inner, s.conn, s.stopCtx = ln, hs, gs, inner, conn, cancel
	s.served = make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.served)
		var err error
		if tlsConf != nil {
			err = hs.ServeTLS(ln, "", "")
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api: server stopped", "err", err)
		}
	}()
	auth := "none (loopback)"
	switch {
	case s.opts.Auth.ClientCA != "" && s.opts.Auth.Token != "":
		auth = "client certificate and bearer token"
	case s.opts.Auth.ClientCA != "":
		auth = "client certificate"
	case s.opts.Auth.Token != "":
		auth = "bearer token"
	}
	s.log.Info("api: listening", "addr", ln.Addr().String(), "tls", tlsConf != nil, "auth", auth)
	if s.opts.Auth.Token != "" && tlsConf == nil && !isLoopback(ln.Addr()) {
		s.log.Warn("api: the bearer token travels in clear text; set api.tls_cert and api.tls_key, or keep the API behind a TLS proxy")
	}
	return nil
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// Addr is the address the server listens on (nil before Start).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown ends every stream (cancelling the login flows they drive),
// waits for requests to finish until ctx is done, then closes.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	hs, gs, conn, cancel, served := s.http, s.grpc, s.conn, s.stopCtx, s.served
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	cancel()
	err := hs.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, hs.Close())
	}
	conn.Close()
	gs.Stop()
	<-served
	return err
}

// logUnary and logStream log every call, without its payload or metadata.
func (s *Server) logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	t0 := time.Now()
	resp, err := h(ctx, req)
	s.logCall(info.FullMethod, t0, err)
	return resp, err
}

func (s *Server) logStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	t0 := time.Now()
	err := h(srv, ss)
	s.logCall(info.FullMethod, t0, err)
	return err
}

func (s *Server) logCall(method string, t0 time.Time, err error) {
	st := status.Convert(err)
	s.log.Debug("api: call", "method", method, "code", st.Code().String(), "duration", time.Since(t0))
}
