package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// FieldPhone is the id of the field the pairing-code flow asks for.
const FieldPhone = "phone"

// Errors of the login flow that no sentinel of the hub describes.
var (
	// ErrPairingExpired: MaxPairingCodes codes expired without the phone
	// confirming one.
	ErrPairingExpired = errors.New("sandbox: pairing codes expired without confirmation")
	// ErrLoginCancelled: the login was cancelled.
	ErrLoginCancelled = errors.New("sandbox: login cancelled")
)

// phoneField is what the pairing-code flow asks first (and says so in
// advance: Adapter.LoginFlows).
var phoneField = gateway.LoginField{
	ID:          FieldPhone,
	Label:       "Phone number",
	Description: "International format: + then country code and number, e.g. +15550001111",
	Pattern:     PhonePattern,
}

type loginPhase int

const (
	loginNew loginPhase = iota
	loginInput
	loginCode
	loginDone
	loginFailed
)

// login is one run of the pairing-code flow:
//
//	Start  → StepInput (field "phone")
//	Submit → StepCode (code, Expires)
//	Wait   → StepDone (confirmed) | StepCode (the code expired: the next
//	         one) | ErrPairingExpired (after MaxPairingCodes codes)
type login struct {
	a     *Adapter
	host  gateway.Host
	cfg   config
	owner ids.Owner

	mu       sync.Mutex
	phase    loginPhase
	phone    string
	pr       *pairing
	deadline time.Time // real time when pr expires
	expires  time.Time // the same, on the platform's clock
	codes    int
	step     gateway.LoginStep
	cancel   chan struct{}
	once     sync.Once
}

func newLogin(a *Adapter, host gateway.Host, cfg config, owner ids.Owner) *login {
	return &login{a: a, host: host, cfg: cfg, owner: owner, cancel: make(chan struct{})}
}

// Start implements gateway.Login. Called again before the flow moved on,
// it returns the same step.
func (l *login) Start(context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return gateway.LoginStep{}, err
	}
	switch l.phase {
	case loginNew, loginInput:
		l.phase = loginInput
		return gateway.LoginStep{
			Kind:         gateway.StepInput,
			Instructions: "Enter the phone number of your sandbox account in international format.",
			Fields:       []gateway.LoginField{phoneField},
		}, nil
	}
	return gateway.LoginStep{}, fmt.Errorf("sandbox: login already started: %w", gateway.ErrBadRequest)
}

// Submit implements gateway.Login: it takes the phone number and shows the
// first pairing code.
func (l *login) Submit(_ context.Context, input map[string]string) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return gateway.LoginStep{}, err
	}
	if l.phase != loginInput {
		return gateway.LoginStep{}, fmt.Errorf("sandbox: login expects no input now: %w", gateway.ErrBadRequest)
	}
	raw, ok := input[FieldPhone]
	if !ok || raw == "" {
		return gateway.LoginStep{}, gateway.Explain(phoneAdvice(""),
			fmt.Errorf("sandbox: the field %q (phone number) is required: %w", FieldPhone, gateway.ErrBadRequest))
	}
	phone, err := l.a.p.phoneOf(raw)
	if err != nil {
		return gateway.LoginStep{}, err
	}
	if u, ok := l.a.p.User(ids.UserID(phone)); ok && u.Kind == KindBot {
		return gateway.LoginStep{}, gateway.Explain(fmt.Sprintf("%s is a bot of the sandbox and cannot be linked: enter the phone number of your own account.", phone),
			fmt.Errorf("sandbox: %s is a bot and cannot be linked: %w", phone, gateway.ErrBadRequest))
	}
	l.phone = phone
	l.phase = loginCode
	l.a.logger().Info("sandbox: pairing started", "owner", l.owner, "phone", phone)
	return l.nextCodeLocked(), nil
}

// nextCodeLocked issues a new pairing code and returns its step.
func (l *login) nextCodeLocked() gateway.LoginStep {
	if l.pr != nil {
		l.a.p.dropPairing(l.pr)
	}
	l.codes++
	l.pr = l.a.p.newPairing(l.phone)
	l.deadline = time.Now().Add(l.cfg.codeTTL)
	l.expires = l.a.p.now().Add(l.cfg.codeTTL)
	// The code is the step's Data, which frontends show once.
	instr := fmt.Sprintf("On the phone %s, open Linked devices → Link with phone number and enter the code.", l.phone)
	if l.cfg.autoConfirm {
		instr += " (The sandbox phone confirms by itself.)"
	}
	l.step = gateway.LoginStep{Kind: gateway.StepCode, Instructions: instr, Data: l.pr.code, Expires: l.expires}
	return l.step
}

