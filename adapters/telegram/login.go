package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/auth/qrlogin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Fields of the login steps.
const (
	// FieldPhone is the account's phone number.
	FieldPhone = "phone"
	// FieldCode is the login code Telegram sent.
	FieldCode = "code"
	// FieldPassword is the two-step verification password.
	FieldPassword = "password"
)

var (
	phoneField = gateway.LoginField{
		ID: FieldPhone, Label: "Phone number",
		Description: "The phone number of your Telegram account in international format, e.g. +15550001111",
		Pattern:     `^\+?[0-9 ()./-]{7,20}$`,
	}
	codeField = gateway.LoginField{
		ID: FieldCode, Label: "Login code",
		Description: "The code Telegram sent to your Telegram app (or by SMS)",
		Pattern:     `^[0-9 ]{3,12}$`,
	}
	passwordField = gateway.LoginField{
		ID: FieldPassword, Label: "Password",
		Description: "Your two-step verification password",
	}
)

// ErrLoginCancelled: the login was cancelled or the gateway stopped.
var ErrLoginCancelled = errors.New("telegram: login cancelled")

type loginPhase int

const (
	phaseNew loginPhase = iota
	phasePhone
	phaseCode
	phasePassword
	phaseQR
	phaseDone
)

// login is one run of the phone flow:
//
//	Start → StepInput (phone); Submit → StepInput (code);
//	Submit → StepDone | StepInput (password); Submit → StepDone
//
// A wrong code or password is an error and the same step stays current,
// so the user may Submit again. The login keeps one gotd client running
// from the phone number to the end, with its session in memory; once
// signed in, the session is written to the account's KV.
type login struct {
	a     *Adapter
	host  gateway.Host
	cfg   config
	owner ids.Owner
	flow  string

	ctx    context.Context
	cancel context.CancelFunc

	mu           sync.Mutex // serialises steps
	phase        loginPhase
	phone        string
	codeHash     string
	client       *telegram.Client
	storage      *session.StorageMemory
	stopped      chan struct{}
	cancelClient context.CancelFunc
	account      ids.AccountID

	// QR flow: the exported token, and a signal when a device accepted it.
	qr       qrlogin.QR
	token    qrlogin.Token
	loggedIn qrlogin.LoggedIn
}

func newLogin(a *Adapter, host gateway.Host, cfg config, owner ids.Owner, flow string) *login {
	ctx, cancel := context.WithCancel(context.Background())
	return &login{a: a, host: host, cfg: cfg, owner: owner, flow: flow, ctx: ctx, cancel: cancel}
}

// Start implements gateway.Login.
func (l *login) Start(ctx context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		return gateway.LoginStep{}, ErrLoginCancelled
	}
	if l.flow == FlowQR {
		if l.phase == phaseQR {
			return l.qrStep(), nil
		}
		if l.phase != phaseNew {
			return gateway.LoginStep{}, fmt.Errorf("telegram: login already started: %w", gateway.ErrBadRequest)
		}
		return l.startQR(ctx)
	}
	if l.phase != phaseNew && l.phase != phasePhone {
		return gateway.LoginStep{}, fmt.Errorf("telegram: login already started: %w", gateway.ErrBadRequest)
	}
	l.phase = phasePhone
	return gateway.LoginStep{
		Kind:         gateway.StepInput,
		Instructions: "Enter the phone number of your Telegram account in international format.",
		Fields:       []gateway.LoginField{phoneField},
	}, nil
}

// Submit implements gateway.Login.
func (l *login) Submit(ctx context.Context, input map[string]string) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		return gateway.LoginStep{}, ErrLoginCancelled
	}
	switch l.phase {
	case phasePhone:
		return l.submitPhone(ctx, input[FieldPhone])
	case phaseCode:
		return l.submitCode(ctx, strings.ReplaceAll(input[FieldCode], " ", ""))
	case phasePassword:
		return l.submitPassword(ctx, input[FieldPassword])
	}
	return gateway.LoginStep{}, fmt.Errorf("telegram: nothing to submit at this step: %w", gateway.ErrBadRequest)
}

func (l *login) submitPhone(ctx context.Context, raw string) (gateway.LoginStep, error) {
	phone, err := gateway.NormalizePhone(raw)
	if err != nil {
		return gateway.LoginStep{}, fmt.Errorf("telegram: %q is not a phone number in international format: %w", raw, gateway.ErrBadRequest)
	}
	if err := l.startClient(ctx); err != nil {
		return gateway.LoginStep{}, err
	}
	sent, err := auth.NewClient(l.client.API(), nil, l.cfg.apiID, l.cfg.apiHash).SendCode(ctx, phone, auth.SendCodeOptions{})
	if err != nil {
		return gateway.LoginStep{}, loginError("send the login code", err)
	}
	code, ok := sent.(*tg.AuthSentCode)
	if !ok {
		return gateway.LoginStep{}, fmt.Errorf("telegram: signing in without a code (%T) is not supported: %w", sent, gateway.ErrNotSupported)
	}
	l.phone, l.codeHash, l.phase = phone, code.PhoneCodeHash, phaseCode
	return gateway.LoginStep{
		Kind:         gateway.StepInput,
		Instructions: "Telegram sent a login code to " + sentWhere(code.Type) + ". Enter it here.",
		Fields:       []gateway.LoginField{codeField},
	}, nil
}

