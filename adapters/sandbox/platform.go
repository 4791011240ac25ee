package sandbox

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The users every Platform starts with.
const (
	// EchoBot answers every text message with "echo: <body>".
	EchoBot ids.UserID = "+15550000001"
	// QuietBot reads every message and never answers.
	QuietBot ids.UserID = "+15550000002"
	// Alice is a scripted human: she acts only through the Platform API.
	Alice ids.UserID = "+15550001111"
	// Bob is a scripted human: he acts only through the Platform API.
	Bob ids.UserID = "+15550002222"
)

// UserKind says what drives a platform user.
type UserKind int

const (
	// KindHuman is a scripted person: it acts only through the Platform API.
	KindHuman UserKind = iota + 1
	// KindBot answers by itself.
	KindBot
	// KindAccount is a person who signed up by linking an XMPP account.
	KindAccount
)

func (k UserKind) String() string {
	switch k {
	case KindHuman:
		return "human"
	case KindBot:
		return "bot"
	case KindAccount:
		return "account"
	}
	return "unknown"
}

// User is a platform user as the directory shows it.
type User struct {
	ID        ids.UserID
	Name      string
	Kind      UserKind
	Available bool
	Status    string
	// Linked is true when the user signed up by linking an account (a
	// scripted human may also be linked).
	Linked bool
}

// Options configure a Platform. The zero value is ready to use.
type Options struct {
	// Clock gives the time stamped on every event; nil means time.Now.
	Clock func() time.Time
	// Seed is mixed into the pairing codes.
	Seed uint64
}

// user is a directory entry.
type user struct {
	id        ids.UserID
	name      string
	kind      UserKind
	bot       botKind
	available bool
	status    string
	lastSeen  time.Time
}

// account is a user who signed up, with its linked devices.
type account struct {
	id      ids.AccountID
	devices []*device
	// learned are contacts beyond the seeded users, in the order they
	// first exchanged a message with the account.
	learned []ids.UserID
	known   map[ids.UserID]bool
	// revoked device tokens: unlinked devices that may not come back.
	revoked map[string]bool
}

// Platform is the simulated service: the user directory, message routing,
// the bots and the server-side store of offline devices. One Platform is
// shared by every account of an adapter (or of several adapters, to
// simulate several gateways in front of one platform). It is safe for
// concurrent use.
type Platform struct {
	now  func() time.Time
	seed uint64

	mu        sync.Mutex
	msgSeq    uint64
	devSeq    uint64
	users     map[ids.UserID]*user
	seeded    []ids.UserID
	accounts  map[ids.AccountID]*account
	log       []Message
	receipts  []Receipt
	states    []ChatState
	acked     map[ids.MessageID]bool
	pairings  map[string][]*pairing
	attempts  map[string]int
	echoDelay time.Duration
	serial    map[string]*serialQueue

	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once
}

// NewPlatform returns a platform seeded with EchoBot, QuietBot, Alice and
// Bob. Bots are available; the scripted humans start available with no
// status.
func NewPlatform(opts Options) *Platform {
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	p := &Platform{
		now:      now,
		seed:     opts.Seed,
		users:    map[ids.UserID]*user{},
		accounts: map[ids.AccountID]*account{},
		acked:    map[ids.MessageID]bool{},
		pairings: map[string][]*pairing{},
		attempts: map[string]int{},
		serial:   map[string]*serialQueue{},
		done:     make(chan struct{}),
	}
	for _, u := range []*user{
		{id: EchoBot, name: "Echo Bot", kind: KindBot, bot: echoBot, available: true, status: "I repeat what you write"},
		{id: QuietBot, name: "Quiet Bot", kind: KindBot, bot: quietBot, available: true, status: "I read everything and never answer"},
		{id: Alice, name: "Alice Sandbox", kind: KindHuman, available: true},
		{id: Bob, name: "Bob Sandbox", kind: KindHuman, available: true},
	} {
		p.users[u.id] = u
		p.seeded = append(p.seeded, u.id)
	}
	return p
}

// Close ends the bots' waiting (echo_delay) and waits until the work they
// have in hand is done. Messages can still be exchanged afterwards; bots
// then answer without delay.
func (p *Platform) Close() {
	p.closeOnce.Do(func() { close(p.done) })
	p.wg.Wait()
}

// AddHuman adds a scripted human to the directory and to every account's
// contact list (the contact lists of connected accounts are updated at
// their next connection). id must be E.164 and not taken.
func (p *Platform) AddHuman(id ids.UserID, name string) error {
	phone, err := NormalizePhone(string(id))
	if err != nil {
		return err
	}
	if phone != string(id) {
		return fmt.Errorf("sandbox: user id %q must be written as %q: %w", id, phone, gateway.ErrBadRequest)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users[id] != nil {
		return fmt.Errorf("sandbox: user %s already exists: %w", id, gateway.ErrBadRequest)
	}
	p.users[id] = &user{id: id, name: name, kind: KindHuman, available: true}
	p.seeded = append(p.seeded, id)
	return nil
}

// Users lists the directory: seeded users first, in seeding order, then the
// accounts that signed up, in sign-up order.
func (p *Platform) Users() []User {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]User, 0, len(p.users))
	for _, id := range p.seeded {
		out = append(out, p.userLocked(id))
	}
	var rest []ids.UserID
	for id := range p.users {
		if !slices.Contains(p.seeded, id) {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	for _, id := range rest {
		out = append(out, p.userLocked(id))
	}
	return out
}

// User returns one directory entry.
func (p *Platform) User(id ids.UserID) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users[id] == nil {
		return User{}, false
	}
	return p.userLocked(id), true
}

