package xmppcomponent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// Directives of the account-linking scripts (adhoc_*, chatcmd, register):
//
//	!login-flows [LoginFlow JSON...]        the platform's ways to link
//	!login-start OWNER KIND {LoginStep}     OWNER's next StartLogin runs a scripted
//	                                        flow whose first step is this one
//	!login-submit OWNER KIND {LoginStep}    queue the answer to the flow's next Submit
//	!login-submit OWNER error COND [TEXT]   ... or its error (scriptErrors, or deadline)
//	!login-wait OWNER KIND {LoginStep}      answer the background Wait (login.go follow)
//	!login-wait OWNER error COND [TEXT]     and wait until the component has dealt with it
//	!adhoc-session NAME                     name the command session the last stanza opened
//	!adhoc-expire NAME                      make that session older than its time to live
//	!admin-on ADMIN...                      turn the admin commands on, for these admins
//	!admin-reload {ReloadReport}            what a configuration reload reports
//	!admin-activity OWNER RFC3339           an account's last activity
//
// KIND is input, qr, code or done. The scripted flows and the fake admin
// record their calls like the fake hub does; Admin.* methods fail with
// !fail like the hub's.
func init() {
	scriptDirectives["login-flows"] = func(_ context.Context, s *script, _ []string, rest string) error {
		var flows []gateway.LoginFlow
		if err := json.Unmarshal([]byte(rest), &flows); err != nil {
			return err
		}
		s.hub.mu.Lock()
		s.hub.flows = flows
		s.hub.mu.Unlock()
		return nil
	}
	scriptDirectives["login-start"] = func(_ context.Context, s *script, args []string, rest string) error {
		if len(args) < 2 {
			return fmt.Errorf("login-start needs OWNER KIND")
		}
		a, err := parseLoginAnswer(args, rest)
		if err != nil || a.err != nil {
			return fmt.Errorf("login-start needs a step: %v", err)
		}
		h := loginHubOf(s)
		h.lmu.Lock()
		h.plans[ids.Owner(args[0])] = a.step
		h.lmu.Unlock()
		return nil
	}
	scriptDirectives["login-submit"] = func(_ context.Context, s *script, args []string, rest string) error {
		a, err := parseLoginAnswer(args, rest)
		if err != nil {
			return err
		}
		l, err := loginHubOf(s).run(ids.Owner(args[0]))
		if err != nil {
			return err
		}
		l.mu.Lock()
		l.submits = append(l.submits, a)
		l.mu.Unlock()
		return nil
	}
	scriptDirectives["login-wait"] = func(_ context.Context, s *script, args []string, rest string) error {
		a, err := parseLoginAnswer(args, rest)
		if err != nil {
			return err
		}
		owner := ids.Owner(args[0])
		l, err := loginHubOf(s).run(owner)
		if err != nil {
			return err
		}
		return l.answerWait(s, owner, a)
	}
	scriptDirectives["adhoc-session"] = func(_ context.Context, s *script, args []string, _ string) error {
		if len(args) < 1 {
			return fmt.Errorf("adhoc-session needs a NAME")
		}
		return nameAdhocSession(s, args[0])
	}
	scriptDirectives["adhoc-expire"] = func(_ context.Context, s *script, args []string, _ string) error {
		if len(args) < 1 {
			return fmt.Errorf("adhoc-expire needs a NAME")
		}
		return expireAdhocSession(s, args[0])
	}
	scriptDirectives["admin-on"] = func(_ context.Context, s *script, args []string, _ string) error {
		admins := make([]ids.Owner, len(args))
		for i, a := range args {
			admins[i] = ids.Owner(a)
		}
		s.c.cfg.Admin = &AdminCommands{
			Admin:   &scriptAdmin{h: s.hub, activity: make(map[ids.Owner]time.Time)},
			IsAdmin: func(o ids.Owner) bool { return slices.Contains(admins, o) },
		}
		return nil
	}
	scriptDirectives["admin-reload"] = func(_ context.Context, s *script, _ []string, rest string) error {
		a, err := scriptAdminOf(s)
		if err != nil {
			return err
		}
		var r gateway.ReloadReport
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			return err
		}
		a.mu.Lock()
		a.reload = r
		a.mu.Unlock()
		return nil
	}
	scriptDirectives["admin-activity"] = func(_ context.Context, s *script, args []string, _ string) error {
		if len(args) < 2 {
			return fmt.Errorf("admin-activity needs OWNER TIME")
		}
		a, err := scriptAdminOf(s)
		if err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339, args[1])
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.activity[ids.Owner(args[0])] = t
		a.mu.Unlock()
		return nil
	}
}

