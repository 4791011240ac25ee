package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// PlatformID is the adapter's id.
const PlatformID ids.PlatformID = "sandbox"

// FlowPairingCode is the id of the only login flow.
const FlowPairingCode = "pairing-code"

// kvDeviceToken is the key under which a session keeps its device token in
// the Host's per-account key-value space.
const kvDeviceToken = "device_token"

// errNotInitialised is returned by methods called before Init.
var errNotInitialised = errors.New("sandbox: adapter used before Init")

// Adapter serves one Platform to the hub. It implements gateway.Adapter.
type Adapter struct {
	p     *Platform
	ownsP bool

	mu       sync.Mutex
	host     gateway.Host
	log      *slog.Logger
	cfg      config
	sessions map[ids.AccountID]*Session
	logins   map[*login]struct{}
	// web is the platform's web page while it is served (web.go).
	web *WebServer
}

var (
	_ gateway.Adapter = (*Adapter)(nil)
	_ gateway.Login   = (*login)(nil)
)

// New returns an adapter for p. With p nil it makes its own platform
// (NewPlatform with zero Options), which Stop closes.
func New(p *Platform) *Adapter {
	a := &Adapter{
		p:        p,
		cfg:      defaultConfig(),
		sessions: map[ids.AccountID]*Session{},
		logins:   map[*login]struct{}{},
	}
	if p == nil {
		a.p, a.ownsP = NewPlatform(Options{}), true
	}
	return a
}

// Platform returns the simulated platform, for tests and the demo to play
// the other side of the wall.
func (a *Adapter) Platform() *Platform { return a.p }

// Info implements gateway.Adapter. The gateway type is "sandbox": the
// addresses look like phone numbers, but claiming "sms" would make clients
// treat the contacts as SMS, which they are not.
func (a *Adapter) Info() gateway.Info {
	return gateway.Info{
		ID:          PlatformID,
		Name:        "Sandbox",
		GatewayType: "sandbox",
		UserPrompt:  "Phone number in international format, e.g. +15550001111",
	}
}

// Init implements gateway.Adapter: it reads the keys auto_confirm,
// code_ttl, echo_delay, echo_reply_only, edit_window, retract_window,
// max_file_size and the web section (see the Config constants), refuses other keys, and does
// no I/O.
// echo_delay, echo_reply_only and the limits (edit_window, retract_window, max_file_size)
// are rules of the platform: they apply to the whole Platform, as the last
// Init set them.
func (a *Adapter) Init(host gateway.Host, raw map[string]any) error {
	if host == nil {
		return errors.New("sandbox: Init without a host")
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	log := host.Logger()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a.mu.Lock()
	a.host, a.log, a.cfg = host, log, cfg
	a.mu.Unlock()
	a.p.setEcho(cfg.echoDelay, cfg.replyOnly)
	a.p.setLimits(cfg.limits)
	return nil
}

// Start implements gateway.Adapter. With web.listen set it serves the
// platform's web page there (WebURL says where).
func (a *Adapter) Start(ctx context.Context) error {
	_, cfg, err := a.env()
	if err != nil || cfg.web.Listen == "" {
		return err
	}
	w, err := NewWebServer(a.p, cfg.web.Listen, cfg.web.Token, a.logger())
	if err != nil {
		return err
	}
	if err := w.Listen(ctx, cfg.web.Listen); err != nil {
		return err
	}
	a.mu.Lock()
	a.web = w
	a.mu.Unlock()
	a.logger().Info("sandbox: the platform's web page is served", "url", w.URL())
	return nil
}

// WebURL is the address of the platform's web page, or "" when it is not
// served (web.listen unset, or before Start).
func (a *Adapter) WebURL() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.web == nil {
		return ""
	}
	return a.web.URL()
}

