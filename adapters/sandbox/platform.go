package sandbox

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
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

// String names the kind: "human", "bot" or "account".
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
	// Clock gives the time stamped on every event and recorded with every
	// message, and measures the edit and retract windows; nil means
	// time.Now.
	Clock func() time.Time
	// Seed is mixed into the pairing codes.
	Seed uint64
	// IDPrefix starts every message id; empty means "SB". The counter
	// behind it starts at 1 with each Platform, so a process that makes a
	// new Platform each time it starts on a store it used before (the
	// gateway binary) needs a new prefix each time: repeated ids would name
	// two messages in the hub's id map and in the XMPP clients, which drop
	// a message whose XEP-0359 origin-id they saw before.
	IDPrefix string
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
	// avatar is the user's picture (PNG), avatarHash its SHA-1 in hex;
	// both empty: no picture.
	avatar     []byte
	avatarHash string
}

// Platform is the simulated service: the user directory, message routing,
// the bots and the server-side store of offline devices. One Platform is
// shared by every account of an adapter (or of several adapters, to
// simulate several gateways in front of one platform). It is safe for
// concurrent use.
type Platform struct {
	now      func() time.Time
	seed     uint64
	idPrefix string

	mu       sync.Mutex
	msgSeq   uint64
	devSeq   uint64
	users    map[ids.UserID]*user
	seeded   []ids.UserID
	accounts map[ids.AccountID]*account
	// contactOf lists, for each user that is not seeded, the accounts that
	// learned it as a contact (account.learned), in the order they did.
	contactOf map[ids.UserID][]*account
	log       []*Message
	byID      map[ids.MessageID]*Message
	// echoes maps a message an account sent to the Echo Bot to the bot's
	// answer, echoed the answer back to the message.
	echoes    map[ids.MessageID]ids.MessageID
	echoed    map[ids.MessageID]ids.MessageID
	limits    limits
	receipts  []Receipt
	states    []ChatState
	acked     map[ids.MessageID]bool
	pairings  map[string][]*pairing
	attempts  map[string]int
	echoDelay time.Duration
	// echoReplyOnly: the Echo Bot sends its echo alone (echo_reply_only).
	echoReplyOnly bool
	serial        map[string]*serialQueue
	groups        groupSet // groups.go
	watch         watch    // watch.go

	outageMu sync.Mutex
	outage   map[ids.AccountID]bool // outage.go

	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once
}

// NewPlatform returns a platform seeded with EchoBot, QuietBot, Alice and
// Bob, each with a generated avatar. Bots are available; the scripted
// humans start available with no status. The rich-messaging limits are the
// defaults (DefaultEditWindow, DefaultRetractWindow, DefaultMaxFileSize)
// until an Adapter's Init sets them from its configuration.
func NewPlatform(opts Options) *Platform {
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	p := &Platform{
		now:       now,
		seed:      opts.Seed,
		idPrefix:  cmp.Or(opts.IDPrefix, "SB"),
		users:     map[ids.UserID]*user{},
		accounts:  map[ids.AccountID]*account{},
		contactOf: map[ids.UserID][]*account{},
		acked:     map[ids.MessageID]bool{},
		byID:      map[ids.MessageID]*Message{},
		echoes:    map[ids.MessageID]ids.MessageID{},
		echoed:    map[ids.MessageID]ids.MessageID{},
		limits:    defaultLimits(),
		pairings:  map[string][]*pairing{},
		attempts:  map[string]int{},
		serial:    map[string]*serialQueue{},
		done:      make(chan struct{}),
	}
	for _, u := range []*user{
		{id: EchoBot, name: "Echo Bot", kind: KindBot, bot: echoBot, available: true, status: "I repeat what you write"},
		{id: QuietBot, name: "Quiet Bot", kind: KindBot, bot: quietBot, available: true, status: "I read everything and never answer"},
		{id: Alice, name: "Alice Sandbox", kind: KindHuman, available: true},
		{id: Bob, name: "Bob Sandbox", kind: KindHuman, available: true},
	} {
		u.setAvatar(makeAvatar(u.id))
		p.users[u.id] = u
		p.seeded = append(p.seeded, u.id)
	}
	p.seedGroupsLocked()
	return p
}

// Close ends the bots' waiting (echo_delay) and waits until the work they
// have in hand is done. Messages can still be exchanged afterwards; bots
// then answer without delay.
func (p *Platform) Close() {
	p.closeOnce.Do(func() { close(p.done) })
	p.wg.Wait()
}

// AddHuman adds a scripted human, with a generated avatar, to the
// directory and to every account's contact list (the contact lists of connected accounts are updated at
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
	u := &user{id: id, name: name, kind: KindHuman, available: true}
	u.setAvatar(makeAvatar(id))
	p.users[id] = u
	p.seeded = append(p.seeded, id)
	p.watch.bump()
	return nil
}

// Users lists the directory: seeded users first, in seeding order, then the
// accounts that signed up, by number. A signed-up account is available
// while one of its devices is connected.
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

func (p *Platform) setEcho(d time.Duration, replyOnly bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.echoDelay, p.echoReplyOnly = d, replyOnly
}

func (p *Platform) mintIDLocked() ids.MessageID {
	p.msgSeq++
	return ids.MessageID(p.idPrefix + strconv.FormatUint(p.msgSeq, 10))
}