// nameAdhocSession gives the one command session that has a random id
// (the one the last command opened) the name a script uses for it, as a
// client uses the sessionid it was given.
func nameAdhocSession(s *script, name string) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var user []string
	for sid := range c.adhoc {
		if scriptRandomID.MatchString(sid) {
			user = append(user, sid)
		}
	}
	var admin []string
	if ac := c.cfg.Admin; ac != nil {
		ac.mu.Lock()
		defer ac.mu.Unlock()
		for sid := range ac.sessions {
			if scriptRandomID.MatchString(sid) {
				admin = append(admin, sid)
			}
		}
	}
	switch {
	case len(user) == 1 && len(admin) == 0:
		c.adhoc[name] = c.adhoc[user[0]]
		delete(c.adhoc, user[0])
	case len(admin) == 1 && len(user) == 0:
		ac := c.cfg.Admin
		ac.sessions[name] = ac.sessions[admin[0]]
		delete(ac.sessions, admin[0])
	default:
		return fmt.Errorf("%d user and %d admin sessions are unnamed; want one", len(user), len(admin))
	}
	return nil
}

// expireAdhocSession makes a named command session older than its time to
// live.
func expireAdhocSession(s *script, name string) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if sess, ok := c.adhoc[name]; ok {
		sess.created = time.Now().Add(-adhocSessionTTL - time.Minute)
		return nil
	}
	if ac := c.cfg.Admin; ac != nil {
		ac.mu.Lock()
		defer ac.mu.Unlock()
		if sess, ok := ac.sessions[name]; ok {
			sess.created = time.Now().Add(-adminSessionTTL - time.Minute)
			ac.sessions[name] = sess
			return nil
		}
	}
	return fmt.Errorf("no command session %q", name)
}

// loginAnswer is what a scripted flow answers to Submit or Wait.
type loginAnswer struct {
	step gateway.LoginStep
	err  error
}

var loginStepKinds = map[string]gateway.LoginStepKind{
	"input": gateway.StepInput, "qr": gateway.StepQR, "code": gateway.StepCode, "done": gateway.StepDone,
}

// parseLoginAnswer reads "OWNER KIND {LoginStep JSON}" or "OWNER error
// CONDITION".
func parseLoginAnswer(args []string, rest string) (loginAnswer, error) {
	if len(args) < 2 {
		return loginAnswer{}, fmt.Errorf("need OWNER KIND {step} or OWNER error CONDITION")
	}
	if args[1] == "error" {
		if len(args) < 3 {
			return loginAnswer{}, fmt.Errorf("error needs a condition")
		}
		e, ok := scriptErrors[args[2]]
		if args[2] == "deadline" {
			e, ok = context.DeadlineExceeded, true
		}
		if !ok || e == nil {
			return loginAnswer{}, fmt.Errorf("unknown error %q", args[2])
		}
		if len(args) > 3 {
			e = fmt.Errorf("%s: %w", strings.Join(args[3:], " "), e)
		}
		return loginAnswer{err: e}, nil
	}
	kind, ok := loginStepKinds[args[1]]
	if !ok {
		return loginAnswer{}, fmt.Errorf("unknown step kind %q", args[1])
	}
	var step gateway.LoginStep
	body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), args[0]))
	if body = strings.TrimSpace(strings.TrimPrefix(body, args[1])); body != "" {
		if err := json.Unmarshal([]byte(body), &step); err != nil {
			return loginAnswer{}, err
		}
	}
	step.Kind = kind
	return loginAnswer{step: step}, nil
}

