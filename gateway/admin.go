package gateway

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// This file holds the operator's use cases: what the management API
// (gateway/mgmt) and the XMPP admin commands (xmppcomponent) both call, so
// that the two faces cannot drift apart.

// LinkStatus is the state of the XMPP side's connection to the server, as
// the XMPP side reports it (the hub does not see the connection itself).
type LinkStatus struct {
	Connected bool
	// Connects counts successful handshakes, Disconnects established
	// connections that ended; Connects-1 is the number of reconnects.
	Connects, Disconnects uint64
	// StanzasIn and StanzasOut count stanzas read and written.
	StanzasIn, StanzasOut uint64
	// Pings counts the XEP-0199 pings written to the server (they confirm
	// the stanzas written before them, and keep the link alive).
	Pings uint64
	// BytesIn and BytesOut count the bytes read from and written to the
	// server.
	BytesIn, BytesOut uint64
	// Queued stanzas wait to be written, InFlight ones wait for the
	// server's acknowledgement, Dispatching inbound ones wait for a handler.
	Queued, InFlight, Dispatching int
	// Problem, if not nil, is why the link needs an operator (another
	// instance connected on the same component domain, a refused secret),
	// in a sentence that says what to do. The gateway is not ready while
	// it is set, even if connected at the moment.
	Problem error
	// Down, for a process with several links (one per platform), names
	// the component domains whose link is down; Connected is then false.
	Down []string
}

// ReloadReport says what a configuration reload did.
type ReloadReport struct {
	// Applied lists the settings (key paths) whose new values are in effect.
	Applied []string
	// NeedsRestart lists the settings that changed but take effect only
	// after a restart.
	NeedsRestart []string
}

// AdminOptions are what the wiring knows and the hub does not.
type AdminOptions struct {
	// Link reports the XMPP link; nil reports it as down.
	Link func() LinkStatus
	// Reload re-reads the configuration and applies what it can; nil
	// means reloading is not possible (Admin.Reload returns
	// ErrNotSupported).
	Reload func(ctx context.Context) (ReloadReport, error)
	// Version, Component and StoreBackend are shown by Status.
	Version, Component, StoreBackend string
}

// Admin is the operator's view of one hub: accounts, login flows,
// platforms, status and configuration reload.
type Admin struct {
	g       *Gateway
	opts    AdminOptions
	started time.Time

	mu       sync.Mutex
	activity map[sessionKey]time.Time
}

// NewAdmin returns the operator's use cases for g.
func NewAdmin(g *Gateway, opts AdminOptions) *Admin {
	return &Admin{g: g, opts: opts, started: now(), activity: make(map[sessionKey]time.Time)}
}

// Gateway returns the hub.
func (a *Admin) Gateway() *Gateway { return a.g }

// Platform resolves the platform an operator named: "" means the only
// configured one. ErrBadRequest if it is ambiguous or not configured.
func (a *Admin) Platform(p ids.PlatformID) (ids.PlatformID, error) {
	if p == "" {
		if len(a.g.order) == 1 {
			return a.g.order[0], nil
		}
		names := make([]string, len(a.g.order))
		for i, id := range a.g.order {
			names[i] = string(id)
		}
		return "", fmt.Errorf("name the platform (one of %s): %w", strings.Join(names, ", "), ErrBadRequest)
	}
	if _, ok := a.g.adapters[p]; !ok {
		return "", fmt.Errorf("platform %q is not configured on this gateway: %w", p, ErrBadRequest)
	}
	return p, nil
}

// AccountInfo is a registration as operators see it.
type AccountInfo struct {
	store.Account
	// Session is true while this process holds a live session for it.
	Session bool
	// LastActivity is when an event of the account last reached its
	// owner through this process; zero if none has.
	LastActivity time.Time
}

// Accounts lists the registrations of platform ("" for all), optionally
// only the linked ones, ordered by owner then platform.
func (a *Admin) Accounts(ctx context.Context, platform ids.PlatformID, linkedOnly bool) ([]AccountInfo, error) {
	all, err := a.g.store.ListAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out := make([]AccountInfo, 0, len(all))
	for _, acct := range all {
		if (platform != "" && acct.Platform != platform) || (linkedOnly && acct.ID == "") {
			continue
		}
		out = append(out, a.info(acct))
	}
	return out, nil
}

