package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Owners and platforms used throughout the suite.
const (
	alice ids.Owner = "alice@example.org"
	bob   ids.Owner = "bob@example.org"
	carol ids.Owner = "carol@example.net"

	sandbox  ids.PlatformID = "sandbox"
	whatsapp ids.PlatformID = "whatsapp"
)

// checkAccount compares the fields of got that a caller controls with want.
// Registered is compared only when want has one.
func checkAccount(t *testing.T, what string, got, want store.Account) {
	t.Helper()
	if got.Owner != want.Owner || got.Platform != want.Platform || got.ID != want.ID ||
		got.State != want.State || got.StateDetail != want.StateDetail {
		t.Errorf("%s: got {%q %q %q %q %q}, want {%q %q %q %q %q}", what,
			got.Owner, got.Platform, got.ID, got.State, got.StateDetail,
			want.Owner, want.Platform, want.ID, want.State, want.StateDetail)
	}
	if !want.Registered.IsZero() && !got.Registered.Equal(want.Registered) {
		t.Errorf("%s: Registered = %v, want %v", what, got.Registered, want.Registered)
	}
	if got.Updated.IsZero() {
		t.Errorf("%s: Updated is zero", what)
	}
}

func put(t *testing.T, s store.Store, a store.Account) {
	t.Helper()
	must(t, s.PutAccount(ctx(t), a), "PutAccount(%q, %q, %q)", a.Owner, a.Platform, a.ID)
}

func byOwner(t *testing.T, s store.Store, owner ids.Owner, platform ids.PlatformID) store.Account {
	t.Helper()
	a, err := s.AccountByOwner(ctx(t), owner, platform)
	must(t, err, "AccountByOwner(%q, %q)", owner, platform)
	return a
}

// wantLinked checks that the reverse index maps (platform, id) to owner.
func wantLinked(t *testing.T, s store.Store, platform ids.PlatformID, id ids.AccountID, owner ids.Owner) {
	t.Helper()
	a, err := s.AccountByID(ctx(t), platform, id)
	if err != nil {
		t.Errorf("AccountByID(%q, %q): %v, want owner %q", platform, id, err, owner)
		return
	}
	if a.Owner != owner || a.Platform != platform || a.ID != id {
		t.Errorf("AccountByID(%q, %q) = {%q %q %q}, want owner %q", platform, id, a.Owner, a.Platform, a.ID, owner)
	}
}

func wantUnlinked(t *testing.T, s store.Store, platform ids.PlatformID, id ids.AccountID) {
	t.Helper()
	a, err := s.AccountByID(ctx(t), platform, id)
	if err == nil {
		t.Errorf("AccountByID(%q, %q) = owner %q, want store.ErrNotFound", platform, id, a.Owner)
		return
	}
	wantNotFound(t, err, "AccountByID("+string(platform)+", "+string(id)+")")
}

func testPutAccountCreateReplace(t *testing.T, s store.Store) {
	registered := time.Date(2024, 5, 1, 12, 30, 0, 123_000_000, time.UTC)
	first := store.Account{
		Owner: alice, Platform: sandbox, ID: "+4411",
		State: event.StateConnecting, StateDetail: "dialling",
		Registered: registered,
	}
	put(t, s, first)
	got := byOwner(t, s, alice, sandbox)
	checkAccount(t, "after create", got, first)
	if !recently(got.Updated) {
		t.Errorf("after create: Updated = %v, want about now", got.Updated)
	}

	// Replace: every field changes; a zero Registered keeps the first one.
	second := store.Account{
		Owner: alice, Platform: sandbox, ID: "+4422",
		State: event.StateLoggedOut, StateDetail: "logged out on the phone",
	}
	put(t, s, second)
	got2 := byOwner(t, s, alice, sandbox)
	want := second
	want.Registered = registered
	checkAccount(t, "after replace", got2, want)
	if got2.Updated.Before(got.Updated) {
		t.Errorf("after replace: Updated went back from %v to %v", got.Updated, got2.Updated)
	}

	// A record created without Registered gets the current time.
	put(t, s, store.Account{Owner: bob, Platform: sandbox})
	if b := byOwner(t, s, bob, sandbox); !recently(b.Registered) {
		t.Errorf("created without Registered: Registered = %v, want about now", b.Registered)
	}

	// An explicit Updated is kept as given.
	updated := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	put(t, s, store.Account{Owner: carol, Platform: sandbox, Updated: updated})
	if c := byOwner(t, s, carol, sandbox); !c.Updated.Equal(updated) {
		t.Errorf("explicit Updated: got %v, want %v", c.Updated, updated)
	}
}

