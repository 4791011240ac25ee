package sandbox_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Phone numbers of accounts the tests link.
const (
	phoneA = "+4915100000001"
	phoneB = "+4915100000002"
)

// fixedTime is the clock of tests that check event times.
var fixedTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is an adapter on its own platform, initialised with a recording Host.
type env struct {
	a *sandbox.Adapter
	p *sandbox.Platform
	h *gatewaytest.Host
	// manual: auto_confirm is off, the test confirms pairing codes.
	manual bool
}

// newEnv makes an env with a fresh platform.
func newEnv(t *testing.T, cfg map[string]any, opts sandbox.Options) *env {
	t.Helper()
	return newEnvOn(t, sandbox.NewPlatform(opts), gatewaytest.NewHost(t), cfg)
}

// newEnvOn makes an env on platform p with host h.
func newEnvOn(t *testing.T, p *sandbox.Platform, h *gatewaytest.Host, cfg map[string]any) *env {
	t.Helper()
	a := sandbox.New(p)
	if err := a.Init(h, cfg); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		p.Close()
	})
	return &env{a: a, p: p, h: h, manual: cfg[sandbox.ConfigAutoConfirm] == false}
}

// ctx is a context for one test step.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), gatewaytest.DefaultTimeout)
	t.Cleanup(cancel)
	return c
}

// link links phone through the pairing-code flow; without auto_confirm the
// test plays the phone with ConfirmPairing.
func (e *env) link(t *testing.T, phone string) ids.AccountID {
	t.Helper()
	l, err := e.a.NewLogin(ctx(t), "user@example.org", sandbox.FlowPairingCode)
	if err != nil {
		t.Fatalf("NewLogin: %v", err)
	}
	defer l.Cancel()
	if _, err := l.Start(ctx(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	step, err := l.Submit(ctx(t), map[string]string{sandbox.FieldPhone: phone})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if e.manual {
		if err := e.p.ConfirmPairing(phone, step.Data); err != nil {
			t.Fatalf("ConfirmPairing: %v", err)
		}
	}
	step, err = l.Wait(ctx(t))
	if err != nil || step.Kind != gateway.StepDone {
		t.Fatalf("Wait = %+v, %v; want StepDone", step, err)
	}
	return step.Account
}

// connect loads and connects the session of acct and waits for the
// connected state.
func (e *env) connect(t *testing.T, acct ids.AccountID) *sandbox.Session {
	t.Helper()
	s := e.session(t, acct)
	s.Connect(ctx(t))
	e.h.WaitState(t, acct, event.StateConnected)
	return s
}

// session loads the session of acct.
func (e *env) session(t *testing.T, acct ids.AccountID) *sandbox.Session {
	t.Helper()
	gs, err := e.a.LoadSession(ctx(t), acct)
	if err != nil {
		t.Fatalf("LoadSession(%s): %v", acct, err)
	}
	return gs.(*sandbox.Session)
}

// send sends body from s to user and returns the id.
func send(t *testing.T, s *sandbox.Session, to ids.UserID, body string) ids.MessageID {
	t.Helper()
	id, err := s.SendMessage(ctx(t), &event.Message{
		Meta: event.Meta{Account: s.Account(), Chat: ids.DirectChat(to)},
		Body: body,
	})
	if err != nil {
		t.Fatalf("SendMessage(%s, %q): %v", to, body, err)
	}
	return id
}

// traffic matches messages, receipts and chat states of acct's chat with
// peer (not the contact list and presence of the connection prelude).
func traffic(acct ids.AccountID, peer ids.UserID) func(event.Event) bool {
	return gatewaytest.All(gatewaytest.InChat(acct, ids.DirectChat(peer)), func(ev event.Event) bool {
		switch ev.(type) {
		case *event.Message, *event.Receipt, *event.ChatState:
			return true
		}
		return false
	})
}

// messagesTo matches the messages emitted for acct.
func messagesTo(acct ids.AccountID) func(event.Event) bool {
	return gatewaytest.All(gatewaytest.Is[*event.Message], func(ev event.Event) bool {
		return ev.EventMeta().Account == acct
	})
}

// indexOf is the position of ev in h.Events(), or -1.
func indexOf(h *gatewaytest.Host, ev event.Event) int {
	for i, x := range h.Events() {
		if x == ev {
			return i
		}
	}
	return -1
}

// clock is a platform clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: fixedTime} }

// Now is the clock's time; give it as Options.Clock.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// file is an attachment from XMPP as the hub hands it over: Open returns
// data.
func file(name, mimeType string, data []byte) event.Attachment {
	return event.Attachment{
		Name: name, MIMEType: mimeType,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// content reads an attachment through its Open function.
func content(t *testing.T, a event.Attachment) []byte {
	t.Helper()
	if a.Open == nil {
		t.Fatalf("attachment %q has no Open", a.Name)
	}
	rc, err := a.Open(ctx(t))
	if err != nil {
		t.Fatalf("Open(%q): %v", a.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", a.Name, err)
	}
	return data
}

// of matches events of type T in acct's chat with peer.
func of[T event.Event](acct ids.AccountID, peer ids.UserID) func(event.Event) bool {
	return gatewaytest.All(gatewaytest.Is[T], gatewaytest.InChat(acct, ids.DirectChat(peer)))
}

// waitOne waits for the n-th (1-based) event of type T in acct's chat with
// peer.
func waitOne[T event.Event](t *testing.T, h *gatewaytest.Host, n int, acct ids.AccountID, peer ids.UserID) T {
	t.Helper()
	return h.WaitEvents(t, n, of[T](acct, peer))[n-1].(T)
}

// chatMeta is the meta of an event an account's owner sends in the chat
// with peer.
func chatMeta(acct ids.AccountID, peer ids.UserID) event.Meta {
	return event.Meta{Account: acct, Chat: ids.DirectChat(peer), Sender: ids.UserID(acct), FromMe: true}
}
