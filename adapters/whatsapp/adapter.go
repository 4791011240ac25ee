package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	gwstore "github.com/drawbridge-im/drawbridge/gateway/store"
)

// PlatformID is the adapter's id.
const PlatformID ids.PlatformID = "whatsapp"

// Login flows.
const (
	// FlowQR links by scanning QR codes with the phone.
	FlowQR = "qr"
	// FlowPairingCode links by typing a code on the phone.
	FlowPairingCode = "pairing-code"
)

// kvDeviceJID is the key under which the adapter keeps, per account, the
// JID of its device in whatsmeow's store.
const kvDeviceJID = "device_jid"

// kvPhoneLastSeen is the key of the last time the phone was seen online
// (RFC 3339).
const kvPhoneLastSeen = "phone_last_seen"

// handoverTimeout bounds how long a linked client waits for the hub to
// load its session before it disconnects (its device stays stored).
const handoverTimeout = 2 * time.Minute

var errNotInitialised = errors.New("whatsapp: adapter used before Init")

// Option changes how New builds the adapter; the options exist for tests.
type Option func(*Adapter)

// WithClientFactory makes the adapter use f instead of whatsmeow for its
// clients (tests use whatsapptest.Factory).
func WithClientFactory(f ClientFactory) Option {
	return func(a *Adapter) { a.newClient = f }
}

// WithFetcher replaces the HTTP download of profile pictures.
func WithFetcher(f func(ctx context.Context, url string) ([]byte, error)) Option {
	return func(a *Adapter) { a.fetch = f }
}

// WithClock replaces time.Now (the phone-offline warning uses it).
func WithClock(now func() time.Time) Option {
	return func(a *Adapter) { a.now = now }
}

// Adapter is the WhatsApp platform. It implements gateway.Adapter.
type Adapter struct {
	newClient ClientFactory
	fetch     func(ctx context.Context, url string) ([]byte, error)
	now       func() time.Time

	mu        sync.Mutex
	host      gateway.Host
	log       *slog.Logger
	cfg       config
	container *sqlstore.Container
	sessions  map[ids.AccountID]*Session
	logins    map[*login]struct{}
	// pending holds the clients of finished logins until LoadSession
	// takes them.
	pending map[ids.AccountID]*pendingConn
}

type pendingConn struct {
	c     *conn
	timer *time.Timer
}

var (
	_ gateway.Adapter = (*Adapter)(nil)
	_ gateway.Login   = (*login)(nil)
)

// New returns an adapter; Init configures it and Start opens the device
// store.
func New(opts ...Option) *Adapter {
	a := &Adapter{
		newClient: NewWhatsmeowClient,
		now:       time.Now,
		cfg:       defaultConfig(),
		sessions:  map[ids.AccountID]*Session{},
		logins:    map[*login]struct{}{},
		pending:   map[ids.AccountID]*pendingConn{},
	}
	a.fetch = httpFetch
	for _, o := range opts {
		o(a)
	}
	return a
}

// Info implements gateway.Adapter.
func (a *Adapter) Info() gateway.Info {
	return gateway.Info{
		ID:          PlatformID,
		Name:        "WhatsApp",
		GatewayType: "whatsapp",
		UserPrompt:  "Phone number in international format, e.g. +15550001111",
	}
}