// Stop implements gateway.Adapter: it cancels running logins and
// disconnects every session. A Platform that New made itself is closed.
func (a *Adapter) Stop(ctx context.Context) error {
	a.mu.Lock()
	web := a.web
	a.web = nil
	sessions := make([]*Session, 0, len(a.sessions))
	for _, s := range a.sessions {
		sessions = append(sessions, s)
	}
	logins := make([]*login, 0, len(a.logins))
	for l := range a.logins {
		logins = append(logins, l)
	}
	a.mu.Unlock()
	for _, l := range logins {
		l.Cancel()
	}
	for _, s := range sessions {
		s.Disconnect()
	}
	if web != nil {
		if err := web.Close(ctx); err != nil {
			a.logger().Warn("sandbox: closing the web page", "err", err)
		}
	}
	if a.ownsP {
		a.p.Close()
	}
	return nil
}

// LoginFlows implements gateway.Adapter.
func (a *Adapter) LoginFlows() []gateway.LoginFlow {
	return []gateway.LoginFlow{{
		ID:   FlowPairingCode,
		Name: "Pairing code",
		Description: "Enter your phone number; the gateway shows an 8-character code " +
			"to type on your phone under Linked devices → Link with phone number.",
		Fields: []gateway.LoginField{phoneField},
	}}
}

// NewLogin implements gateway.Adapter. The only flow is FlowPairingCode; an
// empty flow means it too.
func (a *Adapter) NewLogin(_ context.Context, owner ids.Owner, flow string) (gateway.Login, error) {
	if flow != FlowPairingCode && flow != "" {
		return nil, fmt.Errorf("sandbox: unknown login flow %q (the sandbox offers %q): %w",
			flow, FlowPairingCode, gateway.ErrBadRequest)
	}
	host, cfg, err := a.env()
	if err != nil {
		return nil, err
	}
	l := newLogin(a, host, cfg, owner)
	a.mu.Lock()
	a.logins[l] = struct{}{}
	a.mu.Unlock()
	return l, nil
}

// LoadSession implements gateway.Adapter. The account must have a device
// token in the Host's key-value space (written when it was linked);
// without one the error wraps gateway.ErrNotLinked. The platform keeps its
// state in memory, so after a restart the account signs up again with the
// same token; a token whose device was unlinked is refused with
// gateway.ErrNotLinked.
//
// Each call returns a new Session. The session this adapter returned
// before for the account, if any, is superseded: it stops (without
// reporting a state) and from then on does nothing, so that the hub may
// disconnect it after connecting its replacement.
func (a *Adapter) LoadSession(ctx context.Context, acct ids.AccountID) (gateway.Session, error) {
	host, _, err := a.env()
	if err != nil {
		return nil, err
	}
	if phone, err := NormalizePhone(string(acct)); err != nil || phone != string(acct) {
		return nil, fmt.Errorf("sandbox: account %q is not a phone number in E.164 form: %w", acct, gateway.ErrBadRequest)
	}
	token, err := host.KV(acct).Get(ctx, kvDeviceToken)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("sandbox: account %s has no device token: %w", acct, gateway.ErrNotLinked)
	case err != nil:
		return nil, fmt.Errorf("sandbox: reading the device token of %s: %w", acct, err)
	case len(token) == 0:
		return nil, fmt.Errorf("sandbox: account %s has an empty device token: %w", acct, gateway.ErrNotLinked)
	}
	d, err := a.p.resume(acct, string(token))
	if err != nil {
		return nil, err
	}
	s := newSession(a, host, d)
	a.mu.Lock()
	old := a.sessions[acct]
	a.sessions[acct] = s
	a.mu.Unlock()
	if old != nil {
		old.supersede()
		if old.dev != d {
			// The account was linked again: the old device is gone.
			a.p.removeDevice(old.dev)
		}
	}
	return s, nil
}

// env returns the Host and configuration given to Init.
func (a *Adapter) env() (gateway.Host, config, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.host == nil {
		return nil, config{}, errNotInitialised
	}
	return a.host, a.cfg, nil
}

func (a *Adapter) logger() *slog.Logger {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.log
}

// forgetSession drops s from the adapter (it logged out).
func (a *Adapter) forgetSession(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions[s.acct] == s {
		delete(a.sessions, s.acct)
	}
}

// forgetLogin drops a finished login.
func (a *Adapter) forgetLogin(l *login) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.logins, l)
}
