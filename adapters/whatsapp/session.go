package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var (
	_ gateway.Session           = (*Session)(nil)
	_ gateway.Editor            = (*Session)(nil)
	_ gateway.Retracter         = (*Session)(nil)
	_ gateway.Reactor           = (*Session)(nil)
	_ gateway.ReceiptSender     = (*Session)(nil)
	_ gateway.ChatStateSender   = (*Session)(nil)
	_ gateway.ContactLister     = (*Session)(nil)
	_ gateway.UserResolver      = (*Session)(nil)
	_ gateway.AvatarGetter      = (*Session)(nil)
	_ gateway.GroupAvatarGetter = (*Session)(nil)
	_ gateway.GroupManager      = (*Session)(nil)
)

// PhoneOfflineWarning is how long the phone may stay unseen before the
// account is reported as event.StatePhoneOffline. WhatsApp logs linked
// devices out after 14 days without the phone
// (https://faq.whatsapp.com/378279804439436); 12 days leaves two to react.
const PhoneOfflineWarning = 12 * 24 * time.Hour

// phoneCheckInterval is how often a connected session checks the phone.
const phoneCheckInterval = time.Hour

// Reconnection backoff for connections that fail before whatsmeow's own
// automatic reconnection takes over.
const (
	minBackoff = 2 * time.Second
	maxBackoff = 5 * time.Minute
)

type sessionPhase int

const (
	sessIdle sessionPhase = iota
	sessConnecting
	sessConnected
	sessLoggedOut
	sessSuperseded
)

// Session is one linked WhatsApp account (one linked device). It
// implements gateway.Session and the optional interfaces listed above.
//
// whatsmeow calls the session's event handler for one event at a time;
// the handler converts and emits synchronously, so events reach the hub
// in WhatsApp's order, and a message is acknowledged to WhatsApp only once
// the hub has taken it.
type Session struct {
	a    *Adapter
	host gateway.Host
	acct ids.AccountID
	c    *conn
	cfg  config
	log  *slog.Logger

	// Captured when the session is made: whatsmeow replaces the device's
	// stores when it deletes the device.
	users    *waid.Mapper
	contacts store.ContactStore
	ownJID   types.JID
	devJID   string

	mu        sync.Mutex
	phase     sessionPhase
	fresh     bool // the client still has to Connect
	connCtx   context.Context
	cancel    context.CancelFunc
	loopDone  chan struct{}
	reconnect chan time.Duration
	reported  reportedState
	phoneSeen time.Time
	warned    bool
	presence  map[types.JID]bool // subscribed this connection
	avatars   map[ids.UserID]string
	chatAddr  map[ids.ChatID]types.JID // the JID WhatsApp last used for a chat
	groups    map[types.JID]groupState // name and topic of the groups seen
	// memberAddr is the JID WhatsApp last used for a member of a group.
	memberAddr  map[memberKey]types.JID
	sent        sentTimes
	pres        ownPresence                   // presence.go
	unread      unreadLists                   // markers.go
	resynced    map[appstate.WAPatchName]bool // contacts_sync.go
	undecrypted undecrypted                   // undecryptable.go
	lidOnly     lidOnly                       // identity.go
	timers      chatTimers                    // disappearing.go
	retries     mediaRetries                  // mediaretry.go
	trouble     connTrouble                   // connstate.go
	panics      panicNotes                    // panics.go
	polls       polls                         // polls.go
	chatq       chatQueues                    // chatqueue.go
}

type reportedState struct {
	state  event.State
	detail string
}

func newSession(a *Adapter, host gateway.Host, acct ids.AccountID, c *conn, fresh bool) *Session {
	s := &Session{
		a: a, host: host, acct: acct, c: c, cfg: a.config(), fresh: fresh,
		log:      a.logger().With("account", string(acct)),
		contacts: c.device.Contacts,
		avatars:  map[ids.UserID]string{},
		chatAddr: map[ids.ChatID]types.JID{},
	}
	// A new link (not a loaded session) waits for its first app-state sync.
	s.pres.awaitSync = !fresh
	if c.device.ID != nil {
		s.ownJID = c.device.ID.ToNonAD()
		s.devJID = c.device.ID.String()
	} else {
		s.ownJID = types.NewJID(string(acct[1:]), types.DefaultUserServer)
	}
	s.users = &waid.Mapper{Own: s.ownJID, OwnLID: c.device.LID.ToNonAD()}
	if c.device.LIDs != nil {
		s.users.LIDs = c.device.LIDs
	}
	return s
}

// Account returns the linked account.
func (s *Session) Account() ids.AccountID { return s.acct }

