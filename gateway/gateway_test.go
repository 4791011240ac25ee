package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
)

// frontend records what the hub delivers.
type frontend struct {
	mu      sync.Mutex
	got     []delivered
	changed chan struct{}
}

type delivered struct {
	owner ids.Owner
	ev    event.Event
}

func newFrontend() *frontend { return &frontend{changed: make(chan struct{})} }

// Deliver records d and confirms it at once.
func (f *frontend) Deliver(_ context.Context, d gateway.Delivery) error {
	f.record(d)
	if d.Done != nil {
		d.Done()
	}
	return nil
}

func (f *frontend) record(d gateway.Delivery) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, delivered{d.Owner, d.Event})
	close(f.changed)
	f.changed = make(chan struct{})
}

// count is how many deliveries to owner match so far.
func (f *frontend) count(owner ids.Owner, match func(event.Event) bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.got {
		if d.owner == owner && match(d.ev) {
			n++
		}
	}
	return n
}

// wait returns the first n deliveries to owner matching match, in order.
func (f *frontend) wait(t testing.TB, owner ids.Owner, n int, match func(event.Event) bool) []event.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		var out []event.Event
		for _, d := range f.got {
			if d.owner == owner && match(d.ev) {
				out = append(out, d.ev)
			}
		}
		ch := f.changed
		f.mu.Unlock()
		if len(out) >= n {
			return out[:n]
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %d events for %s; have %d", n, owner, len(out))
		}
	}
}

type hub struct {
	gw       *gateway.Gateway
	fe       *frontend
	platform *sandbox.Platform
	store    store.Store
}