func testAccountNotFound(t *testing.T, s store.Store) {
	put(t, s, store.Account{Owner: alice, Platform: sandbox, ID: "+4411"})
	tests := []struct {
		name string
		call func() error
	}{
		{"unknown owner", func() error { _, err := s.AccountByOwner(ctx(t), bob, sandbox); return err }},
		{"known owner, other platform", func() error { _, err := s.AccountByOwner(ctx(t), alice, whatsapp); return err }},
		{"unknown id", func() error { _, err := s.AccountByID(ctx(t), sandbox, "+4499"); return err }},
		{"known id, other platform", func() error { _, err := s.AccountByID(ctx(t), whatsapp, "+4411"); return err }},
		{"empty id", func() error { _, err := s.AccountByID(ctx(t), sandbox, ""); return err }},
		{"set state of unknown owner", func() error {
			return s.SetAccountState(ctx(t), bob, sandbox, event.StateConnected, "")
		}},
		{"set state of other platform", func() error {
			return s.SetAccountState(ctx(t), alice, whatsapp, event.StateConnected, "")
		}},
	}
	for _, tc := range tests {
		wantNotFound(t, tc.call(), tc.name)
	}
}

func testReverseIndexFollowsID(t *testing.T, s store.Store) {
	steps := []struct {
		name     string
		id       ids.AccountID
		linked   ids.AccountID   // must map to alice after the step
		unlinked []ids.AccountID // must be unknown after the step
	}{
		{"link", "A", "A", []ids.AccountID{"B"}},
		{"relink same id", "A", "A", []ids.AccountID{"B"}},
		{"change id", "B", "B", []ids.AccountID{"A"}},
		{"clear id", "", "", []ids.AccountID{"A", "B", ""}},
		{"link again", "A", "A", []ids.AccountID{"B", ""}},
	}
	for _, st := range steps {
		put(t, s, store.Account{Owner: alice, Platform: sandbox, ID: st.id})
		if got := byOwner(t, s, alice, sandbox); got.ID != st.id {
			t.Errorf("%s: AccountByOwner ID = %q, want %q", st.name, got.ID, st.id)
		}
		if st.linked != "" {
			wantLinked(t, s, sandbox, st.linked, alice)
			wantUnlinked(t, s, whatsapp, st.linked)
		}
		for _, id := range st.unlinked {
			wantUnlinked(t, s, sandbox, id)
		}
	}
}

func testUnlinkedNotIndexed(t *testing.T, s store.Store) {
	// Registered but not linked: several owners may have an empty ID.
	put(t, s, store.Account{Owner: alice, Platform: sandbox})
	put(t, s, store.Account{Owner: bob, Platform: sandbox})
	wantUnlinked(t, s, sandbox, "")
	for _, o := range []ids.Owner{alice, bob} {
		if a := byOwner(t, s, o, sandbox); a.ID != "" {
			t.Errorf("AccountByOwner(%q).ID = %q, want empty", o, a.ID)
		}
	}
}