// scriptLoginHub is the fake hub whose StartLogin runs a scripted flow for
// the owners a !login-start names (and the fake hub's own flow for the
// others).
type scriptLoginHub struct {
	*fakeHub
	lmu   sync.Mutex
	plans map[ids.Owner]gateway.LoginStep
	// early are answers to the first Submits of an owner's next flow
	// (!login-answer, script_forms_test.go).
	early map[ids.Owner][]loginAnswer
	runs  map[ids.Owner]*scriptLogin
}

// loginHubOf puts the scripted flows between the script's component and
// its fake hub, once.
func loginHubOf(s *script) *scriptLoginHub {
	if h, ok := s.c.gw.(*scriptLoginHub); ok {
		return h
	}
	h := &scriptLoginHub{fakeHub: s.hub, plans: make(map[ids.Owner]gateway.LoginStep), early: make(map[ids.Owner][]loginAnswer), runs: make(map[ids.Owner]*scriptLogin)}
	s.c.gw = h
	s.t.Cleanup(func() {
		h.lmu.Lock()
		defer h.lmu.Unlock()
		for _, l := range h.runs {
			l.stopOnce.Do(func() { close(l.stop) })
		}
	})
	return h
}

// run is owner's scripted flow.
func (h *scriptLoginHub) run(owner ids.Owner) (*scriptLogin, error) {
	h.lmu.Lock()
	defer h.lmu.Unlock()
	l, ok := h.runs[owner]
	if !ok {
		return nil, fmt.Errorf("%s has no scripted login flow", owner)
	}
	return l, nil
}

func (h *scriptLoginHub) StartLogin(ctx context.Context, owner ids.Owner, p ids.PlatformID, flow string) (LoginRun, gateway.LoginStep, error) {
	h.lmu.Lock()
	first, ok := h.plans[owner]
	delete(h.plans, owner)
	h.lmu.Unlock()
	if !ok {
		return h.fakeHub.StartLogin(ctx, owner, p, flow)
	}
	if err := h.record("StartLogin", owner, flow); err != nil {
		return nil, gateway.LoginStep{}, err
	}
	h.fakeHub.mu.Lock()
	if _, ok := h.accounts[owner]; !ok {
		h.accounts[owner] = store.Account{Owner: owner, Platform: p}
	}
	h.fakeHub.mu.Unlock()
	l := &scriptLogin{h: h, owner: owner, last: first, waits: make(chan waitOffer), stop: make(chan struct{})}
	h.lmu.Lock()
	l.submits = h.early[owner]
	delete(h.early, owner)
	if old := h.runs[owner]; old != nil {
		old.mu.Lock()
		old.cancelled = true
		old.mu.Unlock()
	}
	h.runs[owner] = l
	h.lmu.Unlock()
	return l, first, nil
}

