package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store/sqlstore"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Fields of the login steps.
const (
	// FieldPhone is the phone number the pairing-code flow asks for.
	FieldPhone = "phone"
	// FieldConfirm answers a passkey confirmation: "yes" if the phone
	// shows the same code.
	FieldConfirm = "confirm"
)

// Errors of the login flows that no sentinel of the hub describes.
var (
	// ErrLoginExpired: the QR codes or the pairing code ran out before the
	// phone confirmed.
	ErrLoginExpired = errors.New("whatsapp: the codes expired before the phone confirmed; start linking again")
	// ErrLoginCancelled: the login was cancelled.
	ErrLoginCancelled = errors.New("whatsapp: login cancelled")
	// ErrClientOutdated: WhatsApp refuses this version of the client; the
	// operator must update the gateway.
	ErrClientOutdated = errors.New("whatsapp: WhatsApp refuses this version of the gateway as outdated; the operator must update Drawbridge")
)

// pairCodeLifetime is how long a pairing session lasts: WhatsApp closes
// the login connection when its QR codes run out, 160 s after it opened
// (whatsmeow's PairPhone documentation).
const pairCodeLifetime = 160 * time.Second

// readyTimeout bounds the wait for the login connection to come up.
const readyTimeout = 30 * time.Second

// Pairing-code requests must name a browser and OS WhatsApp accepts; the
// phone shows the device under its real name (the device name) once
// linked.
const (
	pairClientType = whatsmeow.PairClientChrome
	pairClientName = "Chrome (Linux)"
)

type loginPhase int

const (
	phaseNew loginPhase = iota
	phaseInput
	phaseWaiting
	phaseConfirm
	phaseDone
	phaseFailed
)

// login is one run of a login flow:
//
//	QR:           Start → StepQR; Wait → StepQR (next code) | StepDone | error
//	pairing code: Start → StepInput (phone); Submit → StepCode; Wait → StepDone | error
//
// In either flow WhatsApp may ask to confirm a passkey code: the step is
// then a StepInput with FieldConfirm and Data the code; Submit "yes" goes on.
type login struct {
	a         *Adapter
	host      gateway.Host
	container *sqlstore.Container
	owner     ids.Owner
	flow      string

	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once

	mu      sync.Mutex
	phase   loginPhase
	c       *conn
	step    gateway.LoginStep
	version int // bumped for every new step
	shown   int // version last returned
	changed chan struct{}
	err     error
	ending  bool          // finish or fail has begun
	ready   chan struct{} // closed when the login connection is up
	readyAt time.Time
}

func newLogin(a *Adapter, host gateway.Host, container *sqlstore.Container, owner ids.Owner, flow string) *login {
	ctx, cancel := context.WithCancel(context.Background())
	return &login{
		a: a, host: host, container: container, owner: owner, flow: flow,
		ctx: ctx, cancel: cancel, changed: make(chan struct{}), ready: make(chan struct{}),
	}
}

// Start implements gateway.Login. The QR flow connects and returns the
// first code; the pairing-code flow asks for the phone number. Called
// again before the flow moved on, it returns the same step.
func (l *login) Start(ctx context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return gateway.LoginStep{}, err
	}
	if l.flow == FlowPairingCode {
		defer l.mu.Unlock()
		if l.phase != phaseNew && l.phase != phaseInput {
			return gateway.LoginStep{}, fmt.Errorf("whatsapp: login already started: %w", gateway.ErrBadRequest)
		}
		l.phase = phaseInput
		return gateway.LoginStep{
			Kind:         gateway.StepInput,
			Instructions: "Enter the phone number of your WhatsApp account in international format.",
			Fields: []gateway.LoginField{{
				ID:          FieldPhone,
				Label:       "Phone number",
				Description: "International format: + then country code and number, e.g. +15550001111",
				Pattern:     `^\+?[0-9 ()./-]{7,20}$`,
			}},
		}, nil
	}
	if l.phase != phaseNew {
		step := l.step
		l.mu.Unlock()
		return step, nil
	}
	l.phase = phaseWaiting
	l.mu.Unlock()
	if err := l.begin(); err != nil {
		return gateway.LoginStep{}, err
	}
	return l.next(ctx)
}

