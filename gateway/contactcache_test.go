package gateway

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
)

// readCounter is a real store that counts the contact reads, can hold a
// ListContacts until released, and can fail writes.
type readCounter struct {
	store.Store
	gets, lists atomic.Int64
	// listing, if set, is sent to when a ListContacts begins, which then
	// waits for release.
	listing chan struct{}
	release chan struct{}
	failPut atomic.Bool
}

func (s *readCounter) GetContact(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (store.Contact, error) {
	s.gets.Add(1)
	return s.Store.GetContact(ctx, owner, platform, user)
}

func (s *readCounter) ListContacts(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]store.Contact, error) {
	s.lists.Add(1)
	list, err := s.Store.ListContacts(ctx, owner, platform)
	if s.listing != nil {
		s.listing <- struct{}{}
		<-s.release
	}
	return list, err
}

func (s *readCounter) PutContact(ctx context.Context, owner ids.Owner, c store.Contact) error {
	if s.failPut.Load() {
		return errors.New("refused by the test")
	}
	return s.Store.PutContact(ctx, owner, c)
}

func (s *readCounter) reads() (gets, lists int64) { return s.gets.Load(), s.lists.Load() }

// cacheFixture is a cache on a real sqlite store holding, for each of
// owners, the contacts u0…u3 (u1 in the roster); owners in the session
// set have a session.
type cacheFixture struct {
	st       *readCounter
	cc       *contactCache
	mu       sync.Mutex
	sessions map[ids.Owner]bool
}

func newCacheFixture(t *testing.T, limit int, owners ...ids.Owner) *cacheFixture {
	t.Helper()
	sq, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "contacts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	f := &cacheFixture{st: &readCounter{Store: sq}, sessions: map[ids.Owner]bool{}}
	for _, o := range owners {
		for i := range 4 {
			c := store.Contact{Platform: cachePlatform, User: ids.UserID(fmt.Sprintf("u%d", i)), Name: fmt.Sprintf("%s's u%d", o, i), Subscribed: i == 1}
			if err := sq.PutContact(t.Context(), o, c); err != nil {
				t.Fatal(err)
			}
		}
		f.sessions[o] = true
	}
	f.cc = newContactCache(f.st, limit, func(o ids.Owner, p ids.PlatformID) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return p == cachePlatform && f.sessions[o]
	})
	return f
}

func (f *cacheFixture) setSession(o ids.Owner, on bool) {
	f.mu.Lock()
	f.sessions[o] = on
	f.mu.Unlock()
}

// get reads a contact through the cache, failing the test on errors
// other than store.ErrNotFound.
func (f *cacheFixture) get(t *testing.T, o ids.Owner, u ids.UserID) (store.Contact, bool) {
	t.Helper()
	c, err := f.cc.get(t.Context(), o, cachePlatform, u)
	if errors.Is(err, store.ErrNotFound) {
		return c, false
	}
	if err != nil {
		t.Fatalf("get(%s, %s): %v", o, u, err)
	}
	return c, true
}

// put writes through the cache as the hub does, under the owner's lock.
func (f *cacheFixture) put(t *testing.T, o ids.Owner, c store.Contact) error {
	t.Helper()
	defer f.cc.lock(o)()
	c.Platform = cachePlatform
	return f.cc.put(t.Context(), o, c)
}

func (f *cacheFixture) wantReads(t *testing.T, what string, gets, lists int64) {
	t.Helper()
	if g, l := f.st.reads(); g != gets || l != lists {
		t.Errorf("%s: %d GetContact, %d ListContacts; want %d, %d", what, g, l, gets, lists)
	}
}

// writeBehind changes a contact in the store without the cache, as the
// owner's next worker does in a sharded cluster.
func (f *cacheFixture) writeBehind(t *testing.T, o ids.Owner, u ids.UserID, name string) {
	t.Helper()
	if err := f.st.Store.PutContact(t.Context(), o, store.Contact{Platform: cachePlatform, User: u, Name: name}); err != nil {
		t.Fatal(err)
	}
}

const (
	cachePlatform = ids.PlatformID("sandbox")

	alice = ids.Owner("alice@example.test")
	bob   = ids.Owner("bob@example.test")
	carol = ids.Owner("carol@example.test")
)

