package telegram

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gotd/td/telegram"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// PlatformID is the adapter's id and its configuration section's name.
const PlatformID ids.PlatformID = "telegram"

// Login flows.
const (
	// FlowPhone is the login by phone number, login code and, when the
	// account has one, its two-step verification password.
	FlowPhone = "phone"
	// FlowQR is the login by a QR code scanned with Telegram on a device
	// already signed in (then the password, if the account has one).
	FlowQR = "qr"
)

// Option changes how the adapter reaches Telegram.
type Option func(*Adapter)

// WithClientOptions has every gotd client the adapter makes pass its
// options through f first. Tests point clients at the in-process server
// of package telegramtest with it (its Server.Options).
func WithClientOptions(f func(telegram.Options) telegram.Options) Option {
	return func(a *Adapter) { a.clientOptions = f }
}

// Adapter is the Telegram platform.
type Adapter struct {
	clientOptions func(telegram.Options) telegram.Options

	mu       sync.Mutex
	host     gateway.Host
	cfg      config
	sessions map[ids.AccountID]*Session
	logins   map[*login]struct{}
}

var _ gateway.Adapter = (*Adapter)(nil)

// New returns an adapter; Init configures it.
func New(opts ...Option) *Adapter {
	a := &Adapter{sessions: map[ids.AccountID]*Session{}, logins: map[*login]struct{}{}}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Info implements gateway.Adapter.
func (a *Adapter) Info() gateway.Info {
	return gateway.Info{
		ID: PlatformID, Name: "Telegram", GatewayType: "telegram",
		UserPrompt: "Telegram user id",
		// End-to-end encrypted between two devices: a gateway cannot
		// take part.
		NotBridged: "secret chats (end-to-end encrypted between two devices)",
	}
}

// Init implements gateway.Adapter: it reads the section (api_id and
// api_hash are required) and does no I/O.
func (a *Adapter) Init(host gateway.Host, raw map[string]any) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.host, a.cfg = host, cfg
	return nil
}

// Start implements gateway.Adapter; sessions start on their own.
func (a *Adapter) Start(context.Context) error { return nil }

// Stop implements gateway.Adapter: it ends every session and login.
func (a *Adapter) Stop(context.Context) error {
	a.mu.Lock()
	sessions := make([]*Session, 0, len(a.sessions))
	for _, s := range a.sessions {
		sessions = append(sessions, s)
	}
	logins := make([]*login, 0, len(a.logins))
	for l := range a.logins {
		logins = append(logins, l)
	}
	a.mu.Unlock()
	for _, s := range sessions {
		s.Disconnect()
	}
	for _, l := range logins {
		l.Cancel()
	}
	return nil
}

// LoginFlows implements gateway.Adapter.
func (a *Adapter) LoginFlows() []gateway.LoginFlow {
	return []gateway.LoginFlow{{
		ID: FlowPhone, Name: "Phone number and login code",
		Description: "Telegram sends a login code to your Telegram app (or by SMS); enter it here, then your two-step verification password if you set one.",
		Fields:      []gateway.LoginField{phoneField},
	}, {
		ID: FlowQR, Name: "QR code",
		Description: "Scan a QR code with Telegram on your phone (Settings → Devices → Link Desktop Device), then enter your two-step verification password if you set one.",
	}}
}

// NewLogin implements gateway.Adapter.
func (a *Adapter) NewLogin(_ context.Context, owner ids.Owner, flow string) (gateway.Login, error) {
	if flow != FlowPhone && flow != FlowQR {
		return nil, fmt.Errorf("telegram: no login flow %q (there are %q and %q): %w", flow, FlowPhone, FlowQR, gateway.ErrBadRequest)
	}
	host, cfg, err := a.env()
	if err != nil {
		return nil, err
	}
	l := newLogin(a, host, cfg, owner, flow)
	a.mu.Lock()
	a.logins[l] = struct{}{}
	a.mu.Unlock()
	return l, nil
}

// loginEnded forgets a finished login.
func (a *Adapter) loginEnded(l *login) {
	a.mu.Lock()
	delete(a.logins, l)
	a.mu.Unlock()
}

// LoadSession implements gateway.Adapter: the account must have a stored
// Telegram session (ErrNotLinked otherwise).
func (a *Adapter) LoadSession(ctx context.Context, acct ids.AccountID) (gateway.Session, error) {
	host, cfg, err := a.env()
	if err != nil {
		return nil, err
	}
	self, err := convert.ParseUser(acct)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, gateway.ErrBadRequest)
	}
	if _, err := host.KV(acct).Get(ctx, keySession); errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("telegram: account %s has no stored session: %w", acct, gateway.ErrNotLinked)
	} else if err != nil {
		return nil, fmt.Errorf("telegram: session of %s: %w", acct, err)
	}
	s := newSession(a, host, cfg, acct, self)
	a.mu.Lock()
	old := a.sessions[acct]
	a.sessions[acct] = s
	a.mu.Unlock()
	if old != nil {
		old.Disconnect()
	}
	return s, nil
}

// sessionEnded forgets s if it is still the account's session.
func (a *Adapter) sessionEnded(s *Session) {
	a.mu.Lock()
	if a.sessions[s.acct] == s {
		delete(a.sessions, s.acct)
	}
	a.mu.Unlock()
}

func (a *Adapter) env() (gateway.Host, config, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.host == nil {
		return nil, config{}, errors.New("telegram: adapter used before Init")
	}
	return a.host, a.cfg, nil
}

// newClient makes a gotd client with the operator's application and the
// adapter's options.
func (a *Adapter) newClient(cfg config, opts telegram.Options) *telegram.Client {
	// The name Telegram shows under Settings → Devices.
	opts.Device.DeviceModel = "Drawbridge"
	if a.clientOptions != nil {
		opts = a.clientOptions(opts)
	}
	return telegram.NewClient(cfg.apiID, cfg.apiHash, opts)
}