// Wait implements gateway.Login: it blocks until the phone confirms the
// code shown (StepDone), the code expires (StepCode with the next code, or
// ErrPairingExpired after MaxPairingCodes codes), the login is cancelled
// (ErrLoginCancelled) or ctx is done (ctx.Err(); Wait may be called again).
// With auto_confirm the phone confirms at once.
func (l *login) Wait(ctx context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return gateway.LoginStep{}, err
	}
	if l.phase == loginDone {
		l.mu.Unlock()
		return l.step, nil
	}
	if l.phase != loginCode {
		l.mu.Unlock()
		return gateway.LoginStep{}, fmt.Errorf("sandbox: no pairing code to wait for: %w", gateway.ErrBadRequest)
	}
	pr, deadline := l.pr, l.deadline
	l.mu.Unlock()

	if l.cfg.autoConfirm {
		l.a.p.confirm(pr)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-pr.confirmed:
		return l.finish(ctx, pr)
	case <-timer.C:
		return l.expired(pr)
	case <-l.cancel:
		return gateway.LoginStep{}, ErrLoginCancelled
	case <-ctx.Done():
		return gateway.LoginStep{}, ctx.Err()
	}
}

// expired moves on from pr, which expired.
func (l *login) expired(pr *pairing) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pr != pr || l.phase != loginCode {
		// Another Wait moved on already.
		return l.currentLocked()
	}
	select {
	case <-pr.confirmed:
		// Confirmed just as it expired: let the next Wait finish it.
		return l.step, nil
	default:
	}
	if l.codes >= MaxPairingCodes {
		l.a.p.dropPairing(pr)
		l.failLocked()
		return gateway.LoginStep{}, fmt.Errorf("%w: %d codes for %s", ErrPairingExpired, l.codes, l.phone)
	}
	l.a.logger().Debug("sandbox: pairing code expired, showing the next", "phone", l.phone, "code", l.codes+1)
	return l.nextCodeLocked(), nil
}

// finish links the account once the phone confirmed pr.
func (l *login) finish(ctx context.Context, pr *pairing) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.phase == loginDone {
		return l.step, nil
	}
	if l.pr != pr || l.phase != loginCode {
		return l.currentLocked()
	}
	d, err := l.a.p.signUp(l.phone)
	if err != nil {
		l.failLocked()
		return gateway.LoginStep{}, err
	}
	acct := ids.AccountID(l.phone)
	if err := l.host.KV(acct).Set(ctx, kvDeviceToken, []byte(d.token)); err != nil {
		l.a.p.removeDevice(d)
		l.failLocked()
		return gateway.LoginStep{}, fmt.Errorf("sandbox: storing the device token of %s: %w", acct, err)
	}
	l.phase = loginDone
	l.a.forgetLogin(l)
	l.a.logger().Info("sandbox: account linked", "owner", l.owner, "account", acct)
	l.step = gateway.LoginStep{Kind: gateway.StepDone, Instructions: "Linked " + l.phone + ".", Account: acct}
	return l.step, nil
}

// currentLocked is the step the flow is at, for a Wait that lost a race.
func (l *login) currentLocked() (gateway.LoginStep, error) {
	if err := l.usableLocked(); err != nil {
		return gateway.LoginStep{}, err
	}
	return l.step, nil
}

func (l *login) failLocked() {
	l.phase = loginFailed
	l.pr = nil
	l.a.forgetLogin(l)
}

// usableLocked refuses a cancelled or failed login.
func (l *login) usableLocked() error {
	select {
	case <-l.cancel:
		return ErrLoginCancelled
	default:
	}
	if l.phase == loginFailed {
		return fmt.Errorf("sandbox: this login failed; start a new one: %w", gateway.ErrBadRequest)
	}
	return nil
}

// Cancel implements gateway.Login; the pending code is withdrawn.
func (l *login) Cancel() {
	l.once.Do(func() { close(l.cancel) })
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pr != nil && l.phase == loginCode {
		l.a.p.dropPairing(l.pr)
	}
	l.a.forgetLogin(l)
}