// Connect implements gateway.Session. It reports event.StateConnecting,
// then event.StateConnected once WhatsApp has accepted the device. A first
// connection that fails is retried with backoff (reported as
// event.StateDisconnected); once connected, whatsmeow reconnects by
// itself. The connection lasts until Disconnect, Logout or Adapter.Stop,
// not until ctx is done.
func (s *Session) Connect(ctx context.Context) {
	s.mu.Lock()
	switch s.phase {
	case sessConnecting, sessConnected:
		s.mu.Unlock()
		return
	case sessLoggedOut:
		s.mu.Unlock()
		s.setState(ctx, event.StateLoggedOut, "This WhatsApp device is logged out; link the account again.")
		return
	case sessSuperseded:
		s.mu.Unlock()
		s.log.Warn("whatsapp: Connect on a superseded session ignored")
		return
	}
	// A connection that stopped by itself (a ban, a replaced stream) may
	// still wait to reconnect: end it first.
	prevCancel, prev := s.cancel, s.loopDone
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	reconnect := make(chan time.Duration, 1)
	fresh := s.fresh
	s.phase, s.connCtx, s.cancel, s.loopDone, s.fresh = sessConnecting, runCtx, cancel, done, true
	s.reconnect = reconnect
	s.presence = map[types.JID]bool{}
	s.mu.Unlock()
	if prevCancel != nil {
		prevCancel()
	}
	if prev != nil {
		<-prev
	}
	s.waitChatQueues()
	s.loadPhoneSeen(runCtx)
	s.setState(ctx, event.StateConnecting, "")
	// Messages queued by an earlier connection go first (chatqueue.go),
	// then the events kept since the login finished.
	s.resumeChatQueues(runCtx)
	s.c.setHandler(s.handle)
	if !fresh && s.c.client.IsConnected() && s.c.client.IsLoggedIn() {
		s.connected(runCtx)
	}
	go s.run(runCtx, fresh, reconnect, done)
}

// run connects if needed, then checks the phone hourly and reconnects
// when asked, until ctx is done.
func (s *Session) run(ctx context.Context, connect bool, reconnect <-chan time.Duration, done chan struct{}) {
	defer close(done)
	ticker := time.NewTicker(phoneCheckInterval)
	defer ticker.Stop()
	for {
		if connect {
			if !s.connectLoop(ctx) {
				return
			}
			connect = false
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.checkPhone(ctx)
		case d := <-reconnect:
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if !s.c.client.IsConnected() {
				s.mu.Lock()
				if s.phase == sessIdle {
					s.phase = sessConnecting
				}
				s.mu.Unlock()
				connect = true
			}
		}
	}
}

