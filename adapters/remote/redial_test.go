package remote_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestRemoteAdapterRestartIsRedialed: the served adapter goes away and
// comes back on the same address (a new process would, with its state in
// the host's key-value space); the host redials it, restores the session
// and the conversation goes on.
func TestRemoteAdapterRestartIsRedialed(t *testing.T) {
	log := testLogger(t)
	serve := func(addr string) (string, func()) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		ad := sandbox.New(nil)
		go func() {
			defer close(done)
			_ = remote.Serve(ctx, l, remote.NewServer(ad, log), testToken)
		}()
		return l.Addr().String(), func() {
			cancel()
			<-done
			_ = ad.Stop(context.Background()) // as the process's exit would
		}
	}
	addr, stop := serve("127.0.0.1:0")
	a, err := remote.Dial(t.Context(), addr, testToken, log)
	if err != nil {
		t.Fatal(err)
	}
	a.SetHealthInterval(100 * time.Millisecond)
	h := gatewaytest.NewHost(t)
	if err := a.Init(h, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	acct := gatewaytest.Link(t, a, h, gatewaytest.Conformance{
		Answer: func(*testing.T, gateway.LoginStep) map[string]string {
			return map[string]string{sandbox.FieldPhone: "+15550008888"}
		},
	})
	sess, err := a.LoadSession(t.Context(), acct)
	if err != nil {
		t.Fatal(err)
	}
	sess.Connect(t.Context())
	h.WaitState(t, acct, event.StateConnected)
	echoes := func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Sender == sandbox.EchoBot
	}
	send := func(n int) {
		t.Helper()
		if _, err := sess.SendMessage(t.Context(), &event.Message{
			Meta: event.Meta{Account: acct, Chat: ids.DirectChat(sandbox.EchoBot), Sender: ids.UserID(acct), FromMe: true, Time: time.Now()},
			Body: "hello",
		}); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		h.WaitEvents(t, n, echoes)
	}
	send(1)

	before := len(h.StateChanges())
	stop()
	_, stop = serve(addr)
	defer stop()
	testutil.WaitFor(t, "the adapter redialed and the session connected", func() bool {
		changes := h.StateChanges()[before:]
		return a.Restarts() >= 1 && len(changes) > 0 && changes[len(changes)-1].State == event.StateConnected
	})
	send(2)
}