// Account returns owner's registration; ErrNotRegistered if none.
func (a *Admin) Account(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (AccountInfo, error) {
	platform, err := a.Platform(platform)
	if err != nil {
		return AccountInfo{}, err
	}
	acct, err := a.g.Account(ctx, owner, platform)
	if err != nil {
		return AccountInfo{}, err
	}
	return a.info(acct), nil
}

func (a *Admin) info(acct store.Account) AccountInfo {
	key := sessionKey{acct.Platform, acct.Owner}
	a.g.mu.Lock()
	l, live := a.g.sessions[key]
	live = live && l.account == acct.ID
	a.g.mu.Unlock()
	a.mu.Lock()
	last := a.activity[key]
	a.mu.Unlock()
	return AccountInfo{Account: acct, Session: live, LastActivity: last}
}

// StartLink starts a login flow for owner on platform ("" for the only
// one), registering owner if needed; see Gateway.StartLogin.
func (a *Admin) StartLink(ctx context.Context, owner ids.Owner, platform ids.PlatformID, flow string) (*LoginRun, LoginStep, error) {
	platform, err := a.Platform(platform)
	if err != nil {
		return nil, LoginStep{}, err
	}
	return a.g.StartLogin(ctx, owner, platform, flow)
}

// Unlink logs owner's platform account out and forgets it; owner stays
// registered. It returns the registration as it is afterwards.
// ErrNotRegistered or ErrNotLinked when there is nothing to unlink.
func (a *Admin) Unlink(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (AccountInfo, error) {
	platform, err := a.Platform(platform)
	if err != nil {
		return AccountInfo{}, err
	}
	if err := a.g.Unlink(ctx, owner, platform); err != nil {
		return AccountInfo{}, err
	}
	return a.Account(ctx, owner, platform)
}

// SendTestMessage sends body from owner's linked account to the contact
// named by to (a phone number or a platform user id). It returns the
// contact and the platform's id of the message. It is never queued: if
// the platform is unavailable, the error says so at once.
func (a *Admin) SendTestMessage(ctx context.Context, owner ids.Owner, platform ids.PlatformID, to, body string) (ids.UserID, ids.MessageID, error) {
	platform, err := a.Platform(platform)
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(to) == "" {
		return "", "", fmt.Errorf("the contact (to) is required: %w", ErrBadRequest)
	}
	if body == "" {
		body = "Drawbridge test message"
	}
	user, err := a.g.ResolveUser(ctx, owner, platform, to)
	if err != nil {
		return "", "", err
	}
	msg := &event.Message{Meta: event.Meta{Chat: ids.DirectChat(user)}, Body: body}
	id, err := a.g.SendMessage(ctx, owner, platform, msg, SendOptions{NoQueue: true})
	return user, id, err
}

// Reload re-reads the configuration (AdminOptions.Reload).
func (a *Admin) Reload(ctx context.Context) (ReloadReport, error) {
	if a.opts.Reload == nil {
		return ReloadReport{}, fmt.Errorf("this gateway cannot reload its configuration: %w", ErrNotSupported)
	}
	return a.opts.Reload(ctx)
}

// AdapterInfo describes a configured platform for operators.
type AdapterInfo struct {
	Info
	Flows []LoginFlow
	// CapabilitiesKnown says whether Capabilities and Features are known:
	// they come from the adapter (AdapterCapabilities) or, failing that,
	// from a live session.
	CapabilitiesKnown bool
	// Capabilities are the limits of a one-to-one chat.
	Capabilities Capabilities
	// Features names the optional session interfaces implemented (see
	// SessionFeatures).
	Features []string
	// Sessions counts the live sessions in this process.
	Sessions int
}

// AdapterCapabilities is optional: an Adapter that can state the limits of
// a one-to-one chat and its sessions' optional features without a
// session. Without it, operators see them only while a session is live.
type AdapterCapabilities interface {
	DefaultCapabilities() (Capabilities, []string)
}

// SessionFeatures names the optional interfaces s implements: "receipts",
// "chat_states", "edit", "retract", "react", "avatars", "contacts",
// "resolve_user".
func SessionFeatures(s Session) []string {
	var f []string
	add := func(ok bool, name string) {
		if ok {
			f = append(f, name)
		}
	}
	_, ok := s.(ReceiptSender)
	add(ok, "receipts")
	_, ok = s.(ChatStateSender)
	add(ok, "chat_states")
	_, ok = s.(Editor)
	add(ok, "edit")
	_, ok = s.(Retracter)
	add(ok, "retract")
	_, ok = s.(Reactor)
	add(ok, "react")
	_, ok = s.(AvatarGetter)
	add(ok, "avatars")
	_, ok = s.(ContactLister)
	add(ok, "contacts")
	_, ok = s.(UserResolver)
	add(ok, "resolve_user")
	return f
}

// Adapters describes the configured platforms in configuration order.
func (a *Admin) Adapters() []AdapterInfo {
	a.g.mu.Lock()
	count := make(map[ids.PlatformID]int)
	sample := make(map[ids.PlatformID]Session)
	for k, l := range a.g.sessions {
		count[k.platform]++
		if _, ok := sample[k.platform]; !ok {
			sample[k.platform] = l.session
		}
	}
	a.g.mu.Unlock()
	out := make([]AdapterInfo, 0, len(a.g.order))
	for _, id := range a.g.order {
		ad := a.g.adapters[id]
		info := AdapterInfo{Info: ad.Info(), Flows: ad.LoginFlows(), Sessions: count[id]}
		if ac, ok := ad.(AdapterCapabilities); ok {
			info.Capabilities, info.Features = ac.DefaultCapabilities()
			info.CapabilitiesKnown = true
		} else if s, ok := sample[id]; ok {
			info.Capabilities, info.Features = s.Capabilities(ids.DirectChat("")), SessionFeatures(s)
			info.CapabilitiesKnown = true
		}
		out = append(out, info)
	}
	return out
}

// SessionInfo is one live session.
type SessionInfo struct {
	Owner    ids.Owner
	Platform ids.PlatformID
	Account  ids.AccountID
}

// Sessions lists the live sessions of this process, ordered by platform
// then owner.
func (g *Gateway) Sessions() []SessionInfo {
	g.mu.Lock()
	out := make([]SessionInfo, 0, len(g.sessions))
	for k, l := range g.sessions {
		out = append(out, SessionInfo{Owner: k.owner, Platform: k.platform, Account: l.account})
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Platform != out[j].Platform {
			return out[i].Platform < out[j].Platform
		}
		return out[i].Owner < out[j].Owner
	})
	return out
}

// Status is the gateway's health and size.
type Status struct {
	Version, Component, StoreBackend string
	Started                          time.Time
	Link                             LinkStatus
	// StoreErr is why the store did not answer; nil if it did.
	StoreErr error
	// Registered and Linked count owners over all platforms; ByState
	// counts linked accounts by state. They are zero when the store did
	// not answer.
	Registered, Linked int
	ByState            map[event.State]int
	// Sessions counts live sessions, Logins login flows in progress.
	Sessions, Logins int
}

// Status reports the XMPP link, the store and the counts.
func (a *Admin) Status(ctx context.Context) Status {
	st := Status{
		Version: a.opts.Version, Component: a.opts.Component, StoreBackend: a.opts.StoreBackend,
		Started: a.started, ByState: map[event.State]int{},
	}
	if a.opts.Link != nil {
		st.Link = a.opts.Link()
	}
	a.g.mu.Lock()
	st.Sessions, st.Logins = len(a.g.sessions), len(a.g.logins)
	a.g.mu.Unlock()
	if err := a.g.Ready(ctx); err != nil {
		st.StoreErr = err
		return st
	}
	all, err := a.g.store.ListAccounts(ctx)
	if err != nil {
		st.StoreErr = err
		return st
	}
	for _, acct := range all {
		st.Registered++
		if acct.ID != "" {
			st.Linked++
			st.ByState[acct.State]++
		}
	}
	return st
}

// Ready reports whether the gateway can serve: the store answers and, when
// the link is known, the XMPP link is up.
func (a *Admin) Ready(ctx context.Context) error {
	if a.opts.Link != nil {
		l := a.opts.Link()
		if l.Problem != nil {
			return fmt.Errorf("the XMPP link: %w", l.Problem)
		}
		if len(l.Down) > 0 {
			return fmt.Errorf("the XMPP link of %s is down", strings.Join(l.Down, ", "))
		}
		if !l.Connected {
			return errors.New("the XMPP link is down")
		}
	}
	if err := a.g.Ready(ctx); err != nil {
		return fmt.Errorf("the store does not answer: %w", err)
	}
	return nil
}

// TrackActivity wraps the XMPP side so that Admin sees when each account
// last had an event delivered to its owner (AccountInfo.LastActivity).
// Attach the result with Gateway.SetFrontend.
func (a *Admin) TrackActivity(f Frontend) Frontend {
	return &activityFrontend{a: a, f: f}
}

type activityFrontend struct {
	a *Admin
	f Frontend
}

func (t *activityFrontend) Deliver(ctx context.Context, d Delivery) error {
	err := t.f.Deliver(ctx, d)
	if err == nil {
		t.seen(d.Owner, d.Platform)
	}
	return err
}

// SendFailed passes FailureNotifier calls on to the wrapped frontend.
func (t *activityFrontend) SendFailed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, msg *event.Message, xmppIDs []string, tag string, err error) {
	if n, ok := t.f.(FailureNotifier); ok {
		n.SendFailed(ctx, owner, platform, msg, xmppIDs, tag, err)
	}
}

func (t *activityFrontend) seen(owner ids.Owner, platform ids.PlatformID) {
	t.a.mu.Lock()
	t.a.activity[sessionKey{platform, owner}] = now()
	t.a.mu.Unlock()
}
