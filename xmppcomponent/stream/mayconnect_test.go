package stream

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestConnMayConnect: while MayConnect refuses, the Conn asks again and
// again but never dials the server; once it allows, the Conn connects.
func TestConnMayConnect(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	var allowed atomic.Bool
	var asked atomic.Int64
	cfg.MayConnect = func(context.Context) error {
		asked.Add(1)
		if !allowed.Load() {
			return errors.New("not the lease holder")
		}
		return nil
	}
	c := New(cfg, nil)
	startConn(t, c)
	testutil.WaitFor(t, "several refused attempts", func() bool { return asked.Load() >= 3 })
	if n := srv.numAttempts(); n != 0 {
		t.Fatalf("the server saw %d connections while MayConnect refused", n)
	}
	if c.Connected() {
		t.Fatal("Connected while MayConnect refused")
	}
	allowed.Store(true)
	waitConn(t, c)
	srv.session(1)
}