// TestContactCacheReadsOncePerAccount: every contact of an account, an
// unknown one included, comes from one ListContacts; an owner without a
// session is read contact by contact and not kept.
func TestContactCacheReadsOncePerAccount(t *testing.T) {
	f := newCacheFixture(t, DefaultContactCache, alice, bob)
	f.setSession(bob, false)
	for range 3 {
		for i := range 4 {
			u := ids.UserID(fmt.Sprintf("u%d", i))
			c, ok := f.get(t, alice, u)
			if want := fmt.Sprintf("%s's u%d", alice, i); !ok || c.Name != want || c.Subscribed != (i == 1) || c.Platform != cachePlatform || c.User != u || c.Updated.IsZero() {
				t.Errorf("get(%s) = %+v, %v; want %q, subscribed %v", u, c, ok, want, i == 1)
			}
		}
		if c, ok := f.get(t, alice, "nobody"); ok {
			t.Errorf("unknown contact found: %+v", c)
		}
	}
	f.wantReads(t, "alice's contacts three times", 0, 1)

	for range 2 {
		if c, ok := f.get(t, bob, "u2"); !ok || c.Name != string(bob)+"'s u2" {
			t.Errorf("bob's u2 = %+v, %v", c, ok)
		}
	}
	f.wantReads(t, "bob, without a session, twice", 2, 1)
	if len(f.cc.books) != 1 {
		t.Errorf("%d books kept, want alice's only", len(f.cc.books))
	}
}

// TestContactCacheInvalidation: the book follows the hub's own writes
// (new contact, roster change), and is read again after each way it can
// go stale: dropped with the session (unlink, unregister, StopOwner), or
// at StartOwner, then written behind the cache by another process; a
// failed write.
func TestContactCacheInvalidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		// stale makes alice's u0 in the store "changed" behind the
		// cache in the way the case tests, and returns whether the
		// cache must read it again (false: it must know it already).
		stale func(t *testing.T, f *cacheFixture) (reread bool)
	}{
		{"roster change by the owner", func(t *testing.T, f *cacheFixture) bool {
			c, _ := f.get(t, alice, "u0")
			c.Name, c.Subscribed = "changed", true
			if err := f.put(t, alice, c); err != nil {
				t.Fatal(err)
			}
			return false
		}},
		{"session dropped (unlink, unregister, StopOwner), another process writes, session back", func(t *testing.T, f *cacheFixture) bool {
			f.setSession(alice, false)
			f.cc.drop(alice, cachePlatform)
			f.writeBehind(t, alice, "u0", "changed")
			f.setSession(alice, true)
			return true
		}},
		{"StartOwner after another process wrote", func(t *testing.T, f *cacheFixture) bool {
			f.writeBehind(t, alice, "u0", "changed")
			f.cc.drop(alice, cachePlatform)
			return true
		}},
		{"a write the store refused", func(t *testing.T, f *cacheFixture) bool {
			f.st.failPut.Store(true)
			if err := f.put(t, alice, store.Contact{User: "u0", Name: "refused"}); err == nil {
				t.Fatal("put succeeded")
			}
			f.st.failPut.Store(false)
			f.writeBehind(t, alice, "u0", "changed")
			return true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCacheFixture(t, DefaultContactCache, alice, bob)
			f.get(t, alice, "u3")
			f.get(t, bob, "u3")
			f.wantReads(t, "alice and bob", 0, 2)
			lists := int64(2)
			if tc.stale(t, f) {
				lists++
			}
			if c, ok := f.get(t, alice, "u0"); !ok || c.Name != "changed" {
				t.Errorf("alice's u0 = %+v, %v; want it changed", c, ok)
			}
			if c, _ := f.get(t, alice, "u1"); !c.Subscribed || c.Name != string(alice)+"'s u1" {
				t.Errorf("alice's u1 = %+v, want unchanged", c)
			}
			if c, _ := f.get(t, bob, "u0"); c.Name != string(bob)+"'s u0" {
				t.Errorf("bob's u0 = %+v, want unchanged", c)
			}
			f.wantReads(t, "after the change", 0, lists)
		})
	}
}

