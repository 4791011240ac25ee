package remote_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
)

// TestTokenRequired: off loopback, neither side works without TLS, a
// token alone included (it would travel in clear), and the host side
// does not dial with TLS that neither presents a client certificate nor
// sends a token; with a token, a caller without it or with another one
// is refused.
func TestTokenRequired(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name  string
		token string
		opts  []remote.DialOption
		want  error
	}{
		{"nothing", "", nil, remote.ErrNeedTLS},
		{"token_in_clear", testToken, nil, remote.ErrNeedTLS},
		{"tls_without_gateway_auth", "", []remote.DialOption{remote.WithTLS(&tls.Config{})}, remote.ErrNeedGatewayAuth},
	} {
		if _, err := remote.Dial(t.Context(), "192.0.2.1:7000", tc.token, log, tc.opts...); !errors.Is(err, tc.want) {
			t.Errorf("%s: Dial off loopback = %v, want %v", tc.name, err, tc.want)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := remote.Serve(t.Context(), offLoopback{l}, remote.NewServer(sandbox.New(nil), log), ""); !errors.Is(err, remote.ErrNeedTLS) {
		t.Errorf("Serve off loopback without a token = %v, want %v", err, remote.ErrNeedTLS)
	}

	addr := serveRemote(t, sandbox.New(nil))
	for _, token := range []string{"", "wrong-token"} {
		_, err := remote.Dial(t.Context(), addr, token, log)
		if !errors.Is(err, remote.ErrUnauthenticated) {
			t.Errorf("Dial with token %q = %v, want Unauthenticated", token, err)
		}
	}
	a, err := remote.Dial(t.Context(), addr, testToken, log)
	if err != nil {
		t.Fatalf("Dial with the token: %v", err)
	}
	_ = a.Stop(context.Background())
}

// offLoopback pretends a loopback listener listens on a public address.
type offLoopback struct{ net.Listener }

func (offLoopback) Addr() net.Addr { return &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 7000} }