func (h *scriptLoginHub) Login(owner ids.Owner, p ids.PlatformID) (LoginRun, bool) {
	h.lmu.Lock()
	l, ok := h.runs[owner]
	h.lmu.Unlock()
	if !ok {
		return h.fakeHub.Login(owner, p)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancelled || l.done {
		return nil, false
	}
	return l, true
}

// waitOffer is an answer for the goroutine in Wait, which acknowledges it
// with the number of its Wait call.
type waitOffer struct {
	answer loginAnswer
	ack    chan int
}

// scriptLogin is a login flow whose answers the script gives.
type scriptLogin struct {
	h     *scriptLoginHub
	owner ids.Owner
	waits chan waitOffer
	// stop ends a Wait still blocked when the script is over.
	stop     chan struct{}
	stopOnce sync.Once

	mu        sync.Mutex
	last      gateway.LoginStep
	submits   []loginAnswer
	entered   int // Waits begun
	cancels   int // Cancels called
	cancelled bool
	done      bool
}

func (l *scriptLogin) Last() gateway.LoginStep {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *scriptLogin) Submit(_ context.Context, input map[string]string) (gateway.LoginStep, error) {
	keys := make([]string, 0, len(input))
	for k := range input {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + input[k]
	}
	_ = l.h.record("Submit", l.owner, pairs)
	l.mu.Lock()
	if len(l.submits) == 0 {
		l.mu.Unlock()
		return gateway.LoginStep{}, fmt.Errorf("the script gave no answer to this Submit")
	}
	a := l.submits[0]
	l.submits = l.submits[1:]
	l.mu.Unlock()
	l.answered(a)
	return a.step, a.err
}

func (l *scriptLogin) Wait(ctx context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	l.entered++
	n := l.entered
	l.mu.Unlock()
	select {
	case o := <-l.waits:
		o.ack <- n
		l.answered(o.answer)
		return o.answer.step, o.answer.err
	case <-l.stop:
		return gateway.LoginStep{}, fmt.Errorf("the script is over: %w", gateway.ErrBadRequest)
	case <-ctx.Done():
		return gateway.LoginStep{}, ctx.Err()
	}
}

// answered notes a step the flow moved to: done links the account.
func (l *scriptLogin) answered(a loginAnswer) {
	if a.err != nil {
		return
	}
	l.mu.Lock()
	l.last = a.step
	l.done = a.step.Kind == gateway.StepDone
	l.mu.Unlock()
	if a.step.Kind == gateway.StepDone {
		h := l.h.fakeHub
		h.mu.Lock()
		acct := h.accounts[l.owner]
		acct.ID, acct.State = a.step.Account, event.StateConnected
		h.accounts[l.owner] = acct
		h.mu.Unlock()
	}
}

// Cancel does not end a Wait in progress: a script says with !login-wait
// what the background follower gets, so that its output comes in order.
func (l *scriptLogin) Cancel() {
	_ = l.h.record("Cancel", l.owner)
	l.mu.Lock()
	l.cancelled = true
	l.cancels++
	l.mu.Unlock()
}

// answerWait hands a to the goroutine waiting on the flow (follow) and
// waits until it has dealt with it: it waits again, cancelled the flow
// after a failure (or forgot quietly a flow the user cancelled), left the
// next input to the chat (StepInput), or told the user that linking is
// done.
func (l *scriptLogin) answerWait(s *script, owner ids.Owner, a loginAnswer) error {
	l.mu.Lock()
	cancels := l.cancels
	l.mu.Unlock()
	stoppedByUser := func() bool {
		s.c.mu.Lock()
		defer s.c.mu.Unlock()
		return s.c.stopped[owner] == LoginRun(l)
	}
	quiet := stoppedByUser()
	ack := make(chan int, 1)
	select {
	case l.waits <- waitOffer{answer: a, ack: ack}:
	case <-time.After(scriptSettleTimeout):
		return fmt.Errorf("nothing waits on %s's login flow", owner)
	}
	entered := <-ack // the Wait that took a; another one means the follower waits again
	settled := func() bool {
		l.mu.Lock()
		again, cancelled := l.entered > entered, l.cancels > cancels
		l.mu.Unlock()
		switch {
		case again:
			return true
		case a.err != nil && quiet:
			return !stoppedByUser()
		case a.err != nil:
			return cancelled
		case a.step.Kind == gateway.StepInput:
			s.c.mu.Lock()
			defer s.c.mu.Unlock()
			p := s.c.chat[owner]
			return p != nil && p.run == LoginRun(l)
		case a.step.Kind == gateway.StepDone:
			s.rec.mu.Lock()
			defer s.rec.mu.Unlock()
			return len(s.rec.out) > 0
		}
		return false
	}
	if !testutil.Poll(scriptSettleTimeout, settled) {
		return fmt.Errorf("the component did not deal with %s's login step within %v", owner, scriptSettleTimeout)
	}
	return nil
}

const scriptSettleTimeout = 5 * time.Second

// scriptAdmin is a fake of the hub's admin use cases over the fake hub's
// accounts.
type scriptAdmin struct {
	h        *fakeHub
	mu       sync.Mutex
	reload   gateway.ReloadReport
	activity map[ids.Owner]time.Time
}

var _ AdminUseCases = (*scriptAdmin)(nil)

func scriptAdminOf(s *script) (*scriptAdmin, error) {
	if s.c.cfg.Admin != nil {
		if a, ok := s.c.cfg.Admin.Admin.(*scriptAdmin); ok {
			return a, nil
		}
	}
	return nil, fmt.Errorf("!admin-on first")
}

func (a *scriptAdmin) info(acct store.Account) gateway.AccountInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return gateway.AccountInfo{Account: acct, Session: acct.ID != "", LastActivity: a.activity[acct.Owner]}
}

