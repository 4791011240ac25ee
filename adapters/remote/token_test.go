package remote_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
)

// TestTokenRequired: off loopback, neither side works without a token;
// with a token, a caller without it or with another one is refused.
func TestTokenRequired(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if _, err := remote.Dial(t.Context(), "192.0.2.1:7000", "", log); err == nil {
		t.Error("Dial off loopback without a token succeeded")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := remote.Serve(t.Context(), offLoopback{l}, remote.NewServer(sandbox.New(nil), log), ""); err == nil {
		t.Error("Serve off loopback without a token succeeded")
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