// Init implements gateway.Adapter: it reads the configuration (see the
// Config constants; other keys are errors) and names the device; it does
// no I/O.
func (a *Adapter) Init(host gateway.Host, raw map[string]any) error {
	if host == nil {
		return errors.New("whatsapp: Init without a host")
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	log := host.Logger()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	setDeviceName(cfg.deviceName)
	a.mu.Lock()
	a.host, a.log, a.cfg = host, log, cfg
	a.mu.Unlock()
	return nil
}

// deviceNameMu guards whatsmeow's process-wide device properties.
var deviceNameMu sync.Mutex

// setDeviceName sets the name the phone shows under Linked devices for
// devices linked from now on. whatsmeow keeps it in a package variable,
// so it is one name per process.
func setDeviceName(name string) {
	deviceNameMu.Lock()
	defer deviceNameMu.Unlock()
	if store.DeviceProps.GetOs() != name {
		store.DeviceProps.Os = &name
	}
}

// Start implements gateway.Adapter: it opens whatsmeow's device store.
func (a *Adapter) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.host == nil {
		return errNotInitialised
	}
	if a.container != nil {
		return nil
	}
	c, err := openContainer(ctx, a.cfg, newWALogger(a.log, "whatsmeow/store"))
	if err != nil {
		return err
	}
	a.container = c
	return nil
}

// Stop implements gateway.Adapter: it cancels logins, disconnects every
// session and closes the device store.
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
	pending := a.pending
	a.pending = map[ids.AccountID]*pendingConn{}
	a.mu.Unlock()
	for _, l := range logins {
		l.Cancel()
	}
	for _, s := range sessions {
		s.Disconnect()
	}
	for _, p := range pending {
		p.timer.Stop()
		p.c.client.Disconnect()
	}
	a.mu.Lock()
	c := a.container
	a.container = nil
	a.mu.Unlock()
	if c != nil {
		if err := c.Close(); err != nil {
			return fmt.Errorf("whatsapp: closing the device store: %w", err)
		}
	}
	return nil
}

// LoginFlows implements gateway.Adapter: QR first (the usual way), then
// the pairing code (for a phone that cannot scan the screen it is shown on).
func (a *Adapter) LoginFlows() []gateway.LoginFlow {
	return []gateway.LoginFlow{
		{
			ID:   FlowQR,
			Name: "QR code",
			Description: "Scan QR codes with WhatsApp on your phone: Settings → Linked devices → Link a device. " +
				"A new code comes every 20 seconds.",
		},
		{
			ID:   FlowPairingCode,
			Name: "Phone number and pairing code",
			Description: "Enter your phone number; type the 8-character code the gateway shows in WhatsApp on your phone: " +
				"Settings → Linked devices → Link a device → Link with phone number instead.",
		},
	}
}

// NewLogin implements gateway.Adapter. "" means the QR flow.
func (a *Adapter) NewLogin(ctx context.Context, owner ids.Owner, flow string) (gateway.Login, error) {
	switch flow {
	case "":
		flow = FlowQR
	case FlowQR, FlowPairingCode:
	default:
		return nil, fmt.Errorf("whatsapp: unknown login flow %q (use %q or %q): %w", flow, FlowQR, FlowPairingCode, gateway.ErrBadRequest)
	}
	host, container, err := a.env()
	if err != nil {
		return nil, err
	}
	l := newLogin(a, host, container, owner, flow)
	a.mu.Lock()
	a.logins[l] = struct{}{}
	a.mu.Unlock()
	return l, nil
}

// LoadSession implements gateway.Adapter. The account's device JID is in
// the Host's key-value space (written when it was linked) and its keys in
// whatsmeow's store; without either the error wraps gateway.ErrNotLinked.
// A session loaded before for the account is superseded: it stops without
// reporting a state.
func (a *Adapter) LoadSession(ctx context.Context, acct ids.AccountID) (gateway.Session, error) {
	host, container, err := a.env()
	if err != nil {
		return nil, err
	}
	if phone, err := gateway.NormalizePhone(string(acct)); err != nil || phone != string(acct) {
		return nil, fmt.Errorf("whatsapp: account %q is not a phone number in E.164 form: %w", acct, gateway.ErrBadRequest)
	}
	c, fresh, err := a.takeConn(ctx, host, container, acct)
	if err != nil {
		return nil, err
	}
	s := newSession(a, host, acct, c, fresh)
	a.mu.Lock()
	old := a.sessions[acct]
	a.sessions[acct] = s
	a.mu.Unlock()
	if old != nil {
		old.supersede()
	}
	return s, nil
}