func (p *Platform) userLocked(id ids.UserID) User {
	u := p.users[id]
	return User{
		ID: u.id, Name: u.name, Kind: u.kind, Available: u.available, Status: u.status,
		Linked: p.accounts[ids.AccountID(id)] != nil,
	}
}

// UnlinkDevices removes every linked device of account, as "log out of all
// devices" on the phone does. Connected sessions report
// event.StateLoggedOut and forget their credentials; the others do so when
// they next connect.
func (p *Platform) UnlinkDevices(acct ids.AccountID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accounts[acct]
	if a == nil {
		return fmt.Errorf("sandbox: account %s has not signed up: %w", acct, gateway.ErrNotLinked)
	}
	for _, d := range a.devices {
		p.revokeLocked(a, d)
	}
	a.devices = nil
	return nil
}

func (p *Platform) setEchoDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.echoDelay = d
}

func (p *Platform) mintIDLocked() ids.MessageID {
	p.msgSeq++
	return ids.MessageID(fmt.Sprintf("SB%d", p.msgSeq))
}

// signUp makes phone an account (if it is not one yet) and links a new
// device to it.
func (p *Platform) signUp(phone string) (*device, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := ids.UserID(phone)
	if u := p.users[id]; u != nil && u.kind == KindBot {
		return nil, fmt.Errorf("sandbox: %s is a bot and cannot be linked: %w", phone, gateway.ErrBadRequest)
	}
	a := p.accountLocked(ids.AccountID(phone))
	var token string
	for {
		p.devSeq++
		token = fmt.Sprintf("sbdev-%d", p.devSeq)
		if !a.revoked[token] && a.device(token) == nil {
			break
		}
	}
	d := newDevice(a.id, token)
	a.devices = append(a.devices, d)
	return d, nil
}

// device returns the device of a with token.
func (a *account) device(token string) *device {
	for _, d := range a.devices {
		if d.token == token {
			return d
		}
	}
	return nil
}

// resume finds the device that token names. The platform keeps its state in
// memory, so an account or device it does not know (the gateway restarted)
// signs up again; only a device that was unlinked is refused.
func (p *Platform) resume(acct ids.AccountID, token string) (*device, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[ids.UserID(acct)]; u != nil && u.kind == KindBot {
		return nil, fmt.Errorf("sandbox: %s is a bot: %w", acct, gateway.ErrNotLinked)
	}
	a := p.accountLocked(acct)
	if a.revoked[token] {
		return nil, fmt.Errorf("sandbox: the device of %s was unlinked: %w", acct, gateway.ErrNotLinked)
	}
	if d := a.device(token); d != nil {
		return d, nil
	}
	d := newDevice(acct, token)
	a.devices = append(a.devices, d)
	return d, nil
}

// accountLocked returns the account acct, signing it up if needed.
func (p *Platform) accountLocked(acct ids.AccountID) *account {
	if a := p.accounts[acct]; a != nil {
		return a
	}
	id := ids.UserID(acct)
	if p.users[id] == nil {
		p.users[id] = &user{id: id, name: string(acct), kind: KindAccount}
	}
	a := &account{id: acct, known: map[ids.UserID]bool{}, revoked: map[string]bool{}}
	p.accounts[acct] = a
	return a
}

// removeDevice unlinks one device (the session logged out).
func (p *Platform) removeDevice(d *device) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accounts[d.account]
	if a == nil {
		return
	}
	p.revokeLocked(a, d)
	a.devices = slices.DeleteFunc(a.devices, func(x *device) bool { return x == d })
}

func (p *Platform) revokeLocked(a *account, d *device) {
	a.revoked[d.token] = true
	d.revoked = true
	d.queue = nil
	d.signal()
}

// contactsLocked is the contact list of a: the seeded users, then the
// accounts it exchanged messages with; never a itself.
func (p *Platform) contactsLocked(a *account) []ids.UserID {
	out := make([]ids.UserID, 0, len(p.seeded)+len(a.learned))
	for _, id := range p.seeded {
		if id != ids.UserID(a.id) {
			out = append(out, id)
		}
	}
	return append(out, a.learned...)
}

// learnLocked adds u to a's contacts; it reports whether u is new.
func (p *Platform) learnLocked(a *account, u ids.UserID) bool {
	if u == ids.UserID(a.id) || a.known[u] || slices.Contains(p.seeded, u) {
		return false
	}
	a.known[u] = true
	a.learned = append(a.learned, u)
	return true
}

func (p *Platform) contactInfoLocked(acct ids.AccountID, id ids.UserID) *event.ContactInfo {
	u := p.users[id]
	return &event.ContactInfo{
		Meta:  event.Meta{Account: acct, Chat: ids.DirectChat(id), Sender: id, Time: p.now()},
		Name:  u.name,
		Phone: string(id),
	}
}

func (p *Platform) presenceLocked(acct ids.AccountID, id ids.UserID) *event.Presence {
	u := p.users[id]
	return &event.Presence{
		Meta:      event.Meta{Account: acct, Chat: ids.DirectChat(id), Sender: id, Time: p.now()},
		Available: u.available,
		Status:    u.status,
		LastSeen:  u.lastSeen,
	}
}