// begin makes the device and client, asks for the QR channel and
// connects.
func (l *login) begin() error {
	device := l.container.NewDevice()
	client := l.a.newClient(device, newWALogger(l.a.logger().With("owner", string(l.owner)), "whatsmeow/login"))
	c := newConn(client, device)
	// Keep what the client reports from the start: once linked, the
	// session replays it (the first "connected" may come before it exists).
	c.keep()
	qr, err := client.GetQRChannel(l.ctx)
	if err != nil {
		l.fail(fmt.Errorf("whatsapp: preparing the login: %w", err))
		return l.failure()
	}
	l.mu.Lock()
	l.c = c
	l.mu.Unlock()
	go l.pump(qr)
	if err := client.Connect(); err != nil {
		l.fail(fmt.Errorf("whatsapp: cannot reach WhatsApp: %w: %w", err, gateway.ErrUnavailable))
		return l.failure()
	}
	return nil
}

// pump turns the QR channel's items into steps.
func (l *login) pump(qr <-chan whatsmeow.QRChannelItem) {
	for item := range qr {
		l.handle(item)
	}
	l.fail(errors.New("whatsapp: the login connection ended without a result; start linking again"))
}

func (l *login) handle(item whatsmeow.QRChannelItem) {
	log := l.a.logger()
	switch item.Event {
	case whatsmeow.QRChannelEventCode:
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-l.ready:
		default:
			l.readyAt = time.Now()
			close(l.ready)
		}
		if l.flow != FlowQR || l.phase != phaseWaiting {
			return
		}
		secs := int(item.Timeout.Round(time.Second) / time.Second)
		l.setStepLocked(gateway.LoginStep{
			Kind: gateway.StepQR,
			Instructions: fmt.Sprintf("Open WhatsApp on your phone → Settings → Linked devices → Link a device, "+
				"and scan this QR code. It is replaced by a new one in %d seconds.", secs),
			Data:    item.Code,
			Expires: time.Now().Add(item.Timeout),
		})
	case whatsmeow.QRChannelSuccess.Event:
		l.finish()
	case whatsmeow.QRChannelTimeout.Event:
		l.fail(ErrLoginExpired)
	case whatsmeow.QRChannelClientOutdated.Event:
		l.fail(ErrClientOutdated)
	case whatsmeow.QRChannelScannedWithoutMultidevice.Event:
		l.mu.Lock()
		defer l.mu.Unlock()
		step := l.step
		step.Instructions = "Your phone scanned the code but cannot link devices: update WhatsApp on the phone, then scan again.\n" + step.Instructions
		l.setStepLocked(step)
	case whatsmeow.QRChannelErrUnexpectedEvent.Event:
		l.fail(errors.New("whatsapp: WhatsApp answered the login unexpectedly (was the device linked already?); start linking again"))
	case whatsmeow.QRChannelEventPasskeyRequest:
		l.fail(fmt.Errorf("whatsapp: WhatsApp asks for a passkey to link this device, which the gateway cannot provide; "+
			"try the other login flow, or link from a phone without a passkey requirement: %w", gateway.ErrNotSupported))
	case whatsmeow.QRChannelEventPasskeyResponse:
		code := ""
		if item.PasskeyConfirmation != nil {
			code = item.PasskeyConfirmation.Code
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.phase = phaseConfirm
		l.setStepLocked(gateway.LoginStep{
			Kind:         gateway.StepInput,
			Instructions: fmt.Sprintf("Your phone asks you to confirm linking with the code %s. Answer yes if the phone shows the same code.", code),
			Fields: []gateway.LoginField{{
				ID: FieldConfirm, Label: "Same code on the phone (yes or no)", Pattern: `^(?i)(yes|no|y|n)$`,
			}},
			Data: code,
		})
	case whatsmeow.QRChannelEventError:
		l.fail(fmt.Errorf("whatsapp: linking failed: %w", item.Error))
	default:
		log.Debug("whatsapp: ignoring login event", "event", item.Event)
	}
}

