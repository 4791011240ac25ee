package gatewaytest

import (
	"context"
	"errors"
	"strings"
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
	// Timeout bounds each wait of the suite's Host (a login included);
	// zero: DefaultTimeout. Adapters whose login does real key exchanges
	// (Telegram's MTProto) need more under -race on a loaded machine.
	Timeout time.Duration
}

// RunAdapterConformance checks what the hub relies on from every adapter:
// Info and LoginFlows are sensible; an unknown flow is refused; the first
// flow reaches StepDone; the linked account's session connects and reports
// event.StateConnected; SendMessage returns a non-empty id, and refuses an
// empty message (gateway.ErrBadRequest) and any message once disconnected
// (gateway.ErrUnavailable); Capabilities promise nothing the session lacks
// the optional interface for, and their limits are well-formed; where
// Capabilities promise edits, reactions and retractions, the session
// accepts, in this order, an edit of the message it just sent, a reaction
// to it (the first of AllowedReactions, or "👍"), the removal of that
// reaction and the message's retraction, and refuses each of them without
// a target message; an AvatarGetter answers for Contact (a picture, none,
// or gateway.ErrUnknownChat); every emitted event belongs to the account;
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
		h.Timeout = c.Timeout
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
		checkRich(ctx, t, sess, acct, c.Contact, id)

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
	if _, ok := sess.(gateway.Editor); caps.Edits && !ok {
		t.Errorf("Capabilities promise edits, but the session is no gateway.Editor")
	}
	if _, ok := sess.(gateway.Retracter); caps.Retractions && !ok {
		t.Errorf("Capabilities promise retractions, but the session is no gateway.Retracter")
	}
	if _, ok := sess.(gateway.Reactor); caps.Reactions && !ok {
		t.Errorf("Capabilities promise reactions, but the session is no gateway.Reactor")
	}
	if caps.EditWindow < 0 || caps.RetractWindow < 0 {
		t.Errorf("negative window: edit %s, retract %s", caps.EditWindow, caps.RetractWindow)
	}
	if caps.MaxReactionsPerUser < 0 {
		t.Errorf("MaxReactionsPerUser %d < 0", caps.MaxReactionsPerUser)
	}
	if caps.MaxFileSize < 0 {
		t.Errorf("MaxFileSize %d < 0", caps.MaxFileSize)
	}
	for _, e := range caps.AllowedReactions {
		if e == "" {
			t.Errorf("AllowedReactions has an empty entry: %q", caps.AllowedReactions)
		}
	}
	for _, mt := range caps.MediaTypes {
		major, minor, ok := strings.Cut(mt, "/")
		if !ok || major == "" || major == "*" || minor == "" || strings.ContainsAny(mt, " ;") {
			t.Errorf("MediaTypes entry %q is not type/subtype or type/*", mt)
		}
	}
}

// checkRich exercises the optional edit, reaction, retraction and avatar
// interfaces that Capabilities promise, on message id that the account
// just sent in chat.
func checkRich(ctx context.Context, t *testing.T, sess gateway.Session, acct ids.AccountID, chat ids.ChatID, id ids.MessageID) {
	t.Helper()
	caps := sess.Capabilities(chat)
	meta := func() event.Meta {
		return event.Meta{Account: acct, Chat: chat, Sender: ids.UserID(acct), FromMe: true, Time: time.Now()}
	}
	if ed, ok := sess.(gateway.Editor); ok && caps.Edits {
		if err := ed.EditMessage(ctx, &event.Edit{Meta: meta(), Target: id, Body: "conformance, corrected"}); err != nil {
			t.Errorf("EditMessage(%s) = %v", id, err)
		}
		if err := ed.EditMessage(ctx, &event.Edit{Meta: meta(), Body: "no target"}); err == nil {
			t.Errorf("EditMessage without a target succeeded")
		}
	}
	if rc, ok := sess.(gateway.Reactor); ok && caps.Reactions {
		emoji := "👍"
		if len(caps.AllowedReactions) > 0 {
			emoji = caps.AllowedReactions[0]
		}
		if err := rc.SendReaction(ctx, &event.Reaction{Meta: meta(), Target: id, Emojis: []string{emoji}}); err != nil {
			t.Errorf("SendReaction(%s, %s) = %v", id, emoji, err)
		}
		if err := rc.SendReaction(ctx, &event.Reaction{Meta: meta(), Target: id}); err != nil {
			t.Errorf("SendReaction(%s, none) = %v", id, err)
		}
		if err := rc.SendReaction(ctx, &event.Reaction{Meta: meta(), Emojis: []string{emoji}}); err == nil {
			t.Errorf("SendReaction without a target succeeded")
		}
	}
	if rt, ok := sess.(gateway.Retracter); ok && caps.Retractions {
		if err := rt.RetractMessage(ctx, &event.Retract{Meta: meta(), Target: id}); err != nil {
			t.Errorf("RetractMessage(%s) = %v", id, err)
		}
		if err := rt.RetractMessage(ctx, &event.Retract{Meta: meta()}); err == nil {
			t.Errorf("RetractMessage without a target succeeded")
		}
	}
	if ag, ok := sess.(gateway.AvatarGetter); ok {
		av, err := ag.GetAvatar(ctx, ids.UserID(chat))
		switch {
		case errors.Is(err, gateway.ErrUnknownChat):
		case err != nil:
			t.Errorf("GetAvatar(%s) = %v", chat, err)
		case (av.Hash == "") != (len(av.Data) == 0):
			t.Errorf("GetAvatar(%s): hash %q with %d bytes; want both or neither", chat, av.Hash, len(av.Data))
		}
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
