package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestConnResetsAbandonedConnection: when a write to a server that stopped
// reading times out, the stanzas left in the socket's send buffer are
// re-sent on the next connection, so the old socket is reset rather than
// closed. A server that reads again then finds at most what its own
// receive buffer held, not the megabytes the gateway's kernel had queued
// (which it would route a second time).
func TestConnResetsAbandonedConnection(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	srv.set(func(s *connTestServer) { s.stall = true })
	log, sink := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.WriteTimeout = 200 * time.Millisecond
	cfg.PingInterval = time.Minute
	c := New(cfg, nil)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)

	// Far more than the socket buffers hold.
	const n, size = 200, 64 << 10
	body := strings.Repeat("x", size)
	ctx := context.Background()
	for i := range n {
		if err := c.Send(ctx, testMessage(testDomain, "alice@example.test", fmt.Sprintf("%d:%s", i, body))); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "a write timeout", func() bool {
		return sink.has(slog.LevelWarn, "connection lost", map[string]string{"error": "i/o timeout"})
	})

	// The server reads its old connection again.
	if err := ss.nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	total := 0
	buf := make([]byte, 64<<10)
	var err error
	for err == nil {
		var m int
		m, err = ss.nc.Read(buf)
		total += m
	}
	const bound = 1 << 20 // well above a loopback socket's default receive buffer
	if !errors.Is(err, syscall.ECONNRESET) || total > bound {
		t.Fatalf("after the write timeout the server read %d bytes from the old connection, then %v; want at most %d, then a reset", total, err, bound)
	}
	t.Logf("the server read %d bytes from the abandoned connection before the reset", total)
}
