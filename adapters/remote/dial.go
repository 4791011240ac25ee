package remote

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// errNeedToken: an address off loopback without a token.
var errNeedToken = errors.New("a token is required for an address other than loopback")

// tokenCreds puts the bearer token on every call.
type tokenCreds struct{ token string }

func (c tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + c.token}, nil
}

func (tokenCreds) RequireTransportSecurity() bool { return false }

// dialTransport reaches an adapter served at an address.
type dialTransport struct {
	addr, token string

	mu sync.Mutex
	cc *grpc.ClientConn
}

func (t *dialTransport) dial() error {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
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
// ListenAndServe. token is required unless addr is a loopback address.
// The connection carries no TLS: off loopback, put it inside a private
// network or a tunnel.
func Dial(ctx context.Context, addr, token string, log *slog.Logger) (*Adapter, error) {
	if token == "" && !config.LoopbackAddr(addr) {
		return nil, fmt.Errorf("remote adapter at %s: %w", addr, errNeedToken)
	}
	t := &dialTransport{addr: addr, token: token}
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

// NewGRPCServer returns a gRPC server with srv registered, that requires
// token on every call when token is not empty.
func NewGRPCServer(srv *Server, token string) *grpc.Server {
	var opts []grpc.ServerOption
	if token != "" {
		u, s := tokenCheck(token)
		opts = append(opts, grpc.ChainUnaryInterceptor(u), grpc.ChainStreamInterceptor(s))
	}
	g := grpc.NewServer(opts...)
	srv.Register(g)
	return g
}

// Serve serves srv on l until ctx ends. token is required unless l
// listens on loopback (l is closed when it is missing).
func Serve(ctx context.Context, l net.Listener, srv *Server, token string) error {
	if token == "" && !config.LoopbackAddr(l.Addr().String()) {
		_ = l.Close()
		return fmt.Errorf("adapter listening on %s: %w", l.Addr(), errNeedToken)
	}
	g := NewGRPCServer(srv, token)
	stop := context.AfterFunc(ctx, g.Stop)
	defer stop()
	err := g.Serve(l)
	srv.Close()
	if ctx.Err() != nil {
		return nil
	}
	return err
}
