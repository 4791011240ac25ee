package gatewaytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Conformance describes an adapter to RunAdapterConformance.
type Conformance struct {
	// NewAdapter returns a fresh adapter, not initialised. Required.
	NewAdapter func(t *testing.T) gateway.Adapter
	// Config is the configuration section given to Init.
	Config map[string]any
	// Owner links the account; empty means "conformance@example.org".
	Owner ids.Owner
	// Answer fills in a StepInput of the first login flow. Required if the
	// flow asks for input.
	Answer func(t *testing.T, step gateway.LoginStep) map[string]string
	// Confirm plays the user's phone for a StepQR or StepCode (scans the
	// QR, types the code) before the suite calls Wait. Nil: the adapter's
	// platform confirms by itself.
	Confirm func(t *testing.T, a gateway.Adapter, step gateway.LoginStep)
	// Contact is a chat of the linked account that takes a text message.
	// Required.
	Contact ids.ChatID
	// Unlinked, if set, is an account that was never linked through the
	// suite's Host: LoadSession must refuse it with gateway.ErrNotLinked.
	Unlinked ids.AccountID
}

// RunAdapterConformance checks what the hub relies on from every adapter:
// Info and LoginFlows are sensible; an unknown flow is refused; the first
// flow reaches StepDone; the linked account's session connects and reports
// event.StateConnected; SendMessage returns a non-empty id, and refuses an
// empty message (gateway.ErrBadRequest) and any message once disconnected
// (gateway.ErrUnavailable); Capabilities promise nothing the session lacks
// the optional interface for; every emitted event belongs to the account;
// after Logout, LoadSession says gateway.ErrNotLinked.
func RunAdapterConformance(t *testing.T, c Conformance) {
	if c.NewAdapter == nil || c.Contact == "" {
		t.Fatal("gatewaytest: Conformance needs NewAdapter and Contact")
	}
	if c.Owner == "" {
		c.Owner = "conformance@example.org"
	}
	setup := func(t *testing.T) (gateway.Adapter, *Host) {
		t.Helper()
		a := c.NewAdapter(t)
		h := NewHost(t)
		if err := a.Init(h, c.Config); err != nil {
			t.Fatalf("Init: %v", err)
		}
		ctx := testContext(t, h)
		if err := a.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		t.Cleanup(func() {
			if err := a.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
		return a, h
	}

	t.Run("Info", func(t *testing.T) {
		a := c.NewAdapter(t)
		info := a.Info()
		if info.ID == "" || info.Name == "" || info.GatewayType == "" {
			t.Errorf("Info has empty fields: %+v", info)
		}
		if a.Info() != info {
			t.Errorf("Info changed between calls")
		}
	})

	t.Run("LoginFlows", func(t *testing.T) {
		a, _ := setup(t)
		flows := a.LoginFlows()
		if len(flows) == 0 {
			t.Fatal("no login flows")
		}
		seen := map[string]bool{}
		for _, f := range flows {
			if f.ID == "" || f.Name == "" {
				t.Errorf("flow with empty ID or Name: %+v", f)
			}
			if seen[f.ID] {
				t.Errorf("flow %q listed twice", f.ID)
			}
			seen[f.ID] = true
		}
	})

	t.Run("UnknownFlow", func(t *testing.T) {
		a, h := setup(t)
		l, err := a.NewLogin(testContext(t, h), c.Owner, "no-such-flow-exists")
		if err == nil {
			l.Cancel()
			t.Fatal("NewLogin accepted an unknown flow")
		}
	})

	t.Run("CancelLogin", func(t *testing.T) {
		a, h := setup(t)
		ctx := testContext(t, h)
		l, err := a.NewLogin(ctx, c.Owner, a.LoginFlows()[0].ID)
		if err != nil {
			t.Fatalf("NewLogin: %v", err)
		}
		if _, err := l.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		l.Cancel()
		l.Cancel()
	})

	if c.Unlinked != "" {
		t.Run("LoadSessionUnlinked", func(t *testing.T) {
			a, h := setup(t)
			_, err := a.LoadSession(testContext(t, h), c.Unlinked)
			if !errors.Is(err, gateway.ErrNotLinked) {
				t.Fatalf("LoadSession(%s) = %v, want ErrNotLinked", c.Unlinked, err)
			}
		})
	}

	t.Run("Lifecycle", func(t *testing.T) {
		a, h := setup(t)
		ctx := testContext(t, h)
		acct := Link(t, a, h, c)
		sess, err := a.LoadSession(ctx, acct)
		if err != nil {
			t.Fatalf("LoadSession(%s): %v", acct, err)
		}
		sess.Connect(ctx)
		h.WaitState(t, acct, event.StateConnected)

		checkCapabilities(t, sess, c.Contact)

		id, err := sess.SendMessage(ctx, &event.Message{
			Meta: event.Meta{Account: acct, Chat: c.Contact, Sender: ids.UserID(acct), FromMe: true, Time: time.Now()},
			Body: "conformance",
		})
		if err != nil || id == "" {
			t.Fatalf("SendMessage = %q, %v; want an id", id, err)
		}
		_, err = sess.SendMessage(ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: c.Contact}})
		if !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("SendMessage(empty) = %v, want ErrBadRequest", err)
		}

		sess.Disconnect()
		_, err = sess.SendMessage(ctx, &event.Message{Meta: event.Meta{Account: acct, Chat: c.Contact}, Body: "x"})
		if !errors.Is(err, gateway.ErrUnavailable) {
			t.Errorf("SendMessage after Disconnect = %v, want ErrUnavailable", err)
		}
		for _, ev := range h.Events() {
			if ev.EventMeta().Account != acct {
				t.Errorf("event of another account: %s", Describe(ev))
			}
		}

		if err := sess.Logout(ctx); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		if _, err := a.LoadSession(ctx, acct); !errors.Is(err, gateway.ErrNotLinked) {
			t.Errorf("LoadSession after Logout = %v, want ErrNotLinked", err)
		}
	})
}

