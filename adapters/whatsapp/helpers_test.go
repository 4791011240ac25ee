package whatsapp_test

import (
	"context"
	"flag"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	ownerPhone = "+15550000100"
	ownerLID   = "900000000100"
	alicePhone = "+15550001111"
	owner      = ids.Owner("romeo@example.org")
)

var (
	alice     = wt.PN(alicePhone)
	aliceChat = ids.ChatID(alicePhone)
)

// clock is a settable clock for WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one adapter on a fake WhatsApp with a recording Host.
type env struct {
	t     *testing.T
	a     *whatsapp.Adapter
	h     *gatewaytest.Host
	f     *wt.Factory
	clock *clock
	db    string
	ctx   context.Context
}

// newEnv starts an adapter whose device store is a fresh sqlite file.
func newEnv(t *testing.T, cfg map[string]any) *env {
	t.Helper()
	return newEnvOn(t, gatewaytest.NewHost(t), filepath.Join(t.TempDir(), "whatsapp.db"), cfg)
}

// newEnvOn starts an adapter on the given host and device store (to play
// a gateway restart).
func newEnvOn(t *testing.T, h *gatewaytest.Host, db string, cfg map[string]any) *env {
	t.Helper()
	e := &env{t: t, h: h, f: &wt.Factory{}, clock: &clock{now: time.Now()}, db: db}
	e.a = whatsapp.New(whatsapp.WithClientFactory(e.f.New), whatsapp.WithClock(e.clock.Now),
		whatsapp.WithFetcher(func(_ context.Context, url string) ([]byte, error) {
			return []byte("\xff\xd8\xff\xe0 picture at " + url), nil
		}))
	full := map[string]any{whatsapp.ConfigDatabase: db}
	for k, v := range cfg {
		full[k] = v
	}
	if err := e.a.Init(h, full); err != nil {
		t.Fatalf("Init: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	e.ctx = ctx
	if err := e.a.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := e.a.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return e
}

// client waits for the n-th client the adapter made.
func (e *env) client(n int) *wt.Client {
	e.t.Helper()
	c, err := e.f.Client(e.ctx, n)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// link runs the QR flow to the end and returns the account and the
// client of the login.
func (e *env) link() (ids.AccountID, *wt.Client) {
	e.t.Helper()
	n := len(e.f.Clients())
	l, err := e.a.NewLogin(e.ctx, owner, whatsapp.FlowQR)
	if err != nil {
		e.t.Fatalf("NewLogin: %v", err)
	}
	defer l.Cancel()
	step, err := l.Start(e.ctx)
	if err != nil || step.Kind != gateway.StepQR {
		e.t.Fatalf("Start = %+v, %v; want a QR step", step, err)
	}
	c := e.client(n)
	if err := c.PairSuccess(e.ctx, ownerPhone, ownerLID); err != nil {
		e.t.Fatal(err)
	}
	step, err = l.Wait(e.ctx)
	if err != nil || step.Kind != gateway.StepDone {
		e.t.Fatalf("Wait = %+v, %v; want StepDone", step, err)
	}
	return step.Account, c
}

// connected links an account and returns its connected session.
func (e *env) connected() (*whatsapp.Session, *wt.Client) {
	e.t.Helper()
	acct, c := e.link()
	s, err := e.a.LoadSession(e.ctx, acct)
	if err != nil {
		e.t.Fatalf("LoadSession: %v", err)
	}
	// This session's own "connected", not one the link reported: the
	// session handles events.Connected on the fake's goroutine, and a test
	// that went on before it could see it arrive late.
	before := len(e.h.StateChanges())
	s.Connect(e.ctx)
	e.waitState(acct, event.StateConnected, before)
	return s.(*whatsapp.Session), c
}

// lastState is the latest state reported for the account.
func (e *env) lastState(acct ids.AccountID) gatewaytest.StateChange {
	var last gatewaytest.StateChange
	for _, s := range e.h.StateChanges() {
		if s.Account == acct {
			last = s
		}
	}
	return last
}

// waitState waits for a change of acct to state among the changes after
// the first `after` ones, and returns it.
func (e *env) waitState(acct ids.AccountID, state event.State, after int) gatewaytest.StateChange {
	e.t.Helper()
	var found gatewaytest.StateChange
	if !testutil.Poll(5*time.Second, func() bool {
		changes := e.h.StateChanges()
		for i := after; i < len(changes); i++ {
			if changes[i].Account == acct && changes[i].State == state {
				found = changes[i]
				return true
			}
		}
		return false
	}) {
		e.t.Fatalf("no state %s after change %d; changes: %+v", state, after, e.h.StateChanges())
	}
	return found
}

func textMsg(s string) *waE2E.Message { return &waE2E.Message{Conversation: proto.String(s)} }