func (l *login) submitCode(ctx context.Context, code string) (gateway.LoginStep, error) {
	a, err := auth.NewClient(l.client.API(), nil, l.cfg.apiID, l.cfg.apiHash).SignIn(ctx, l.phone, code, l.codeHash)
	if errors.Is(err, auth.ErrPasswordAuthNeeded) {
		l.phase = phasePassword
		return gateway.LoginStep{
			Kind:         gateway.StepInput,
			Instructions: "This account has two-step verification. Enter its password.",
			Fields:       []gateway.LoginField{passwordField},
		}, nil
	}
	if err != nil {
		return gateway.LoginStep{}, loginError("sign in", err)
	}
	return l.finish(ctx, a)
}

func (l *login) submitPassword(ctx context.Context, password string) (gateway.LoginStep, error) {
	a, err := auth.NewClient(l.client.API(), nil, l.cfg.apiID, l.cfg.apiHash).Password(ctx, password)
	if errors.Is(err, auth.ErrPasswordInvalid) {
		return gateway.LoginStep{}, fmt.Errorf("telegram: wrong password, try again: %w", gateway.ErrBadRequest)
	}
	if err != nil {
		return gateway.LoginStep{}, loginError("check the password", err)
	}
	return l.finish(ctx, a)
}

// finish stores the signed-in session under the account and ends the
// login's client.
func (l *login) finish(ctx context.Context, a *tg.AuthAuthorization) (gateway.LoginStep, error) {
	user, ok := a.User.(*tg.User)
	if !ok {
		return gateway.LoginStep{}, fmt.Errorf("telegram: sign-in answered %T, not a user", a.User)
	}
	acct := convert.AccountID(user.ID)
	kv := l.host.KV(acct)
	// The update state from which the session will catch up.
	state, err := l.client.API().UpdatesGetState(ctx)
	if err != nil {
		return gateway.LoginStep{}, loginError("read the update state", err)
	}
	l.stopClient()
	data, err := l.storage.LoadSession(ctx)
	if err != nil {
		return gateway.LoginStep{}, fmt.Errorf("telegram: the signed-in session: %w", err)
	}
	if err := kv.Set(ctx, keySession, data); err != nil {
		return gateway.LoginStep{}, fmt.Errorf("telegram: store the session: %w", err)
	}
	if err := setInt(ctx, kv, keyPts, int64(state.Pts)); err != nil {
		return gateway.LoginStep{}, fmt.Errorf("telegram: store the update state: %w", err)
	}
	l.phase, l.account = phaseDone, acct
	l.host.Logger().Info("telegram account signed in", "owner", l.owner, "account", acct)
	l.a.loginEnded(l)
	return gateway.LoginStep{Kind: gateway.StepDone, Account: acct,
		Instructions: "Signed in to Telegram as " + displayName(user) + "."}, nil
}

// startQR runs the login's client with updates (the accepted token is
// announced by one) and shows the first QR code.
func (l *login) startQR(ctx context.Context) (gateway.LoginStep, error) {
	d := tg.NewUpdateDispatcher()
	// Buffered: the acceptance may come before Wait listens (qrlogin's
	// own OnLoginToken drops it then).
	accepted := make(chan struct{}, 1)
	d.OnLoginToken(func(context.Context, tg.Entities, *tg.UpdateLoginToken) error {
		select {
		case accepted <- struct{}{}:
		default:
		}
		return nil
	})
	l.loggedIn = accepted
	if err := l.startClientWith(ctx, telegram.Options{UpdateHandler: d}); err != nil {
		return gateway.LoginStep{}, err
	}
	l.qr = qrlogin.NewQR(l.client.API(), l.cfg.apiID, l.cfg.apiHash, qrlogin.Options{})
	token, err := l.qr.Export(ctx)
	if err != nil {
		return gateway.LoginStep{}, loginError("export a login token", err)
	}
	l.token, l.phase = token, phaseQR
	return l.qrStep(), nil
}

func (l *login) qrStep() gateway.LoginStep {
	return gateway.LoginStep{
		Kind: gateway.StepQR, Data: l.token.URL(), Expires: l.token.Expires(),
		Instructions: "Scan this QR code with Telegram on your phone: Settings → Devices → Link Desktop Device.",
	}
}