func testPutAccountConflict(t *testing.T, s store.Store) {
	put(t, s, store.Account{Owner: alice, Platform: sandbox, ID: "A"})
	put(t, s, store.Account{Owner: bob, Platform: sandbox, State: event.StateConnecting})

	// bob may not take alice's account, and his record stays as it was.
	err := s.PutAccount(ctx(t), store.Account{Owner: bob, Platform: sandbox, ID: "A", State: event.StateConnected})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("bob links alice's account: got %v, want store.ErrConflict", err)
	}
	wantLinked(t, s, sandbox, "A", alice)
	if b := byOwner(t, s, bob, sandbox); b.ID != "" || b.State != event.StateConnecting {
		t.Errorf("after conflict, bob's record = {%q %q}, want unchanged {\"\" %q}", b.ID, b.State, event.StateConnecting)
	}

	// Nor may a newcomer, whose record is not created.
	err = s.PutAccount(ctx(t), store.Account{Owner: carol, Platform: sandbox, ID: "A"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("carol links alice's account: got %v, want store.ErrConflict", err)
	}
	_, err = s.AccountByOwner(ctx(t), carol, sandbox)
	wantNotFound(t, err, "carol's record after conflict")

	// The index is per platform; the owner may write her record again.
	put(t, s, store.Account{Owner: bob, Platform: whatsapp, ID: "A"})
	wantLinked(t, s, whatsapp, "A", bob)
	put(t, s, store.Account{Owner: alice, Platform: sandbox, ID: "A", State: event.StateConnected})

	// Once alice moves on, bob may link A.
	put(t, s, store.Account{Owner: alice, Platform: sandbox, ID: "B"})
	put(t, s, store.Account{Owner: bob, Platform: sandbox, ID: "A"})
	wantLinked(t, s, sandbox, "A", bob)
	wantLinked(t, s, sandbox, "B", alice)
}

func testListAccountsOrder(t *testing.T, s store.Store) {
	list, err := s.ListAccounts(ctx(t))
	must(t, err, "ListAccounts on an empty store")
	if len(list) != 0 {
		t.Errorf("ListAccounts on an empty store returned %d records", len(list))
	}

	for _, a := range []store.Account{
		{Owner: carol, Platform: sandbox, ID: "c1"},
		{Owner: alice, Platform: whatsapp, ID: "a2"},
		{Owner: bob, Platform: sandbox},
		{Owner: alice, Platform: sandbox, ID: "a1"},
		{Owner: alice, Platform: "matrix", ID: "a0"},
	} {
		put(t, s, a)
	}
	want := []store.Account{
		{Owner: alice, Platform: "matrix", ID: "a0"},
		{Owner: alice, Platform: sandbox, ID: "a1"},
		{Owner: alice, Platform: whatsapp, ID: "a2"},
		{Owner: bob, Platform: sandbox},
		{Owner: carol, Platform: sandbox, ID: "c1"},
	}
	list, err = s.ListAccounts(ctx(t))
	must(t, err, "ListAccounts")
	if len(list) != len(want) {
		t.Fatalf("ListAccounts returned %d records, want %d: %+v", len(list), len(want), list)
	}
	for i := range want {
		checkAccount(t, fmt.Sprintf("ListAccounts[%d]", i), list[i], want[i])
	}
}

func testSetAccountState(t *testing.T, s store.Store) {
	registered := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	old := time.Date(2024, 2, 3, 4, 5, 7, 0, time.UTC)
	put(t, s, store.Account{
		Owner: alice, Platform: sandbox, ID: "A",
		State: event.StateConnecting, Registered: registered, Updated: old,
	})
	steps := []struct {
		state  event.State
		detail string
	}{
		{event.StateConnected, "online"},
		{event.StatePhoneOffline, "the phone has not been seen for 14 days"},
		{event.StateConnected, ""},
	}
	prev := old
	for _, st := range steps {
		must(t, s.SetAccountState(ctx(t), alice, sandbox, st.state, st.detail), "SetAccountState(%q)", st.state)
		got := byOwner(t, s, alice, sandbox)
		checkAccount(t, "after SetAccountState("+string(st.state)+")", got, store.Account{
			Owner: alice, Platform: sandbox, ID: "A",
			State: st.state, StateDetail: st.detail, Registered: registered,
		})
		if !got.Updated.After(old) || got.Updated.Before(prev) {
			t.Errorf("SetAccountState(%q): Updated = %v, want after %v and not before %v", st.state, got.Updated, old, prev)
		}
		prev = got.Updated
	}
	wantLinked(t, s, sandbox, "A", alice)

	// A missing record is reported, not created.
	wantNotFound(t, s.SetAccountState(ctx(t), bob, sandbox, event.StateConnected, ""), "SetAccountState(bob)")
	_, err := s.AccountByOwner(ctx(t), bob, sandbox)
	wantNotFound(t, err, "bob's record after SetAccountState")
}
