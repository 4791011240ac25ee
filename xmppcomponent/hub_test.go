package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// stubAdapter is a platform with one login flow that asks for a code and
// never finishes; it has no sessions.
type stubAdapter struct{}

func (stubAdapter) Info() gateway.Info {
	return gateway.Info{ID: "stub", Name: "Stub", GatewayType: "stubnet", UserPrompt: "Stub id"}
}
func (stubAdapter) Init(gateway.Host, map[string]any) error { return nil }
func (stubAdapter) Start(context.Context) error             { return nil }
func (stubAdapter) Stop(context.Context) error              { return nil }
func (stubAdapter) LoginFlows() []gateway.LoginFlow {
	return []gateway.LoginFlow{{ID: "code", Name: "Code"}, {ID: "qr", Name: "QR code"}}
}
func (stubAdapter) NewLogin(context.Context, ids.Owner, string) (gateway.Login, error) {
	return &stubLogin{}, nil
}
func (stubAdapter) LoadSession(context.Context, ids.AccountID) (gateway.Session, error) {
	return nil, errors.New("stub: no sessions")
}

type stubLogin struct{}

func (*stubLogin) Start(context.Context) (gateway.LoginStep, error) {
	return gateway.LoginStep{Kind: gateway.StepInput, Fields: []gateway.LoginField{{ID: "code", Label: "Code"}}}, nil
}
func (*stubLogin) Submit(context.Context, map[string]string) (gateway.LoginStep, error) {
	return gateway.LoginStep{}, gateway.ErrBadRequest
}
func (*stubLogin) Wait(ctx context.Context) (gateway.LoginStep, error) {
	<-ctx.Done()
	return gateway.LoginStep{}, ctx.Err()
}
func (*stubLogin) Cancel() {}

// accountStore keeps accounts in memory: all that registering and starting
// a login need of a store. Other methods are not expected (nil Store).
type accountStore struct {
	store.Store
	mu       sync.Mutex
	accounts map[ids.Owner]store.Account
}

func (s *accountStore) AccountByOwner(_ context.Context, owner ids.Owner, platform ids.PlatformID) (store.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[owner]
	if !ok || a.Platform != platform {
		return store.Account{}, store.ErrNotFound
	}
	return a, nil
}

func (s *accountStore) PutAccount(_ context.Context, a store.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[a.Owner] = a
	return nil
}

func newStubGateway(t *testing.T) *gateway.Gateway {
	t.Helper()
	g, err := gateway.New(gateway.Options{
		Store:    &accountStore{accounts: make(map[ids.Owner]store.Account)},
		Adapters: []gateway.Adapter{stubAdapter{}},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGatewayHub: HubOf adapts the production hub: adapter information,
// login flows, and logins in progress, with no typed nil where there is no
// login.
func TestGatewayHub(t *testing.T) {
	ctx := t.Context()
	h := HubOf(newStubGateway(t))

	if info, ok := h.PlatformInfo("stub"); !ok || info.GatewayType != "stubnet" || info.Name != "Stub" {
		t.Errorf("PlatformInfo(stub) = %+v, %v", info, ok)
	}
	if info, ok := h.PlatformInfo("nope"); ok {
		t.Errorf("PlatformInfo(nope) = %+v, true", info)
	}
	if f := h.LoginFlows("stub"); len(f) != 2 || f[0].ID != "code" {
		t.Errorf("LoginFlows(stub) = %+v", f)
	}
	if f := h.LoginFlows("nope"); f != nil {
		t.Errorf("LoginFlows(nope) = %+v", f)
	}

	run, _, err := h.StartLogin(ctx, "alice@example.test", "nope", "")
	if !errors.Is(err, gateway.ErrNotSupported) || run != nil {
		t.Errorf("StartLogin on an unknown platform = %#v, %v; want a nil LoginRun and ErrNotSupported", run, err)
	}
	if run, ok := h.Login("alice@example.test", "stub"); ok || run != nil {
		t.Errorf("Login before any = %#v, %v", run, ok)
	}

	run, step, err := h.StartLogin(ctx, "alice@example.test", "stub", "")
	if err != nil || run == nil || step.Kind != gateway.StepInput {
		t.Fatalf("StartLogin = %v, %+v, %v", run, step, err)
	}
	got, ok := h.Login("alice@example.test", "stub")
	if !ok || got == nil || got.Last().Kind != gateway.StepInput {
		t.Fatalf("Login in progress = %v, %v", got, ok)
	}
	if _, ok := h.Login("bob@example.test", "stub"); ok {
		t.Error("bob has alice's login")
	}
	if _, err := h.Account(ctx, "alice@example.test", "stub"); err != nil {
		t.Errorf("starting a login did not register: %v", err)
	}
	got.Cancel()
	if run, ok := h.Login("alice@example.test", "stub"); ok || run != nil {
		t.Errorf("Login after Cancel = %#v, %v", run, ok)
	}
}

// TestComponentOnGatewayHub: a component built on the production hub
// describes the hub's platform in disco.
func TestComponentOnGatewayHub(t *testing.T) {
	g := newStubGateway(t)
	c, err := New(Config{Conn: stream.Config{Domain: "gw.example.test"}, Platform: "stub", Logger: slog.New(slog.DiscardHandler)}, HubOf(g))
	if err != nil {
		t.Fatal(err)
	}
	rec := &scriptRecorder{}
	c.SetSender(rec)
	c.Handle(t.Context(), &stanza.IQ{XMLName: xml.Name{Local: "iq"},
		Attrs:   stanza.Attrs{Type: stanza.IQTypeGet, Id: "d1", From: "alice@example.test/phone", To: "gw.example.test"},
		Payload: &xep.DiscoInfo{XMLName: xml.Name{Space: xep.NSDiscoInfo, Local: "query"}}})
	out := rec.take()
	if len(out) != 1 || !strings.Contains(out[0], `<identity name="Drawbridge (Stub)" category="gateway" type="stubnet">`) {
		t.Errorf("disco#info on the hub's platform: %v", out)
	}
}