// Wait implements gateway.Login: in the QR flow it waits until a device
// accepts the code (then StepDone, or the password step when the account
// has two-step verification) or the code expires (then a new StepQR).
func (l *login) Wait(ctx context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		return gateway.LoginStep{}, ErrLoginCancelled
	}
	if l.phase != phaseQR {
		return gateway.LoginStep{}, fmt.Errorf("telegram: this login step asks for input, not waiting: %w", gateway.ErrBadRequest)
	}
	timer := time.NewTimer(time.Until(l.token.Expires()))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return gateway.LoginStep{}, ctx.Err()
	case <-l.ctx.Done():
		return gateway.LoginStep{}, ErrLoginCancelled
	case <-timer.C:
		token, err := l.qr.Export(ctx)
		if err != nil {
			// Accepted just as it expired, by an account with a password?
			return l.scanned(ctx, nil, err)
		}
		if !token.Empty() {
			l.token = token
			return l.qrStep(), nil
		}
		// Accepted just as it expired: sign in below.
	case <-l.loggedIn:
	}
	a, err := l.qr.Import(ctx)
	return l.scanned(ctx, a, err)
}

// scanned ends the QR step once a device accepted the code: linked, or
// the password asked for.
func (l *login) scanned(ctx context.Context, a *tg.AuthAuthorization, err error) (gateway.LoginStep, error) {
	if tgerr.Is(err, "SESSION_PASSWORD_NEEDED") {
		l.phase = phasePassword
		return gateway.LoginStep{
			Kind:         gateway.StepInput,
			Instructions: "This account has two-step verification. Enter its password.",
			Fields:       []gateway.LoginField{passwordField},
		}, nil
	}
	if err != nil {
		return gateway.LoginStep{}, loginError("sign in with the QR code", err)
	}
	return l.finish(ctx, a)
}

// Cancel implements gateway.Login.
func (l *login) Cancel() {
	l.cancel()
	l.a.loginEnded(l)
	go func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.stopClient()
	}()
}

// startClient runs the login's client and waits until it is connected.
func (l *login) startClient(ctx context.Context) error {
	return l.startClientWith(ctx, telegram.Options{NoUpdates: true})
}

func (l *login) startClientWith(ctx context.Context, opts telegram.Options) error {
	if l.client != nil {
		return nil
	}
	l.storage = &session.StorageMemory{}
	opts.SessionStorage = l.storage
	l.client = l.a.newClient(l.cfg, opts)
	ready := make(chan struct{})
	l.stopped = make(chan struct{})
	errc := make(chan error, 1)
	runCtx, stop := context.WithCancel(l.ctx)
	l.cancelClient = stop
	go func() {
		defer close(l.stopped)
		errc <- l.client.Run(runCtx, func(ctx context.Context) error {
			close(ready)
			<-ctx.Done()
			return nil
		})
	}()
	select {
	case <-ready:
		return nil
	case err := <-errc:
		return fmt.Errorf("telegram: cannot reach Telegram: %w: %w", err, gateway.ErrUnavailable)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopClient ends the login's client and waits for it. Caller holds mu.
func (l *login) stopClient() {
	if l.client == nil || l.cancelClient == nil {
		return
	}
	l.cancelClient()
	<-l.stopped
	l.cancelClient = nil
}

// loginError makes a Telegram error of a login step readable.
func loginError(what string, err error) error {
	if d, ok := tgerr.AsFloodWait(err); ok {
		return fmt.Errorf("telegram: too many attempts; Telegram asks to wait %s before trying again: %w", d, gateway.ErrRateLimited)
	}
	if rpc, ok := tgerr.As(err); ok {
		switch rpc.Type {
		case "PHONE_NUMBER_INVALID", "PHONE_NUMBER_UNOCCUPIED":
			return fmt.Errorf("telegram: no Telegram account has this phone number: %w", gateway.ErrBadRequest)
		case "PHONE_CODE_INVALID":
			return fmt.Errorf("telegram: wrong code, try again: %w", gateway.ErrBadRequest)
		case "PHONE_CODE_EXPIRED":
			return fmt.Errorf("telegram: the code expired; start linking again: %w", gateway.ErrBadRequest)
		case "API_ID_INVALID", "API_ID_PUBLISHED_FLOOD":
			return fmt.Errorf("telegram: Telegram refuses the gateway's application (platforms.telegram.api_id and api_hash); tell the operator: %w", gateway.ErrUnavailable)
		}
	}
	return fmt.Errorf("telegram: %s: %w", what, err)
}

// sentWhere says where a login code went.
func sentWhere(t tg.AuthSentCodeTypeClass) string {
	switch t.(type) {
	case *tg.AuthSentCodeTypeApp:
		return "your Telegram app"
	case *tg.AuthSentCodeTypeSMS:
		return "your phone by SMS"
	case *tg.AuthSentCodeTypeCall, *tg.AuthSentCodeTypeFlashCall, *tg.AuthSentCodeTypeMissedCall:
		return "your phone by a call"
	case *tg.AuthSentCodeTypeEmailCode:
		return "your e-mail address"
	}
	return "you"
}

// displayName is how a user is named in messages to the owner.
func displayName(u *tg.User) string {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if u.Username != "" {
		if name != "" {
			return name + " (@" + u.Username + ")"
		}
		return "@" + u.Username
	}
	if name == "" {
		return string(convert.AccountID(u.ID))
	}
	return name
}
