package gateway

import (
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// DefaultContactCache is how many contacts the hub keeps in memory at
// most when Options.ContactCache is 0: about 900 KB whatever the number of
// accounts (113 B a contact of the sandbox's, BenchmarkContactCacheMemory).
// Start-up needs few at a time: each session announces its contacts, then
// their presences and pictures, in a burst, and 8 sessions connect at
// once; with 10 000 accounts of four contacts (BenchmarkIdleAccounts)
// fewer than 1 % of the accounts were read twice, with this limit or half
// of it.
const DefaultContactCache = 8192

// contactStripes is how many locks serialize the hub's writes of
// contacts, by owner.
const contactStripes = 64

// contactCache keeps the contacts of the accounts with a session in this
// process, read from the store once per account (ListContacts) the first
// time one of them is needed, instead of once per contact and per use:
// at start-up every session announces each contact (the hub checks
// whether it changed) and its presence and picture (the XMPP side checks
// whether it is in the owner's roster, and its name), twelve reads per
// account of four contacts, each a round trip with Redis.
//
// It stays true to the store because the hub is the only writer of an
// owner's contacts while the owner has a session here: the hub's writes
// (put) go to the store, then to the cache; an account's book is dropped
// when its session goes (unlink, unregister, a sharded owner moving to
// another process) and when an owner starts (StartOwner), so that a book
// is never older than the session it serves. A book read while a write or
// a drop of the same owner was under way is served once and not kept.
//
// Its memory is bounded by limit, in contacts: past it, books of other
// accounts are dropped (the first the map yields, at random), and an
// account with more than a quarter of limit is not kept (its contacts are
// read one by one, as without the cache).
type contactCache struct {
	store store.Contacts
	// keep reports whether a book of owner's contacts on platform may be
	// kept: the owner has a session here.
	keep  func(ids.Owner, ids.PlatformID) bool
	limit int
	seed  maphash.Seed

	// stripes serialize writes; their gen is guarded by mu.
	stripes [contactStripes]contactStripe

	mu    sync.Mutex
	books map[sessionKey]*contactBook
	held  int // contacts in books
}

// contactStripe serializes the writes of the owners it stripes; gen
// counts the writes and drops begun and ended, so that a book read
// meanwhile is not kept.
type contactStripe struct {
	write sync.Mutex
	gen   uint64
}

// contactBook is the contacts of one account, sorted by user. big marks an
// account with too many contacts to keep: its contacts are read one by
// one.
type contactBook struct {
	contacts []cachedContact
	big      bool
}

// cachedContact is a store.Contact without its platform (the book's).
type cachedContact struct {
	user ids.UserID
	name string
	// updated is store.Contact.Updated in Unix nanoseconds.
	updated    int64
	subscribed bool
}

// newContactCache returns a cache of at most limit contacts (0: none).
func newContactCache(st store.Contacts, limit int, keep func(ids.Owner, ids.PlatformID) bool) *contactCache {
	return &contactCache{store: st, keep: keep, limit: limit, seed: maphash.MakeSeed(), books: make(map[sessionKey]*contactBook)}
}

func (cc *contactCache) stripe(owner ids.Owner) *contactStripe {
	return &cc.stripes[maphash.String(cc.seed, string(owner))%contactStripes]
}

// lock serializes the caller's read-modify-write of owner's contacts with
// the hub's other writes of them; it returns the unlock.
func (cc *contactCache) lock(owner ids.Owner) func() {
	s := cc.stripe(owner)
	s.write.Lock()
	return s.write.Unlock
}

// get returns owner's contact user on platform: from the account's book,
// read first if there is none; store.ErrNotFound if unknown.
func (cc *contactCache) get(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (store.Contact, error) {
	key := sessionKey{platform, owner}
	s := cc.stripe(owner)
	cc.mu.Lock()
	b := cc.books[key]
	if b != nil && !b.big {
		defer cc.mu.Unlock()
		return b.find(platform, user)
	}
	gen := s.gen
	cc.mu.Unlock()
	if b != nil || cc.limit <= 0 || !cc.keep(owner, platform) {
		return cc.store.GetContact(ctx, owner, platform, user)
	}
	list, err := cc.store.ListContacts(ctx, owner, platform)
	if err != nil {
		return store.Contact{}, err
	}
	b = newContactBook(list, cc.limit/4)
	cc.mu.Lock()
	if s.gen == gen && cc.books[key] == nil && cc.keep(owner, platform) {
		cc.books[key] = b
		cc.held += b.size()
		cc.trim(key)
	}
	cc.mu.Unlock()
	// The list holds every contact of the account.
	for _, c := range list {
		if c.User == user {
			return c, nil
		}
	}
	return store.Contact{}, store.ErrNotFound
}

// put writes c to the store and to the account's book, if there is one.
// The caller holds lock(owner).
func (cc *contactCache) put(ctx context.Context, owner ids.Owner, c store.Contact) error {
	if c.Updated.IsZero() {
		c.Updated = time.Now() // as the stores do, so that the book holds what they do
	}
	key := sessionKey{c.Platform, owner}
	s := cc.stripe(owner)
	cc.mu.Lock()
	s.gen++
	cc.mu.Unlock()
	err := cc.store.PutContact(ctx, owner, c)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	s.gen++
	b := cc.books[key]
	switch {
	case b == nil || b.big:
	case err != nil:
		// Written or not: the store knows.
		cc.dropLocked(key)
	default:
		cc.held += b.set(c)
		cc.trim(key)
	}
	return err
}

// drop forgets the book of owner's account on platform.
func (cc *contactCache) drop(owner ids.Owner, platform ids.PlatformID) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.stripe(owner).gen++
	cc.dropLocked(sessionKey{platform, owner})
}

func (cc *contactCache) dropLocked(key sessionKey) {
	if b, ok := cc.books[key]; ok {
		cc.held -= b.size()
		delete(cc.books, key)
	}
}

// trim drops books other than keep's until the cache is within its limit.
// The caller holds mu.
func (cc *contactCache) trim(keep sessionKey) {
	for key := range cc.books {
		if cc.held <= cc.limit {
			return
		}
		if key != keep {
			cc.dropLocked(key)
		}
	}
}

// newContactBook keeps list (sorted by user, as ListContacts returns it),
// or marks the account big past max contacts.
func newContactBook(list []store.Contact, max int) *contactBook {
	if len(list) > max {
		return &contactBook{big: true}
	}
	b := &contactBook{contacts: make([]cachedContact, len(list))}
	for i, c := range list {
		b.contacts[i] = cachedOf(c)
	}
	// The stores sort; a book must be sure of it to search.
	slices.SortFunc(b.contacts, func(x, y cachedContact) int { return strings.Compare(string(x.user), string(y.user)) })
	return b
}

func cachedOf(c store.Contact) cachedContact {
	cc := cachedContact{user: c.User, name: c.Name, subscribed: c.Subscribed}
	if !c.Updated.IsZero() {
		cc.updated = c.Updated.UnixNano()
	}
	return cc
}

// size is what the book counts against the cache's limit.
func (b *contactBook) size() int {
	if b.big {
		return 1
	}
	return len(b.contacts)
}

func (b *contactBook) search(user ids.UserID) (int, bool) {
	return slices.BinarySearchFunc(b.contacts, user, func(c cachedContact, u ids.UserID) int {
		return strings.Compare(string(c.user), string(u))
	})
}

// find returns the contact user; store.ErrNotFound if the book has none:
// a book holds all the account's contacts. The caller holds the cache's
// mu.
func (b *contactBook) find(platform ids.PlatformID, user ids.UserID) (store.Contact, error) {
	i, ok := b.search(user)
	if !ok {
		return store.Contact{}, store.ErrNotFound
	}
	c := b.contacts[i]
	out := store.Contact{Platform: platform, User: c.user, Name: c.name, Subscribed: c.subscribed}
	if c.updated != 0 {
		out.Updated = time.Unix(0, c.updated).UTC()
	}
	return out, nil
}

// set records c and returns by how many contacts the book grew.
func (b *contactBook) set(c store.Contact) int {
	i, ok := b.search(c.User)
	if ok {
		b.contacts[i] = cachedOf(c)
		return 0
	}
	b.contacts = slices.Insert(b.contacts, i, cachedOf(c))
	return 1
}