// TestContactCacheNewContact: a contact the hub writes for the first time
// joins the book, in order.
func TestContactCacheNewContact(t *testing.T) {
	f := newCacheFixture(t, DefaultContactCache, alice)
	f.get(t, alice, "u0")
	for _, u := range []ids.UserID{"a-first", "u2a", "z-last"} {
		if err := f.put(t, alice, store.Contact{User: u, Name: "new " + string(u)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []ids.UserID{"a-first", "u0", "u2", "u2a", "u3", "z-last"} {
		if _, ok := f.get(t, alice, u); !ok {
			t.Errorf("%s not found", u)
		}
	}
	f.wantReads(t, "after three new contacts", 0, 1)
	if f.cc.held != 7 {
		t.Errorf("held = %d, want 7", f.cc.held)
	}
}

// TestContactCacheDropDuringRead: a book read while the account's
// session was dropped (StopOwner) is served to its reader but not kept:
// it may be older than what the owner's next worker writes.
func TestContactCacheDropDuringRead(t *testing.T) {
	f := newCacheFixture(t, DefaultContactCache, alice)
	f.st.listing, f.st.release = make(chan struct{}), make(chan struct{})
	done := make(chan store.Contact)
	go func() {
		c, _ := f.cc.get(context.Background(), alice, cachePlatform, "u0")
		done <- c
	}()
	<-f.st.listing // the read is under way
	f.cc.drop(alice, cachePlatform)
	f.writeBehind(t, alice, "u0", "changed")
	close(f.st.release)
	if c := <-done; c.Name != string(alice)+"'s u0" {
		t.Errorf("the read under way gave %+v, want what it read", c)
	}
	f.st.listing = nil
	if c, _ := f.get(t, alice, "u0"); c.Name != "changed" {
		t.Errorf("after the drop: %+v, want it changed", c)
	}
	f.wantReads(t, "two reads", 0, 2)
}

// TestContactCacheBounds: past the limit other accounts' books go; an
// account with more than a quarter of the limit is read contact by
// contact; a negative limit keeps nothing.
func TestContactCacheBounds(t *testing.T) {
	owners := []ids.Owner{alice, bob, carol, "dave@example.test", "erin@example.test"}
	f := newCacheFixture(t, 16, owners...) // 5 accounts of 4 contacts
	for _, o := range owners {
		f.get(t, o, "u0")
	}
	last := f.cc.books[sessionKey{cachePlatform, owners[4]}]
	if f.cc.held != 16 || len(f.cc.books) != 4 || last == nil {
		t.Errorf("held %d contacts in %d books (the last read's: %v), want 16 in 4, the last read's kept", f.cc.held, len(f.cc.books), last != nil)
	}
	f.wantReads(t, "five accounts", 0, 5)

	f = newCacheFixture(t, 12, alice) // a quarter: 3 contacts, alice has 4
	for range 2 {
		if c, ok := f.get(t, alice, "u1"); !ok || !c.Subscribed {
			t.Errorf("u1 = %+v, %v", c, ok)
		}
	}
	f.wantReads(t, "an account too big to keep: listed once, then read one by one", 1, 1)
	if err := f.put(t, alice, store.Contact{User: "u1", Name: "n"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.get(t, alice, "u1"); c.Name != "n" || c.Subscribed {
		t.Errorf("u1 after a write = %+v", c)
	}

	f = newCacheFixture(t, -1, alice)
	f.get(t, alice, "u0")
	f.get(t, alice, "u0")
	f.wantReads(t, "no cache", 2, 0)
}

// BenchmarkContactCacheMemory fills a cache of DefaultContactCache
// contacts with accounts of four (names and numbers as the sandbox's) read
// from sqlite and reports the live heap it holds: the bound of the
// cache's memory, whatever the number of accounts.
func BenchmarkContactCacheMemory(b *testing.B) {
	sq, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "contacts.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer sq.Close()
	const perAccount = 4
	accounts := DefaultContactCache / perAccount
	owners := make([]ids.Owner, accounts)
	var batch []store.Contact
	for i := range perAccount {
		batch = append(batch, store.Contact{Platform: cachePlatform, User: ids.UserID(fmt.Sprintf("+1555000000%d", i)), Name: fmt.Sprintf("Sandbox User %d", i)})
	}
	for i := range owners {
		owners[i] = ids.Owner(fmt.Sprintf("user%d@example.test", i))
		for _, c := range batch {
			if err := sq.PutContact(b.Context(), owners[i], c); err != nil {
				b.Fatal(err)
			}
		}
	}
	var perContact float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cc := newContactCache(sq, DefaultContactCache, func(ids.Owner, ids.PlatformID) bool { return true })
		for _, o := range owners {
			if _, err := cc.get(b.Context(), o, cachePlatform, batch[0].User); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if cc.held != DefaultContactCache {
			b.Fatalf("held %d contacts, want %d", cc.held, DefaultContactCache)
		}
		perContact = float64(after.HeapAlloc-before.HeapAlloc) / float64(cc.held)
		runtime.KeepAlive(cc)
	}
	b.ReportMetric(perContact, "B/contact")
	b.ReportMetric(perContact*DefaultContactCache/1024, "KiB-full")
}