// connectLoop calls Connect until it succeeds or ctx ends.
func (s *Session) connectLoop(ctx context.Context) bool {
	backoff := minBackoff
	for {
		err := s.c.client.Connect()
		if err == nil || errors.Is(err, whatsmeow.ErrAlreadyConnected) {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.log.Warn("whatsapp: cannot connect", "err", err, "retry_in", wait)
		s.setState(ctx, event.StateDisconnected,
			fmt.Sprintf("Cannot reach WhatsApp (%v); trying again in %s.", err, wait.Round(time.Second)))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// scheduleReconnect asks the run loop to connect again after d.
func (s *Session) scheduleReconnect(d time.Duration) {
	s.mu.Lock()
	ch := s.reconnect
	s.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- d:
	default:
	}
}

// runCtx is the context of the current connection; s.mu must be held.
func (s *Session) runCtx() context.Context {
	if s.connCtx == nil {
		return context.Background()
	}
	return s.connCtx
}

// setState reports a state unless it repeats the last one reported.
func (s *Session) setState(ctx context.Context, state event.State, detail string) {
	s.mu.Lock()
	if s.reported == (reportedState{state, detail}) {
		s.mu.Unlock()
		return
	}
	s.reported = reportedState{state, detail}
	s.mu.Unlock()
	s.host.SetState(ctx, s.acct, state, detail)
}

// halt stops the connection and waits until no more events are handled;
// the session is then in phase next (logged-out and superseded are
// final). It reports whether the session was connecting or connected.
func (s *Session) halt(next sessionPhase) bool {
	s.mu.Lock()
	was := s.phase == sessConnecting || s.phase == sessConnected
	if s.phase != sessLoggedOut && s.phase != sessSuperseded {
		s.phase = next
	}
	cancel, done := s.cancel, s.loopDone
	s.cancel = nil
	s.mu.Unlock()
	s.c.setHandler(nil)
	if cancel != nil {
		cancel()
	}
	s.c.client.Disconnect()
	if done != nil {
		<-done
	}
	s.waitChatQueues()
	return was
}

// Disconnect implements gateway.Session: it closes the connection and
// reports event.StateDisconnected. Messages that arrive meanwhile wait on
// WhatsApp's servers for the next Connect. It returns once no more events
// are emitted.
func (s *Session) Disconnect() {
	if s.halt(sessIdle) {
		s.mu.Lock()
		s.reported = reportedState{}
		s.mu.Unlock()
		s.host.SetState(context.Background(), s.acct, event.StateDisconnected, "")
		s.log.Debug("whatsapp: session disconnected")
	}
}

// supersede stops the session for good without reporting a state: a newer
// session of the account took over.
func (s *Session) supersede() { s.halt(sessSuperseded) }

// Logout implements gateway.Session: it unlinks the device on WhatsApp
// (the phone's Linked devices list drops it), deletes its keys from the
// device store and forgets it. Without a connection it only deletes the
// local state (the phone then lists the device until WhatsApp expires it).
// Calling it again, or on a superseded session, does nothing.
func (s *Session) Logout(ctx context.Context) error {
	s.mu.Lock()
	switch s.phase {
	case sessSuperseded:
		s.mu.Unlock()
		return nil
	case sessLoggedOut:
		s.mu.Unlock()
		return s.forget(ctx)
	}
	s.phase = sessLoggedOut
	s.mu.Unlock()
	var errs []error
	if err := s.c.client.Logout(ctx); err != nil {
		s.log.Warn("whatsapp: logout on WhatsApp failed; deleting the device locally", "err", err)
		s.c.client.Disconnect()
		if err := s.c.device.Delete(ctx); err != nil {
			errs = append(errs, fmt.Errorf("whatsapp: deleting the device of %s: %w", s.acct, err))
		}
	}
	s.halt(sessLoggedOut)
	if err := s.forget(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// forget deletes what the adapter keeps about the account and drops the
// session from the adapter.
func (s *Session) forget(ctx context.Context) error {
	s.a.forgetSession(s)
	kv := s.host.KV(s.acct)
	var errs []error
	// A newer link may have replaced the device: delete only ours.
	if raw, err := kv.Get(ctx, kvDeviceJID); err == nil && string(raw) == s.deviceJID() {
		if err := kv.Delete(ctx, kvDeviceJID); err != nil {
			errs = append(errs, fmt.Errorf("whatsapp: forgetting the device of %s: %w", s.acct, err))
		}
		if err := kv.Delete(ctx, kvPhoneLastSeen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deviceJID is the JID of the session's device as stored in the KV.
func (s *Session) deviceJID() string { return s.devJID }

// Capabilities implements gateway.Session; every chat, one-to-one or
// group, has WhatsApp's limits.
func (s *Session) Capabilities(ids.ChatID) gateway.Capabilities {
	return capabilities(s.cfg)
}

// EditWindow is how long after sending a message WhatsApp lets its author
// edit it: 15 minutes (https://faq.whatsapp.com/597157455566474, "Edit
// messages").
const EditWindow = 15 * time.Minute

// RetractWindow is how long after sending a message WhatsApp lets its
// author delete it for everyone: "about 2 days"
// (https://faq.whatsapp.com/1217634902127718, "How to delete messages";
// the apps allow 2 days and 12 hours). The gateway uses the documented 2
// days.
const RetractWindow = 48 * time.Hour

// MaxBodyLength is the longest text WhatsApp carries: 65,536 characters;
// counting bytes keeps within it.
const MaxBodyLength = 65536

func capabilities(cfg config) gateway.Capabilities {
	return gateway.Capabilities{
		MaxBodyLength:       MaxBodyLength,
		Receipts:            true,
		ReadMarkers:         true,
		ChatStates:          true,
		Edits:               true,
		EditWindow:          EditWindow,
		Retractions:         true,
		RetractWindow:       RetractWindow,
		Reactions:           true,
		MaxReactionsPerUser: 1,
		Replies:             true,
		// Photos, videos and audio above 16 MB, and files of any other
		// type, travel as documents, so any type up to the document limit
		// is accepted.
		MaxFileSize: cfg.maxFileSize,
	}
}

// connected handles WhatsApp having accepted the device.
func (s *Session) connected(ctx context.Context) {
	s.mu.Lock()
	if s.phase != sessConnecting && s.phase != sessConnected {
		s.mu.Unlock()
		return
	}
	s.phase = sessConnected
	s.presence = map[types.JID]bool{}
	s.mu.Unlock()
	s.resetTrouble() // connstate.go
	s.presenceConnected(ctx)
	s.setState(ctx, event.StateConnected, "")
	s.checkPhone(ctx)
}

// loadPhoneSeen reads when the phone was last seen.
func (s *Session) loadPhoneSeen(ctx context.Context) {
	raw, err := s.host.KV(s.acct).Get(ctx, kvPhoneLastSeen)
	if err != nil {
		return
	}
	t, err := time.Parse(time.RFC3339, string(raw))
	if err != nil {
		return
	}
	s.mu.Lock()
	if t.After(s.phoneSeen) {
		s.phoneSeen = t
	}
	s.mu.Unlock()
}

// seePhone records that the phone (the primary device) was online at t.
func (s *Session) seePhone(ctx context.Context, t time.Time) {
	if t.IsZero() {
		t = s.a.now()
	}
	s.mu.Lock()
	if t.Before(s.phoneSeen.Add(time.Hour)) && !s.warned {
		// Recorded recently enough; spare the store a write per event.
		s.mu.Unlock()
		return
	}
	if t.After(s.phoneSeen) {
		s.phoneSeen = t
	}
	warned := s.warned
	s.warned = false
	connected := s.phase == sessConnected
	s.mu.Unlock()
	if err := s.host.KV(s.acct).Set(ctx, kvPhoneLastSeen, []byte(t.UTC().Format(time.RFC3339))); err != nil {
		s.log.Warn("whatsapp: cannot record when the phone was seen", "err", err)
	}
	if warned && connected {
		s.setState(ctx, event.StateConnected, "Your phone is online again.")
	}
}

// checkPhone warns once when the phone has not been seen for
// PhoneOfflineWarning.
func (s *Session) checkPhone(ctx context.Context) {
	s.mu.Lock()
	seen, warned, connected := s.phoneSeen, s.warned, s.phase == sessConnected
	s.mu.Unlock()
	if seen.IsZero() || warned || !connected {
		return
	}
	age := s.a.now().Sub(seen)
	if age < PhoneOfflineWarning {
		return
	}
	s.mu.Lock()
	s.warned = true
	s.mu.Unlock()
	days := int(age / (24 * time.Hour))
	s.setState(ctx, event.StatePhoneOffline, fmt.Sprintf(
		"Your phone has not been online for %d days. WhatsApp logs linked devices out after 14 days without the phone: "+
			"open WhatsApp on your phone, connected to the internet, to keep the gateway linked.", days))
}

// loggedOut handles WhatsApp having logged the device out (from the
// phone, or because the phone stayed away too long). whatsmeow has deleted
// the device's keys; the adapter forgets the device and tells the user.
func (s *Session) loggedOut(ctx context.Context, evt *events.LoggedOut) {
	s.mu.Lock()
	if s.phase == sessLoggedOut || s.phase == sessSuperseded {
		s.mu.Unlock()
		return
	}
	s.phase = sessLoggedOut
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	// The run context is gone: finish the bookkeeping on a fresh one.
	ctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stop()
	if err := s.forget(ctx); err != nil {
		s.log.Warn("whatsapp: cannot forget the logged-out device", "err", err)
	}
	reason := "the device was removed from Linked devices on your phone"
	if evt.OnConnect {
		reason = evt.Reason.String()
	}
	s.log.Info("whatsapp: logged out by WhatsApp", "reason", reason)
	if ban := logoutBan(evt); ban != "" { // connstate.go
		s.setState(ctx, event.StateBanned, ban)
	}
	s.setState(ctx, event.StateLoggedOut,
		fmt.Sprintf("WhatsApp logged this gateway out (%s); its keys are deleted and your WhatsApp messages no longer reach XMPP until you link the account again.", reason))
}

// stopped handles a disconnection after which whatsmeow does not
// reconnect by itself.
func (s *Session) stopped(ctx context.Context, state event.State, detail string, retryAfter time.Duration) {
	s.mu.Lock()
	if s.phase == sessConnecting || s.phase == sessConnected {
		s.phase = sessIdle
	}
	s.mu.Unlock()
	s.setState(ctx, state, detail)
	if retryAfter > 0 {
		s.scheduleReconnect(retryAfter)
	}
}

// chatAddrCap bounds the remembered chat addresses.
const chatAddrCap = 10_000

// rememberAddr records the JID WhatsApp used for a one-to-one chat.
func (s *Session) rememberAddr(chat ids.ChatID, jid types.JID) {
	if jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.chatAddr) >= chatAddrCap {
		clear(s.chatAddr)
	}
	s.chatAddr[chat] = jid.ToNonAD()
}

// sentCap bounds how many sent messages a session remembers the time of.
const sentCap = 10_000

// sentTimes remembers when the owner's recent messages were sent, to
// refuse edits and retractions outside WhatsApp's windows.
type sentTimes struct {
	at    map[types.MessageID]time.Time
	order []types.MessageID
}

func (t *sentTimes) put(id types.MessageID, at time.Time) {
	if t.at == nil {
		t.at = map[types.MessageID]time.Time{}
	}
	if _, ok := t.at[id]; !ok {
		t.order = append(t.order, id)
	}
	t.at[id] = at
	if len(t.order) > sentCap {
		delete(t.at, t.order[0])
		t.order = t.order[1:]
	}
}

func (t *sentTimes) get(id types.MessageID) (time.Time, bool) {
	at, ok := t.at[id]
	return at, ok
}