// finish records the linked device and hands its client over, before
// any waiter sees StepDone (the hub loads the session right after).
func (l *login) finish() {
	l.mu.Lock()
	c := l.c
	if l.ending || l.phase == phaseDone || l.phase == phaseFailed || c == nil {
		l.mu.Unlock()
		return
	}
	// From here on a Cancel is too late: the phone has linked the device.
	l.ending = true
	l.mu.Unlock()
	jid := c.device.ID
	if jid == nil || jid.User == "" {
		l.end(errors.New("whatsapp: WhatsApp reported success but the device has no identity; start linking again"))
		return
	}
	acct := ids.AccountID("+" + jid.User)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), 30*time.Second)
	defer cancel()
	kv := l.host.KV(acct)
	if err := kv.Set(ctx, kvDeviceJID, []byte(jid.String())); err != nil {
		_ = c.client.Logout(ctx)
		l.end(fmt.Errorf("whatsapp: recording the device of %s: %w", acct, err))
		return
	}
	if err := kv.Set(ctx, kvPhoneLastSeen, []byte(l.a.now().UTC().Format(time.RFC3339))); err != nil {
		l.a.logger().Warn("whatsapp: cannot record when the phone was seen", "account", acct, "err", err)
	}
	// Relinking the same number: the earlier device goes (relink.go).
	l.a.retireOldDevices(ctx, acct, *jid)
	l.a.handOver(acct, c)
	l.mu.Lock()
	l.phase = phaseDone
	l.setStepLocked(gateway.LoginStep{
		Kind:         gateway.StepDone,
		Instructions: fmt.Sprintf("Linked WhatsApp account %s; your phone lists this gateway under Linked devices.", acct),
		Account:      acct,
	})
	l.mu.Unlock()
	l.a.forgetLogin(l)
	l.cancel()
	l.a.logger().Info("whatsapp: account linked", "owner", l.owner, "account", acct, "device", jid.String())
}

// setStepLocked shows a new step to the next Wait.
func (l *login) setStepLocked(step gateway.LoginStep) {
	l.step = step
	l.version++
	close(l.changed)
	l.changed = make(chan struct{})
}

// fail ends the login with err, unless it is ending already (the first
// result wins).
func (l *login) fail(err error) {
	l.mu.Lock()
	if l.ending || l.phase == phaseDone || l.phase == phaseFailed {
		l.mu.Unlock()
		return
	}
	l.ending = true
	l.mu.Unlock()
	l.end(err)
}

// end closes the connection, then lets waiters see err.
func (l *login) end(err error) {
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	l.cancel()
	if c != nil {
		c.client.Disconnect()
	}
	l.mu.Lock()
	l.phase, l.err = phaseFailed, err
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	l.a.forgetLogin(l)
	if !errors.Is(err, ErrLoginCancelled) {
		l.a.logger().Info("whatsapp: login failed", "owner", l.owner, "flow", l.flow, "err", err)
	}
}

func (l *login) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// usableLocked refuses a failed or cancelled login.
func (l *login) usableLocked() error {
	if l.phase == phaseFailed {
		return l.err
	}
	return nil
}

// next waits for a step the caller has not seen yet.
func (l *login) next(ctx context.Context) (gateway.LoginStep, error) {
	for {
		l.mu.Lock()
		if err := l.usableLocked(); err != nil {
			l.mu.Unlock()
			return gateway.LoginStep{}, err
		}
		if l.version > l.shown || l.phase == phaseDone {
			l.shown = l.version
			step := l.step
			l.mu.Unlock()
			return step, nil
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return gateway.LoginStep{}, ctx.Err()
		}
	}
}

// Wait implements gateway.Login: it returns the next QR code, StepDone
// once the phone confirmed, a passkey confirmation to answer, or the
// error that ended the login (ErrLoginExpired when the codes ran out).
// When ctx ends first it returns ctx.Err() and may be called again.
func (l *login) Wait(ctx context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	switch l.phase {
	case phaseNew, phaseInput:
		l.mu.Unlock()
		return gateway.LoginStep{}, fmt.Errorf("whatsapp: nothing to wait for; start the login or give the phone number first: %w", gateway.ErrBadRequest)
	case phaseConfirm:
		if l.version == l.shown {
			l.mu.Unlock()
			return gateway.LoginStep{}, fmt.Errorf("whatsapp: answer the confirmation first: %w", gateway.ErrBadRequest)
		}
	}
	l.mu.Unlock()
	return l.next(ctx)
}

