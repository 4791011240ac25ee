package xmppcomponent

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// coreComponent is a Component on hub (a fake hub or one wrapping it)
// writing to a recorder, for tests that scripts cannot express.
func coreComponent(t *testing.T, hub Hub) (*Component, *scriptRecorder) {
	t.Helper()
	c, err := New(Config{
		Conn:     stream.Config{Domain: "gw.example.test"},
		Platform: fakePlatform,
		Version:  "1.2.3",
		Logger:   slog.New(slog.DiscardHandler),
	}, hub)
	if err != nil {
		t.Fatal(err)
	}
	rec := &scriptRecorder{}
	c.SetSender(rec)
	return c, rec
}

// recorded is what rec holds so far, without taking it.
func recorded(rec *scriptRecorder) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.out...)
}

// containing are the lines that contain every one of parts.
func containing(lines []string, parts ...string) []string {
	var out []string
next:
	for _, l := range lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// countCalls counts the hub calls that start with prefix.
func countCalls(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (h *fakeHub) callsSoFar() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

func linkFake(h *fakeHub, owner ids.Owner) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.accounts[owner] = store.Account{Owner: owner, Platform: fakePlatform, ID: ids.AccountID("acct-" + owner), State: event.StateConnected}
}

func contactInfo(user ids.UserID, hash string) *event.ContactInfo {
	return &event.ContactInfo{Meta: event.Meta{Chat: ids.ChatID(user), Sender: user}, Name: "Bob", AvatarHash: hash}
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// TestAvatarHashInPresence: a contact's new picture is fetched in the
// background and announced with its XEP-0153 hash in a fresh presence; the
// same platform hash again fetches nothing; a removed picture is announced
// as an empty photo; a failed fetch announces nothing.
func TestAvatarHashInPresence(t *testing.T) {
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	fh := newFakeHub()
	linkFake(fh, owner)
	fh.addContact(owner, store.Contact{User: "+15550000001", Name: "Bob", Subscribed: true})
	fh.addContact(owner, store.Contact{User: "+15550000002", Subscribed: true})
	hub := &pictureHub{fakeHub: fh, pictures: map[ids.UserID]gateway.Avatar{
		"+15550000001": {Hash: "a1", MIMEType: "image/png", Data: []byte("picture one")},
	}}
	c, rec := coreComponent(t, hub)
	bob := "from=\"+15550000001@gw.example.test/drawbridge\""

	photo := func(sum string) string { return `<x xmlns="vcard-temp:x:update"><photo>` + sum + `</photo></x>` }
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo("+15550000001", "a1")); err != nil {
		t.Fatal(err)
	}
	want := photo(sha1Hex([]byte("picture one")))
	testutil.WaitFor(t, "the presence with the picture's hash", func() bool {
		return len(containing(recorded(rec), "<presence", bob, want)) == 1
	})

	// The same hash again: nothing to fetch. A second contact's fetch,
	// awaited, shows the first one was not repeated meanwhile.
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo("+15550000001", "a1")); err != nil {
		t.Fatal(err)
	}
	hub.setPicture("+15550000002", gateway.Avatar{Hash: "b1", MIMEType: "image/jpeg", Data: []byte("picture two")})
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo("+15550000002", "b1")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the second contact's presence", func() bool {
		return len(containing(recorded(rec), "<presence", `from="+15550000002@gw.example.test/drawbridge"`, photo(sha1Hex([]byte("picture two"))))) == 1
	})
	if n := countCalls(fh.callsSoFar(), `Avatar "alice@example.test" "+15550000001"`); n != 1 {
		t.Errorf("the unchanged picture was fetched %d times, want once", n)
	}

	// The contact removed their picture: clients must learn it now.
	rec.take()
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo("+15550000001", "")); err != nil {
		t.Fatal(err)
	}
	if got := containing(rec.take(), "<presence", bob, photo("")); len(got) != 1 {
		t.Errorf("removing the picture: %d presences with an empty photo, want 1", len(got))
	}
	// A new picture whose fetch finds none (a zero Avatar): empty photo.
	hub.setPicture("+15550000001", gateway.Avatar{})
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo("+15550000001", "a2")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the presence without a picture", func() bool {
		return len(containing(recorded(rec), "<presence", bob, photo(""))) == 1
	})

	// A fetch that fails leaves the picture unknown: no update element.
	rec.take()
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo("+15550000003", "c1")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the failed fetch", func() bool {
		return countCalls(fh.callsSoFar(), `Avatar "alice@example.test" "+15550000003"`) == 1
	})
	c.sendContactPresence(ctx, owner, "+15550000003")
	for _, l := range containing(rec.take(), "<presence", `from="+15550000003@gw.example.test/drawbridge"`) {
		if strings.Contains(l, "vcard-temp:x:update") {
			t.Errorf("a picture that could not be fetched is announced: %s", l)
		}
	}
}

// blockingHub is a fake hub whose Avatar waits for release, counting how
// many fetches run at once.
type blockingHub struct {
	*fakeHub
	release chan struct{}
	mu      sync.Mutex
	calls   int
	running int
	most    int
}

