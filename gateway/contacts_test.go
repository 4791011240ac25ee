package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// countingStore counts the contact reads and writes.
type countingStore struct {
	store.Store
	puts, gets, lists atomic.Int64
}

func (s *countingStore) ListContacts(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]store.Contact, error) {
	s.lists.Add(1)
	return s.Store.ListContacts(ctx, owner, platform)
}

// reads is how many contact reads the store answered.
func (s *countingStore) reads() int64 { return s.gets.Load() + s.lists.Load() }

func (s *countingStore) GetContact(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (store.Contact, error) {
	s.gets.Add(1)
	return s.Store.GetContact(ctx, owner, platform, user)
}

func (s *countingStore) PutContact(ctx context.Context, owner ids.Owner, c store.Contact) error {
	s.puts.Add(1)
	return s.Store.PutContact(ctx, owner, c)
}

// TestContactsWrittenWhenChanged checks that the contacts a session
// announces as it connects are stored when they are new or changed, and
// only then: a restart announces them all again, unchanged.
func TestContactsWrittenWhenChanged(t *testing.T) {
	st := &countingStore{Store: openStore(t)}
	const owner = ids.Owner("alice@example.test")
	ctx := t.Context()
	isContact := func(ev event.Event) bool { _, ok := ev.(*event.ContactInfo); return ok }

	first := newHub(t, st, true)
	first.link(t, owner, "+15557654321")
	first.fe.wait(t, owner, 4, isContact)
	if n := st.puts.Load(); n != 4 {
		t.Errorf("first connection wrote %d contacts, want the 4 new ones", n)
	}
	before, err := st.ListContacts(ctx, owner, sb)
	if err != nil || len(before) != 4 {
		t.Fatalf("contacts after linking: %+v, %v", before, err)
	}
	if err := first.gw.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// Meanwhile Alice's roster entry changed on the XMPP side, and the
	// gateway's copy of Bob's name is out of date.
	if err := first.gw.SetSubscribed(ctx, owner, sb, sandbox.Alice, true); err != nil {
		t.Fatal(err)
	}
	stale := before[3]
	if stale.User != sandbox.Bob {
		t.Fatalf("fourth contact is %s, want Bob", stale.User)
	}
	stale.Name = "Robert"
	if err := st.Store.PutContact(ctx, owner, stale); err != nil {
		t.Fatal(err)
	}
	st.puts.Store(0)

	second := newHub(t, st, true)
	second.fe.wait(t, owner, 4, isContact)
	if n := st.puts.Load(); n != 1 {
		t.Errorf("restart wrote %d contacts, want 1 (Bob's name)", n)
	}
	after, err := st.ListContacts(ctx, owner, sb)
	if err != nil || len(after) != 4 {
		t.Fatalf("contacts after restart: %+v, %v", after, err)
	}
	for i, c := range after {
		switch c.User {
		case sandbox.Bob:
			if c.Name != "Bob Sandbox" || !c.Updated.After(before[i].Updated) {
				t.Errorf("Bob after restart: %+v, want the platform's name, updated", c)
			}
		case sandbox.Alice:
			if !c.Subscribed || c.Name != before[i].Name {
				t.Errorf("Alice after restart: %+v, want subscribed, same name", c)
			}
		default:
			if c != before[i] {
				t.Errorf("contact %s after restart: %+v, want it untouched: %+v", c.User, c, before[i])
			}
		}
	}
}

// contactFrontend keeps the contact each ContactInfo delivery carries.
type contactFrontend struct {
	*frontend
	mu    sync.Mutex
	found map[ids.UserID]store.Contact
}

func (f *contactFrontend) Deliver(ctx context.Context, d gateway.Delivery) error {
	if ci, ok := d.Event.(*event.ContactInfo); ok && d.Contact != nil {
		f.mu.Lock()
		if d.Contact.User == ci.Sender {
			f.found[ci.Sender] = *d.Contact
		}
		f.mu.Unlock()
	}
	return f.frontend.Deliver(ctx, d)
}

// TestContactTravelsWithItsDelivery checks that a ContactInfo reaches the
// frontend with the contact as the store holds it (in the roster or not),
// read once by the hub, so the frontend needs no lookup of its own.
func TestContactTravelsWithItsDelivery(t *testing.T) {
	st := &countingStore{Store: openStore(t)}
	const owner = ids.Owner("alice@example.test")
	ctx := t.Context()
	// Alice is in the owner's roster already, under an old name.
	if err := st.Store.PutContact(ctx, owner, store.Contact{Platform: sb, User: sandbox.Alice, Name: "Alice", Subscribed: true}); err != nil {
		t.Fatal(err)
	}
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	gw, err := gateway.New(gateway.Options{
		Store:         st,
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := &contactFrontend{frontend: newFrontend(), found: map[ids.UserID]store.Contact{}}
	gw.SetFrontend(fe)
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	h := &hub{gw: gw, fe: fe.frontend, platform: p, store: st}
	h.link(t, owner, "+15557654321")
	fe.wait(t, owner, 4, func(ev event.Event) bool { _, ok := ev.(*event.ContactInfo); return ok })

	stored, err := st.Store.ListContacts(ctx, owner, sb)
	if err != nil || len(stored) != 4 {
		t.Fatalf("stored contacts: %+v, %v", stored, err)
	}
	fe.mu.Lock()
	defer fe.mu.Unlock()
	for _, c := range stored {
		got, ok := fe.found[c.User]
		if ok && got.Updated.Equal(c.Updated) {
			got.Updated = c.Updated
		}
		if !ok || got != c {
			t.Errorf("contact %s delivered as %+v (found %v), want %+v as stored", c.User, got, ok, c)
		}
	}
	if c := fe.found[sandbox.Alice]; !c.Subscribed || c.Name != "Alice Sandbox" {
		t.Errorf("Alice delivered as %+v, want subscribed, renamed", c)
	}
	// One read for the account (the hub's contact cache, contactcache.go),
	// none by the frontend.
	if n := st.reads(); n != 1 {
		t.Errorf("%d contact reads (%d GetContact, %d ListContacts), want 1", n, st.gets.Load(), st.lists.Load())
	}
}

// TestContactReadsAtStartup restarts a hub with three linked accounts of
// four contacts: each session announces its contacts, and the frontend
// asks for each one again (as the XMPP side does before a contact's
// presence); the store answers one read per account (a ListContacts, see
// contactcache.go) instead of one per contact and per use.
func TestContactReadsAtStartup(t *testing.T) {
	st := &countingStore{Store: openStore(t)}
	owners := []ids.Owner{"alice@example.test", "bob@example.test", "carol@example.test"}
	isContact := func(ev event.Event) bool { _, ok := ev.(*event.ContactInfo); return ok }
	first := newHub(t, st, true)
	for i, o := range owners {
		first.link(t, o, fmt.Sprintf("+1555765432%d", i))
		first.fe.wait(t, o, 4, isContact)
	}
	if err := first.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.gets.Store(0)
	st.lists.Store(0)

	second := newHub(t, st, true)
	for _, o := range owners {
		for _, ev := range second.fe.wait(t, o, 4, isContact) {
			for range 2 { // after its presence, after its picture
				c, err := second.gw.Contact(t.Context(), o, sb, ev.EventMeta().Sender)
				if err != nil || c.User != ev.EventMeta().Sender {
					t.Errorf("Contact(%s, %s) = %+v, %v", o, ev.EventMeta().Sender, c, err)
				}
			}
		}
		if _, err := second.gw.Contact(t.Context(), o, sb, "+10000000000"); !errors.Is(err, gateway.ErrUnknownChat) {
			t.Errorf("an unknown contact of %s: %v, want ErrUnknownChat", o, err)
		}
	}
	if n := st.reads(); n != int64(len(owners)) {
		t.Errorf("%d contact reads at start-up (%d GetContact, %d ListContacts), want %d: one per account", n, st.gets.Load(), st.lists.Load(), len(owners))
	}
}

// TestContactCacheFollowsTheOwner moves an owner from sharded hub A to B
// and back: B changes a contact in the store meanwhile, and A, its
// contacts read and kept before, must answer B's version. Unregistering
// then leaves no contact behind.
func TestContactCacheFollowsTheOwner(t *testing.T) {
	for _, tc := range shardStores {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
			t.Cleanup(p.Close)
			a, _ := newShardHub(t, st, p, false, delivery.SendRetry{})
			b, _ := newShardHub(t, st, p, false, delivery.SendRetry{})
			const owner, phone = ids.Owner("alice@example.test"), "+15557654321"
			isContact := func(ev event.Event) bool { _, ok := ev.(*event.ContactInfo); return ok }
			subscribed := func(h *hub) bool {
				t.Helper()
				c, err := h.gw.Contact(t.Context(), owner, sb, sandbox.Alice)
				if err != nil {
					t.Fatalf("Contact: %v", err)
				}
				return c.Subscribed
			}
			a.startOwner(t, owner)
			a.link(t, owner, phone)
			a.fe.wait(t, owner, 4, isContact)
			if subscribed(a) {
				t.Fatal("A: subscribed before anyone said so")
			}
			if err := a.gw.StopOwner(t.Context(), owner); err != nil {
				t.Fatal(err)
			}

			b.startOwner(t, owner)
			b.fe.wait(t, owner, 4, isContact)
			if err := b.gw.SetSubscribed(t.Context(), owner, sb, sandbox.Alice, true); err != nil {
				t.Fatal(err)
			}
			if !subscribed(b) {
				t.Error("B: not subscribed after SetSubscribed")
			}
			if err := b.gw.StopOwner(t.Context(), owner); err != nil {
				t.Fatal(err)
			}

			a.startOwner(t, owner)
			if !subscribed(a) {
				t.Error("A, the owner back: not subscribed; the contact cache kept what B changed away")
			}
			if err := a.gw.Unregister(t.Context(), owner, sb); err != nil {
				t.Fatal(err)
			}
			if _, err := a.gw.Contact(t.Context(), owner, sb, sandbox.Alice); !errors.Is(err, gateway.ErrUnknownChat) {
				t.Errorf("a contact after Unregister: %v, want ErrUnknownChat", err)
			}
		})
	}
}