func (a *scriptAdmin) Accounts(_ context.Context, p ids.PlatformID, linkedOnly bool) ([]gateway.AccountInfo, error) {
	if err := a.h.record("Admin.Accounts", p, linkedOnly); err != nil {
		return nil, err
	}
	a.h.mu.Lock()
	accts := make([]store.Account, 0, len(a.h.accounts))
	for _, acct := range a.h.accounts {
		if !linkedOnly || acct.ID != "" {
			accts = append(accts, acct)
		}
	}
	a.h.mu.Unlock()
	sort.Slice(accts, func(i, j int) bool { return accts[i].Owner < accts[j].Owner })
	out := make([]gateway.AccountInfo, len(accts))
	for i, acct := range accts {
		out[i] = a.info(acct)
	}
	return out, nil
}

func (a *scriptAdmin) Account(_ context.Context, owner ids.Owner, p ids.PlatformID) (gateway.AccountInfo, error) {
	if err := a.h.record("Admin.Account", owner, p); err != nil {
		return gateway.AccountInfo{}, err
	}
	a.h.mu.Lock()
	acct, ok := a.h.accounts[owner]
	a.h.mu.Unlock()
	if !ok {
		return gateway.AccountInfo{}, gateway.ErrNotRegistered
	}
	return a.info(acct), nil
}

func (a *scriptAdmin) Unlink(_ context.Context, owner ids.Owner, p ids.PlatformID) (gateway.AccountInfo, error) {
	if err := a.h.record("Admin.Unlink", owner, p); err != nil {
		return gateway.AccountInfo{}, err
	}
	a.h.mu.Lock()
	acct, ok := a.h.accounts[owner]
	switch {
	case !ok:
		a.h.mu.Unlock()
		return gateway.AccountInfo{}, gateway.ErrNotRegistered
	case acct.ID == "":
		a.h.mu.Unlock()
		return gateway.AccountInfo{}, gateway.ErrNotLinked
	}
	account := acct.ID
	acct.ID, acct.State, acct.StateDetail = "", event.StateDisconnected, "unlinked"
	a.h.accounts[owner] = acct
	f := a.h.frontend
	a.h.mu.Unlock()
	// As the hub's Unlink: the frontend is told.
	ev := &event.AccountState{Meta: event.Meta{Account: account}, State: event.StateUnlinked}
	if err := f.Deliver(context.Background(), gateway.Delivery{Owner: owner, Platform: p, Event: ev}); err != nil {
		return gateway.AccountInfo{}, err
	}
	return a.info(acct), nil
}

func (a *scriptAdmin) Reload(context.Context) (gateway.ReloadReport, error) {
	if err := a.h.record("Admin.Reload"); err != nil {
		if errors.Is(err, gateway.ErrNotSupported) { // as Admin.Reload without a reloader
			err = fmt.Errorf("this gateway cannot reload its configuration: %w", err)
		}
		return gateway.ReloadReport{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reload, nil
}