func newHub(t testing.TB, st store.Store, autoConfirm bool) *hub {
	t.Helper()
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	gw, err := gateway.New(gateway.Options{
		Store:         st,
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": autoConfirm}},
		RegistrationAllowed: func(o ids.Owner) bool {
			return strings.HasSuffix(string(o), "@example.test")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := newFrontend()
	gw.SetFrontend(fe)
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	return &hub{gw: gw, fe: fe, platform: p, store: st}
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

const sb = ids.PlatformID("sandbox")

// link runs the pairing-code flow for owner and phone to the end.
func (h *hub) link(t testing.TB, owner ids.Owner, phone string) {
	t.Helper()
	ctx := t.Context()
	run, step, err := h.gw.StartLogin(ctx, owner, sb, "")
	if err != nil {
		t.Fatal(err)
	}
	if step.Kind != gateway.StepInput || len(step.Fields) != 1 {
		t.Fatalf("first step = %+v, want one input field", step)
	}
	step, err = run.Submit(ctx, map[string]string{step.Fields[0].ID: phone})
	if err != nil {
		t.Fatal(err)
	}
	if step.Kind != gateway.StepCode || step.Data == "" {
		t.Fatalf("second step = %+v, want a pairing code", step)
	}
	step, err = run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if step.Kind != gateway.StepDone || step.Account != ids.AccountID(phone) {
		t.Fatalf("last step = %+v, want done for %s", step, phone)
	}
	h.fe.wait(t, owner, 1, func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateConnected
	})
}

func TestRegisterPolicy(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	if err := h.gw.Register(ctx, "alice@example.test", sb); err != nil {
		t.Fatalf("allowed owner: %v", err)
	}
	if err := h.gw.Register(ctx, "alice@example.test", sb); err != nil {
		t.Fatalf("registering twice: %v", err)
	}
	if err := h.gw.Register(ctx, "mallory@evil.test", sb); !errors.Is(err, gateway.ErrForbidden) {
		t.Fatalf("foreign owner: %v, want ErrForbidden", err)
	}
	if err := h.gw.Register(ctx, "alice@example.test", "nope"); !errors.Is(err, gateway.ErrNotSupported) {
		t.Fatalf("unknown platform: %v, want ErrNotSupported", err)
	}
	if _, err := h.gw.Account(ctx, "bob@example.test", sb); !errors.Is(err, gateway.ErrNotRegistered) {
		t.Fatalf("Account of a stranger: %v", err)
	}
}

func TestEchoConversationThroughTheHub(t *testing.T) {
	h := newHub(t, openStore(t), true)
	const owner = ids.Owner("alice@example.test")
	h.link(t, owner, "+15557654321")
	ctx := t.Context()

	a, err := h.gw.Account(ctx, owner, sb)
	if err != nil || a.ID != "+15557654321" || a.State != event.StateConnected {
		t.Fatalf("account after link = %+v, %v", a, err)
	}
	echo := ids.ChatID(sandbox.EchoBot)
	id, err := h.gw.SendMessage(ctx, owner, sb, &event.Message{Meta: event.Meta{Chat: echo}, Body: "hello"}, gateway.SendOptions{XMPPIDs: []string{"xmpp-1"}})
	if err != nil || id == "" {
		t.Fatalf("SendMessage = %q, %v", id, err)
	}
	inChat := func(ev event.Event) bool {
		switch ev.(type) {
		case *event.Message, *event.Receipt, *event.ChatState:
			return ev.EventMeta().Chat == echo
		}
		return false
	}
	evs := h.fe.wait(t, owner, 4, inChat)
	want := []string{"receipt delivered xmpp-1", "chatstate composing", "message echo: hello", "receipt displayed xmpp-1"}
	for i, ev := range evs {
		if got := describe(ev); got != want[i] {
			t.Errorf("event %d = %q, want %q", i, got, want[i])
		}
	}
	if got := h.platform.Received(sandbox.EchoBot); len(got) != 1 || got[0].Body != "hello" {
		t.Errorf("echo bot received %+v", got)
	}
}

func describe(ev event.Event) string {
	switch e := ev.(type) {
	case *event.Message:
		return "message " + e.Body
	case *event.Receipt:
		return fmt.Sprintf("receipt %s %s", e.Kind, e.Targets[0])
	case *event.ChatState:
		return "chatstate " + string(e.State)
	}
	return fmt.Sprintf("%T", ev)
}

func TestSendRefusals(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	msg := func(body string) *event.Message {
		return &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: body}
	}
	if _, err := h.gw.SendMessage(ctx, owner, sb, msg("hi"), gateway.SendOptions{XMPPIDs: []string{"x"}}); !errors.Is(err, gateway.ErrNotLinked) {
		t.Fatalf("before linking: %v, want ErrNotLinked", err)
	}
	h.link(t, owner, "+15557654321")
	for _, tc := range []struct {
		name string
		msg  *event.Message
		want error
	}{
		{"too long", msg(strings.Repeat("x", sandbox.MaxBodyLength+1)), gateway.ErrNotSupported},
		{"empty", msg("  "), gateway.ErrBadRequest},
		{"unknown contact", &event.Message{Meta: event.Meta{Chat: "+19990000000"}, Body: "hi"}, gateway.ErrUnknownChat},
	} {
		if _, err := h.gw.SendMessage(ctx, owner, sb, tc.msg, gateway.SendOptions{XMPPIDs: []string{"x"}}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Stanza ids are stored for days: over MaxStanzaIDLen bytes, as the
	// id or the origin-id, they are refused; at the limit they pass.
	long := strings.Repeat("i", gateway.MaxStanzaIDLen+1)
	for _, xids := range [][]string{{long, ""}, {"x", long}} {
		if _, err := h.gw.SendMessage(ctx, owner, sb, msg("hi"), gateway.SendOptions{XMPPIDs: xids}); !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("ids of %d and %d bytes: %v, want ErrBadRequest", len(xids[0]), len(xids[1]), err)
		}
	}
	if err := h.gw.EditMessage(ctx, owner, sb, ids.ChatID(sandbox.EchoBot), long, "fixed", "e1"); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("a correction naming a long id: %v, want ErrBadRequest", err)
	}
	if _, err := h.gw.SendMessage(ctx, owner, sb, msg("hi"), gateway.SendOptions{XMPPIDs: []string{strings.Repeat("k", gateway.MaxStanzaIDLen)}}); err != nil {
		t.Errorf("an id of %d bytes: %v", gateway.MaxStanzaIDLen, err)
	}
}

func TestLinkConflictAndUnlink(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	h.link(t, "alice@example.test", "+15557654321")

	run, step, err := h.gw.StartLogin(ctx, "bob@example.test", sb, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Submit(ctx, map[string]string{step.Fields[0].ID: "+15557654321"}); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); !errors.Is(err, gateway.ErrForbidden) {
		t.Fatalf("linking alice's number for bob: %v, want ErrForbidden", err)
	}

	if err := h.gw.Unlink(ctx, "alice@example.test", sb); err != nil {
		t.Fatal(err)
	}
	if err := h.gw.Unlink(ctx, "alice@example.test", sb); !errors.Is(err, gateway.ErrNotLinked) {
		t.Fatalf("second unlink: %v, want ErrNotLinked", err)
	}
	if _, err := h.store.AccountByID(ctx, sb, "+15557654321"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reverse index after unlink: %v", err)
	}
	if err := h.gw.Unregister(ctx, "alice@example.test", sb); err != nil {
		t.Fatal(err)
	}
	if err := h.gw.Unregister(ctx, "alice@example.test", sb); !errors.Is(err, gateway.ErrNotRegistered) {
		t.Fatalf("second unregister: %v", err)
	}
}

func TestBadLoginInputKeepsTheRun(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	run, step, err := h.gw.StartLogin(ctx, "alice@example.test", sb, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Submit(ctx, map[string]string{step.Fields[0].ID: "not a number"}); !errors.Is(err, gateway.ErrBadRequest) {
		t.Fatalf("bad phone: %v, want ErrBadRequest", err)
	}
	if _, ok := h.gw.Login("alice@example.test", sb); !ok {
		t.Fatal("a bad answer ended the login run")
	}
	if step, err = run.Submit(ctx, map[string]string{step.Fields[0].ID: "+1 555 765 4321"}); err != nil || step.Kind != gateway.StepCode {
		t.Fatalf("good phone after a bad one: %+v, %v", step, err)
	}
}

func TestSessionsComeBackAfterRestart(t *testing.T) {
	st := openStore(t)
	const owner = ids.Owner("alice@example.test")
	first := newHub(t, st, true)
	first.link(t, owner, "+15557654321")
	if err := first.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	second := newHub(t, st, true)
	second.fe.wait(t, owner, 1, func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateConnected
	})
	if _, err := second.gw.SendMessage(t.Context(), owner, sb, &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: "again"}, gateway.SendOptions{XMPPIDs: []string{"x2"}}); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	second.fe.wait(t, owner, 1, func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Body == "echo: again"
	})
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"+15550001111", "+15550001111", true},
		{"+1 (555) 000-1111", "+15550001111", true},
		{"0015550001111", "+15550001111", true},
		{"5550001111", "", false},
		{"+1555abc", "", false},
		{"+0123456789", "", false},
		{"", "", false},
	} {
		got, err := gateway.NormalizePhone(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("NormalizePhone(%q) error %v is not ErrBadRequest", tc.in, err)
		}
	}
}

// A login replaced by a newer one of the same owner (another client, or
// the chat commands) answers with a clear bad request, not an internal
// error.
func TestReplacedLoginIsGone(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	first, step, err := h.gw.StartLogin(ctx, "alice@example.test", sb, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.gw.StartLogin(ctx, "alice@example.test", sb, ""); err != nil {
		t.Fatal(err)
	}
	_, err = first.Submit(ctx, map[string]string{step.Fields[0].ID: "+15557654321"})
	if !errors.Is(err, gateway.ErrBadRequest) || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("submit to a replaced login: %v", err)
	}
}