// Submit implements gateway.Login: the phone number of the pairing-code
// flow (it connects and returns the StepCode), or the answer to a passkey
// confirmation.
func (l *login) Submit(ctx context.Context, input map[string]string) (gateway.LoginStep, error) {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return gateway.LoginStep{}, err
	}
	phase := l.phase
	l.mu.Unlock()
	switch phase {
	case phaseInput:
		return l.submitPhone(ctx, input[FieldPhone])
	case phaseConfirm:
		return l.submitConfirm(ctx, input[FieldConfirm])
	}
	return gateway.LoginStep{}, fmt.Errorf("whatsapp: the login expects no input now: %w", gateway.ErrBadRequest)
}

func (l *login) submitPhone(ctx context.Context, raw string) (gateway.LoginStep, error) {
	if strings.TrimSpace(raw) == "" {
		return gateway.LoginStep{}, fmt.Errorf("whatsapp: the field %q (phone number) is required: %w", FieldPhone, gateway.ErrBadRequest)
	}
	phone, err := gateway.NormalizePhone(raw)
	if err != nil {
		return gateway.LoginStep{}, err
	}
	l.mu.Lock()
	if l.phase != phaseInput {
		l.mu.Unlock()
		return gateway.LoginStep{}, fmt.Errorf("whatsapp: the phone number was given already: %w", gateway.ErrBadRequest)
	}
	l.phase = phaseWaiting
	l.mu.Unlock()
	if err := l.begin(); err != nil {
		return gateway.LoginStep{}, err
	}
	wait, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	select {
	case <-l.ready:
	case <-wait.Done():
		err := fmt.Errorf("whatsapp: WhatsApp did not answer within %s: %w", readyTimeout, gateway.ErrUnavailable)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		l.fail(err)
		return gateway.LoginStep{}, err
	case <-l.ctx.Done():
		return gateway.LoginStep{}, ErrLoginCancelled
	}
	if err := l.failure(); err != nil {
		return gateway.LoginStep{}, err
	}
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	code, err := c.client.PairPhone(ctx, phone, true, pairClientType, pairClientName)
	if err != nil {
		if errors.Is(err, whatsmeow.ErrPhoneNumberTooShort) || errors.Is(err, whatsmeow.ErrPhoneNumberIsNotInternational) {
			err = fmt.Errorf("%w: %w", err, gateway.ErrBadRequest)
		}
		err = fmt.Errorf("whatsapp: requesting a pairing code for %s: %w", phone, err)
		l.fail(err)
		return gateway.LoginStep{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return gateway.LoginStep{}, err
	}
	if l.phase == phaseDone || l.phase == phaseConfirm {
		// Something newer happened already; Wait will show it.
		return l.step, nil
	}
	l.setStepLocked(gateway.LoginStep{
		Kind: gateway.StepCode,
		Instructions: fmt.Sprintf("On the phone %s, WhatsApp shows a notification; or open WhatsApp → Settings → Linked devices → "+
			"Link a device → Link with phone number instead. Enter the code %s.", phone, code),
		Data:    code,
		Expires: l.readyAt.Add(pairCodeLifetime),
	})
	l.shown = l.version
	l.a.logger().Info("whatsapp: pairing code issued", "owner", l.owner, "phone", phone)
	return l.step, nil
}

func (l *login) submitConfirm(ctx context.Context, answer string) (gateway.LoginStep, error) {
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "yes", "y":
	case "no", "n":
		err := errors.New("whatsapp: the codes did not match; linking stopped. Start again, and make sure you scan or type the code on your own phone")
		l.fail(err)
		return gateway.LoginStep{}, err
	default:
		return gateway.LoginStep{}, fmt.Errorf("whatsapp: answer yes or no: %w", gateway.ErrBadRequest)
	}
	l.mu.Lock()
	if l.phase != phaseConfirm {
		l.mu.Unlock()
		return gateway.LoginStep{}, fmt.Errorf("whatsapp: nothing to confirm: %w", gateway.ErrBadRequest)
	}
	l.phase = phaseWaiting
	l.shown = l.version
	c := l.c
	l.mu.Unlock()
	if err := c.client.SendPasskeyConfirmation(ctx); err != nil {
		err = fmt.Errorf("whatsapp: confirming the link: %w", err)
		l.fail(err)
		return gateway.LoginStep{}, err
	}
	return l.next(ctx)
}

// Cancel implements gateway.Login: a login that has not finished stops
// and disconnects; a finished one is left alone. Safe to call repeatedly.
func (l *login) Cancel() {
	l.once.Do(func() {
		l.fail(ErrLoginCancelled)
		l.cancel()
	})
	l.a.forgetLogin(l)
}