// checkCapabilities compares what Capabilities promise with the optional
// interfaces the session implements.
func checkCapabilities(t *testing.T, sess gateway.Session, chat ids.ChatID) {
	t.Helper()
	caps := sess.Capabilities(chat)
	_, receipts := sess.(gateway.ReceiptSender)
	_, states := sess.(gateway.ChatStateSender)
	if (caps.Receipts || caps.ReadMarkers) && !receipts {
		t.Errorf("Capabilities promise receipts or read markers, but the session is no gateway.ReceiptSender")
	}
	if caps.ChatStates && !states {
		t.Errorf("Capabilities promise chat states, but the session is no gateway.ChatStateSender")
	}
	if caps.MaxBodyLength < 0 {
		t.Errorf("MaxBodyLength %d < 0", caps.MaxBodyLength)
	}
}

// Link drives the first login flow of a to StepDone as Conformance c
// describes, and returns the linked account.
func Link(t *testing.T, a gateway.Adapter, h *Host, c Conformance) ids.AccountID {
	t.Helper()
	ctx := testContext(t, h)
	owner := c.Owner
	if owner == "" {
		owner = "conformance@example.org"
	}
	l, err := a.NewLogin(ctx, owner, a.LoginFlows()[0].ID)
	if err != nil {
		t.Fatalf("NewLogin: %v", err)
	}
	defer l.Cancel()
	step, err := l.Start(ctx)
	for range 20 {
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		switch step.Kind {
		case gateway.StepDone:
			if step.Account == "" {
				t.Fatal("StepDone without Account")
			}
			return step.Account
		case gateway.StepInput:
			if c.Answer == nil {
				t.Fatalf("the flow asks for input %+v but Conformance.Answer is nil", step.Fields)
			}
			step, err = l.Submit(ctx, c.Answer(t, step))
		case gateway.StepQR, gateway.StepCode:
			if step.Data == "" {
				t.Fatalf("%s step without Data", step.Kind)
			}
			if c.Confirm != nil {
				c.Confirm(t, a, step)
			}
			step, err = l.Wait(ctx)
		default:
			t.Fatalf("login step of kind %s", step.Kind)
		}
	}
	t.Fatal("login did not finish in 20 steps")
	return ""
}

// testContext is a context that ends with the test or after the Host's
// timeout, whichever is first.
func testContext(t *testing.T, h *Host) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), h.timeout())
	t.Cleanup(cancel)
	return ctx
}
