package remote

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// Off loopback, the adapter connection must be private and both ends
// must know each other: TLS, and the gateway authenticated by a client
// certificate (mutual TLS) or a token. A token without TLS would travel
// in clear.
var (
	// ErrNeedTLS: an address off loopback without TLS.
	ErrNeedTLS = errors.New("TLS is required for an address other than loopback (a token alone would travel in clear)")
	// ErrNeedGatewayAuth: an address off loopback with TLS but neither a
	// client certificate (mutual TLS) nor a token to authenticate the
	// gateway.
	ErrNeedGatewayAuth = errors.New("off loopback the gateway must authenticate: with a client certificate (mutual TLS) or a token")
)

// checkDial applies the rule above to the host side.
func checkDial(addr, token string, tc *tls.Config) error {
	switch {
	case config.LoopbackAddr(addr):
		return nil
	case tc == nil:
		return ErrNeedTLS
	case token == "" && !hasClientCert(tc):
		return ErrNeedGatewayAuth
	}
	return nil
}

// checkServe applies the rule above to the adapter side.
func checkServe(addr, token string, tc *tls.Config) error {
	switch {
	case config.LoopbackAddr(addr):
		return nil
	case tc == nil:
		return ErrNeedTLS
	case token == "" && tc.ClientCAs == nil:
		return ErrNeedGatewayAuth
	}
	return nil
}

// DialOption configures [Dial].
type DialOption func(*dialTransport)

// WithTLS makes the connection TLS with c: RootCAs (nil: the system's)
// verify the adapter's certificate against ServerName (empty: the host
// of the address), and a certificate in Certificates authenticates the
// gateway to an adapter that requires one (mutual TLS).
func WithTLS(c *tls.Config) DialOption {
	return func(t *dialTransport) { t.tls = c }
}

// tokenCreds puts the bearer token on every call.
type tokenCreds struct{ token string }

func (c tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + c.token}, nil
}

func (tokenCreds) RequireTransportSecurity() bool { return false }

// dialTransport reaches an adapter served at an address.
type dialTransport struct {
	addr, token string
	tls         *tls.Config

	mu sync.Mutex
	cc *grpc.ClientConn
}

func (t *dialTransport) dial() error {
	creds := insecure.NewCredentials()
	if t.tls != nil {
		c := t.tls.Clone()
		if c.MinVersion < tls.VersionTLS12 {
			c.MinVersion = tls.VersionTLS12
		}
		creds = credentials.NewTLS(c)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if t.token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(tokenCreds{t.token}))
	}
	cc, err := grpc.NewClient(t.addr, opts...)
	if err != nil {
		return fmt.Errorf("dialing the adapter at %s: %w", t.addr, err)
	}
	t.mu.Lock()
	t.cc = cc
	t.mu.Unlock()
	return nil
}

func (t *dialTransport) conn() *grpc.ClientConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cc
}

func (t *dialTransport) alive() bool { return true }

func (t *dialTransport) restart(context.Context) error {
	t.mu.Lock()
	old := t.cc
	t.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return t.dial()
}

func (t *dialTransport) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cc == nil {
		return nil
	}
	return t.cc.Close()
}

func (t *dialTransport) describe() string { return "remote " + t.addr }

// Dial returns the host side of an adapter served at addr (host:port) by
// [Serve]. token, when set, is sent on every call. Off loopback, Dial
// refuses to start without TLS ([WithTLS]; [ErrNeedTLS]) and without a
// client certificate or a token ([ErrNeedGatewayAuth]).
func Dial(ctx context.Context, addr, token string, log *slog.Logger, opts ...DialOption) (*Adapter, error) {
	t := &dialTransport{addr: addr, token: token}
	for _, o := range opts {
		o(t)
	}
	if err := checkDial(addr, token, t.tls); err != nil {
		return nil, fmt.Errorf("remote adapter at %s: %w", addr, err)
	}
	if err := t.dial(); err != nil {
		return nil, err
	}
	a, err := newAdapter(ctx, t, log)
	if err != nil {
		_ = t.close()
		return nil, err
	}
	return a, nil
}

// tokenCheck refuses calls without the bearer token.
func tokenCheck(token string) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	check := func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		for _, v := range md.Get("authorization") {
			got, ok := strings.CutPrefix(v, "Bearer ")
			if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
				return nil
			}
		}
		return status.Error(codes.Unauthenticated, "adapter: missing or wrong bearer token")
	}
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if err := check(ctx); err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if err := check(ss.Context()); err != nil {
			return err
		}
		return h(srv, ss)
	}
	return unary, stream
}

// ServeOption configures [Serve] and [NewGRPCServer].
type ServeOption func(*serveOptions)

type serveOptions struct{ tls *tls.Config }

// WithServerTLS serves TLS with c, which holds the adapter's certificate
// (Certificates or GetCertificate). When c.ClientCAs is set, every
// gateway must present a client certificate issued by one of them
// (mutual TLS): a call on a connection without one, or with one that does
// not verify (another CA, expired, not for client authentication), is
// refused with codes.Unauthenticated saying why. c.ClientAuth is ignored.
func WithServerTLS(c *tls.Config) ServeOption {
	return func(o *serveOptions) { o.tls = c }
}

// NewGRPCServer returns a gRPC server with srv registered, that requires
// token on every call when token is not empty, and speaks TLS (mutual
// when its ClientCAs are set) with [WithServerTLS].
func NewGRPCServer(srv *Server, token string, opts ...ServeOption) *grpc.Server {
	var o serveOptions
	for _, f := range opts {
		f(&o)
	}
	var gopts []grpc.ServerOption
	if o.tls != nil {
		gopts = append(gopts, grpc.Creds(newServerCreds(o.tls, srv.host.local)))
		if o.tls.ClientCAs != nil {
			u, s := clientCertCheck()
			gopts = append(gopts, grpc.ChainUnaryInterceptor(u), grpc.ChainStreamInterceptor(s))
		}
	}
	if token != "" {
		u, s := tokenCheck(token)
		gopts = append(gopts, grpc.ChainUnaryInterceptor(u), grpc.ChainStreamInterceptor(s))
	}
	g := grpc.NewServer(gopts...)
	srv.Register(g)
	return g
}

// Serve serves srv on l until ctx ends. Off loopback, it refuses to
// start (and closes l) without TLS ([WithServerTLS]; [ErrNeedTLS]) and
// without client CAs or a token to authenticate the gateway
// ([ErrNeedGatewayAuth]).
func Serve(ctx context.Context, l net.Listener, srv *Server, token string, opts ...ServeOption) error {
	var o serveOptions
	for _, f := range opts {
		f(&o)
	}
	if err := checkServe(l.Addr().String(), token, o.tls); err != nil {
		_ = l.Close()
		return fmt.Errorf("adapter listening on %s: %w", l.Addr(), err)
	}
	g := NewGRPCServer(srv, token, opts...)
	stop := context.AfterFunc(ctx, g.Stop)
	defer stop()
	err := g.Serve(l)
	srv.Close()
	if ctx.Err() != nil {
		return nil
	}
	return err
}
