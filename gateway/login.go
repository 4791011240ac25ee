package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// LoginRun is a login flow in progress for one owner. It wraps the adapter's
// Login and, when the flow reaches StepDone, records the link and connects
// the new session. Only one run per owner and platform exists at a time:
// starting another cancels the first.
type LoginRun struct {
	g        *Gateway
	owner    ids.Owner
	platform ids.PlatformID
	login    Login

	mu   sync.Mutex
	last LoginStep
}

// StartLogin registers owner if needed and starts the named login flow (""
// picks the adapter's first flow). The returned run's Step is the first step.
func (g *Gateway) StartLogin(ctx context.Context, owner ids.Owner, platform ids.PlatformID, flow string) (*LoginRun, LoginStep, error) {
	a, ok := g.adapters[platform]
	if !ok {
		return nil, LoginStep{}, fmt.Errorf("platform %q: %w", platform, ErrNotSupported)
	}
	if err := g.checkLoginRate(owner); err != nil {
		return nil, LoginStep{}, err
	}
	if err := g.Register(ctx, owner, platform); err != nil {
		return nil, LoginStep{}, err
	}
	if flow == "" {
		flows := a.LoginFlows()
		if len(flows) == 0 {
			return nil, LoginStep{}, fmt.Errorf("%s has no login flow: %w", platform, ErrNotSupported)
		}
		flow = flows[0].ID
	}
	login, err := a.NewLogin(ctx, owner, flow)
	if err != nil {
		return nil, LoginStep{}, fmt.Errorf("start login: %w", err)
	}
	run := &LoginRun{g: g, owner: owner, platform: platform, login: login}
	key := sessionKey{platform, owner}
	g.mu.Lock()
	if old, ok := g.logins[key]; ok {
		old.login.Cancel()
	}
	g.logins[key] = run
	g.mu.Unlock()
	step, err := login.Start(ctx)
	return run, step, run.after(ctx, step, err)
}

// Login returns the owner's login in progress, if any.
func (g *Gateway) Login(owner ids.Owner, platform ids.PlatformID) (*LoginRun, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	run, ok := g.logins[sessionKey{platform, owner}]
	return run, ok
}

// Last is the most recent step of the run.
func (r *LoginRun) Last() LoginStep {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// errLoginGone: the run was cancelled, finished, or replaced by a newer one
// of the same owner (started from another client or command).
var errLoginGone = fmt.Errorf("this login was cancelled or replaced by a newer one; start linking again: %w", ErrBadRequest)

// current reports whether r is still its owner's login in progress.
func (r *LoginRun) current() bool {
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	return r.g.logins[sessionKey{r.platform, r.owner}] == r
}

// Submit answers a StepInput.
func (r *LoginRun) Submit(ctx context.Context, input map[string]string) (LoginStep, error) {
	if !r.current() {
		return LoginStep{}, errLoginGone
	}
	step, err := r.login.Submit(ctx, input)
	return step, r.after(ctx, step, err)
}

// Wait waits for the step after a StepQR or StepCode.
func (r *LoginRun) Wait(ctx context.Context) (LoginStep, error) {
	if !r.current() {
		return LoginStep{}, errLoginGone
	}
	step, err := r.login.Wait(ctx)
	return step, r.after(ctx, step, err)
}

// Cancel abandons the run.
func (r *LoginRun) Cancel() {
	r.login.Cancel()
	r.finish()
}

func (r *LoginRun) finish() {
	r.g.mu.Lock()
	key := sessionKey{r.platform, r.owner}
	if r.g.logins[key] == r {
		delete(r.g.logins, key)
	}
	r.g.mu.Unlock()
}

// after records a step and, on StepDone, links the account. A failed step
// other than bad input ends the run.
func (r *LoginRun) after(ctx context.Context, step LoginStep, err error) error {
	if err != nil {
		if !errors.Is(err, ErrBadRequest) {
			r.Cancel()
		}
		return err
	}
	r.mu.Lock()
	r.last = step
	r.mu.Unlock()
	if step.Kind != StepDone {
		return nil
	}
	r.finish()
	return r.g.link(ctx, r.owner, r.platform, step.Account)
}

// link records owner ↔ account and connects the session.
func (g *Gateway) link(ctx context.Context, owner ids.Owner, platform ids.PlatformID, account ids.AccountID) error {
	if account == "" {
		return fmt.Errorf("login finished without an account: %w", ErrBadRequest)
	}
	a, err := g.store.AccountByOwner(ctx, owner, platform)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if a.ID != "" && a.ID != account {
		if err := g.unlink(ctx, owner, platform, "replaced by "+string(account)); err != nil {
			return fmt.Errorf("link: replace %s: %w", a.ID, err)
		}
	}
	a.ID, a.State, a.StateDetail, a.Updated = account, event.StateLinked, "", now()
	if err := g.store.PutAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%s account %s is linked to another XMPP address: %w", platform, account, ErrForbidden)
		}
		return fmt.Errorf("link: %w", err)
	}
	g.log.Info("account linked", "owner", owner, "platform", platform, "account", account)
	return g.attach(ctx, owner, platform, account)
}