// takeConn returns the client of a login that just finished for acct, or
// makes one for the device stored for acct. fresh says whether it still
// has to connect.
func (a *Adapter) takeConn(ctx context.Context, host gateway.Host, container *sqlstore.Container, acct ids.AccountID) (*conn, bool, error) {
	a.mu.Lock()
	p := a.pending[acct]
	delete(a.pending, acct)
	a.mu.Unlock()
	if p != nil {
		p.timer.Stop()
		return p.c, false, nil
	}
	kv := host.KV(acct)
	raw, err := kv.Get(ctx, kvDeviceJID)
	switch {
	case errors.Is(err, gwstore.ErrNotFound):
		return nil, false, fmt.Errorf("whatsapp: account %s has no linked device: %w", acct, gateway.ErrNotLinked)
	case err != nil:
		return nil, false, fmt.Errorf("whatsapp: reading the device of %s: %w", acct, err)
	}
	jid, err := types.ParseJID(string(raw))
	if err != nil || jid.User == "" {
		return nil, false, fmt.Errorf("whatsapp: account %s has an unreadable device JID %q: %w", acct, raw, gateway.ErrNotLinked)
	}
	device, err := container.GetDevice(ctx, jid)
	if err != nil {
		return nil, false, fmt.Errorf("whatsapp: loading device %s of %s: %w", jid, acct, err)
	}
	if device == nil {
		// WhatsApp logged the device out while the gateway was away, or
		// the device store was lost.
		if err := kv.Delete(ctx, kvDeviceJID); err != nil {
			a.logger().Warn("whatsapp: cannot forget a vanished device", "account", acct, "err", err)
		}
		return nil, false, fmt.Errorf("whatsapp: the device of %s is no longer in the device store; link the account again: %w", acct, gateway.ErrNotLinked)
	}
	client := a.newClient(device, newWALogger(a.logger().With("account", string(acct)), "whatsmeow"))
	return newConn(client, device), true, nil
}

// handOver keeps the client of a finished login for LoadSession.
func (a *Adapter) handOver(acct ids.AccountID, c *conn) {
	c.keep()
	p := &pendingConn{c: c}
	p.timer = time.AfterFunc(handoverTimeout, func() {
		a.mu.Lock()
		if a.pending[acct] != p {
			a.mu.Unlock()
			return
		}
		delete(a.pending, acct)
		a.mu.Unlock()
		a.logger().Warn("whatsapp: linked account was not loaded by the gateway; disconnecting it", "account", acct)
		c.client.Disconnect()
	})
	a.mu.Lock()
	old := a.pending[acct]
	a.pending[acct] = p
	a.mu.Unlock()
	if old != nil {
		old.timer.Stop()
		old.c.client.Disconnect()
	}
}

// env returns the Host and the device store.
func (a *Adapter) env() (gateway.Host, *sqlstore.Container, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.host == nil {
		return nil, nil, errNotInitialised
	}
	if a.container == nil {
		return nil, nil, errors.New("whatsapp: adapter used before Start")
	}
	return a.host, a.container, nil
}

func (a *Adapter) config() config {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg
}

func (a *Adapter) logger() *slog.Logger {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.log
}

func (a *Adapter) forgetSession(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions[s.acct] == s {
		delete(a.sessions, s.acct)
	}
}

func (a *Adapter) forgetLogin(l *login) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.logins, l)
}

// maxAvatarSize bounds a downloaded profile picture.
const maxAvatarSize = 5 << 20

var avatarHTTP = &http.Client{Timeout: 30 * time.Second}

// httpFetch downloads a profile picture from WhatsApp's CDN.
func httpFetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := avatarHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET profile picture: %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAvatarSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxAvatarSize {
		return nil, fmt.Errorf("profile picture larger than %d bytes", maxAvatarSize)
	}
	return data, nil
}