func (h *blockingHub) Avatar(ctx context.Context, _ ids.Owner, _ ids.PlatformID, user ids.UserID) (gateway.Avatar, error) {
	h.mu.Lock()
	h.calls++
	h.running++
	h.most = max(h.most, h.running)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running--
		h.mu.Unlock()
	}()
	select {
	case <-h.release:
		return gateway.Avatar{MIMEType: "image/png", Data: []byte(user)}, nil
	case <-ctx.Done():
		return gateway.Avatar{}, ctx.Err()
	}
}

func (h *blockingHub) counts() (running, most int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.running, h.most
}

func (h *blockingHub) callCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// fetchesDone reports whether no avatar fetch of c is under way or
// waiting: a worker ends only after the last fetch it took announced its
// result.
func fetchesDone(c *Component) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.avatarq.workers == 0 && len(c.avatarq.pending) == 0
}

// TestAvatarFetchInFlight: while a contact's picture is being fetched, the
// same hash again starts no second fetch, and a newer hash (here: the
// picture removed) wins over the fetch in flight when that one ends.
func TestAvatarFetchInFlight(t *testing.T) {
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	const bob = ids.UserID("+15550000001")
	hub := &blockingHub{fakeHub: newFakeHub(), release: make(chan struct{})}
	linkFake(hub.fakeHub, owner)
	hub.addContact(owner, store.Contact{User: bob, Subscribed: true})
	c, rec := coreComponent(t, hub)

	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo(bob, "h1")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the fetch", func() bool { return hub.callCount() == 1 })
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo(bob, "h1")); err != nil {
		t.Fatal(err)
	}
	if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo(bob, "")); err != nil {
		t.Fatal(err)
	}
	close(hub.release)
	testutil.WaitFor(t, "the fetches to end", func() bool { return fetchesDone(c) })
	if n := hub.callCount(); n != 1 {
		t.Errorf("%d fetches of the same picture, want 1", n)
	}
	for _, l := range containing(rec.take(), "<presence", "<photo>") {
		t.Errorf("the stale fetch announced a picture after it was removed: %s", l)
	}
	c.sendContactPresence(ctx, owner, bob)
	if got := containing(rec.take(), "<presence", `<photo></photo>`); len(got) != 1 {
		t.Errorf("presence after the removal shows no empty photo: %v", got)
	}
}

// TestAvatarFetchesAreBounded: many contacts' pictures changing at once
// start at most maxAvatarFetches downloads; the others wait their turn and
// all are announced in the end.
func TestAvatarFetchesAreBounded(t *testing.T) {
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	const contacts = maxAvatarFetches + 3
	hub := &blockingHub{fakeHub: newFakeHub(), release: make(chan struct{})}
	linkFake(hub.fakeHub, owner)
	c, rec := coreComponent(t, hub)
	for i := range contacts {
		user := ids.UserID(fmt.Sprintf("+1555000010%d", i))
		hub.addContact(owner, store.Contact{User: user, Subscribed: true})
		if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo(user, "h")); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "the first fetches", func() bool {
		running, _ := hub.counts()
		return running == maxAvatarFetches
	})
	close(hub.release)
	testutil.WaitFor(t, "every contact's presence", func() bool {
		return len(containing(recorded(rec), "<presence", "vcard-temp:x:update")) == contacts
	})
	if _, most := hub.counts(); most > maxAvatarFetches {
		t.Errorf("%d avatar fetches ran at once, want at most %d", most, maxAvatarFetches)
	}
}

// TestAvatarFetchesQueueWithoutGoroutines: pictures announced by many
// contacts at once (every account's contacts at start-up) wait in a queue,
// not in a goroutine each: while the fetches are blocked, the process
// holds at most maxAvatarFetches more goroutines, not one per contact.
func TestAvatarFetchesQueueWithoutGoroutines(t *testing.T) {
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	const contacts = 200
	hub := &blockingHub{fakeHub: newFakeHub(), release: make(chan struct{})}
	linkFake(hub.fakeHub, owner)
	c, rec := coreComponent(t, hub)
	before := runtime.NumGoroutine()
	for i := range contacts {
		user := ids.UserID(fmt.Sprintf("+155500%05d", i))
		hub.addContact(owner, store.Contact{User: user, Subscribed: true})
		if err := testDeliver(ctx, c, owner, fakePlatform, contactInfo(user, "h")); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "the first fetches", func() bool {
		running, _ := hub.counts()
		return running == maxAvatarFetches
	})
	// Slack for goroutines of the test's own machinery (the recorder,
	// timers); one goroutine per waiting fetch would be 196 more.
	if grown := runtime.NumGoroutine() - before; grown > maxAvatarFetches+20 {
		t.Errorf("%d goroutines more while %d avatar fetches wait, want at most %d", grown, contacts, maxAvatarFetches+20)
	}
	close(hub.release)
	testutil.WaitFor(t, "every contact's presence", func() bool {
		return len(containing(recorded(rec), "<presence", "vcard-temp:x:update")) == contacts
	})
	testutil.WaitFor(t, "the workers to end", func() bool { return fetchesDone(c) })
}
