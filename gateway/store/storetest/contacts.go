package storetest

import (
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

func checkContact(t *testing.T, what string, got, want store.Contact) {
	t.Helper()
	if got.Platform != want.Platform || got.User != want.User || got.Name != want.Name || got.Subscribed != want.Subscribed {
		t.Errorf("%s: got {%q %q %q %v}, want {%q %q %q %v}", what,
			got.Platform, got.User, got.Name, got.Subscribed,
			want.Platform, want.User, want.Name, want.Subscribed)
	}
	if !want.Updated.IsZero() && !got.Updated.Equal(want.Updated) {
		t.Errorf("%s: Updated = %v, want %v", what, got.Updated, want.Updated)
	}
}

func getContact(t *testing.T, s store.Store, owner ids.Owner, platform ids.PlatformID, user ids.UserID) store.Contact {
	t.Helper()
	c, err := s.GetContact(ctx(t), owner, platform, user)
	must(t, err, "GetContact(%q, %q, %q)", owner, platform, user)
	return c
}

func testContactRoundTrip(t *testing.T, s store.Store) {
	updated := time.Date(2025, 6, 7, 8, 9, 10, 11_000_000, time.UTC)
	versions := []store.Contact{
		{Platform: sandbox, User: "+4412", Name: "Juliet", Subscribed: false, Updated: updated},
		{Platform: sandbox, User: "+4412", Name: "Juliet Capulet", Subscribed: true, Updated: updated.Add(time.Hour)},
		{Platform: sandbox, User: "+4412", Name: "", Subscribed: false, Updated: updated.Add(2 * time.Hour)},
	}
	for i, c := range versions {
		must(t, s.PutContact(ctx(t), alice, c), "PutContact #%d", i)
		checkContact(t, "after PutContact", getContact(t, s, alice, sandbox, "+4412"), c)
	}

	// A contact stored without Updated gets the current time.
	must(t, s.PutContact(ctx(t), alice, store.Contact{Platform: sandbox, User: "+4413", Name: "Romeo"}), "PutContact")
	if c := getContact(t, s, alice, sandbox, "+4413"); !recently(c.Updated) {
		t.Errorf("contact stored without Updated: Updated = %v, want about now", c.Updated)
	}
}

func testContactNotFound(t *testing.T, s store.Store) {
	must(t, s.PutContact(ctx(t), alice, store.Contact{Platform: sandbox, User: "u1", Name: "n"}), "PutContact")
	tests := []struct {
		name     string
		owner    ids.Owner
		platform ids.PlatformID
		user     ids.UserID
	}{
		{"unknown user", alice, sandbox, "u2"},
		{"other platform", alice, whatsapp, "u1"},
		{"other owner", bob, sandbox, "u1"},
	}
	for _, tc := range tests {
		_, err := s.GetContact(ctx(t), tc.owner, tc.platform, tc.user)
		wantNotFound(t, err, "GetContact: "+tc.name)
	}
}

func testListContactsOrderAndScope(t *testing.T, s store.Store) {
	list, err := s.ListContacts(ctx(t), alice, sandbox)
	must(t, err, "ListContacts with no contacts")
	if len(list) != 0 {
		t.Errorf("ListContacts with no contacts returned %d", len(list))
	}

	for _, u := range []ids.UserID{"zed", "amy", "Bob", "m:x", "amy2"} {
		must(t, s.PutContact(ctx(t), alice, store.Contact{Platform: sandbox, User: u, Name: "name of " + string(u)}), "PutContact")
	}
	// Out of scope: other platform, other owner.
	must(t, s.PutContact(ctx(t), alice, store.Contact{Platform: whatsapp, User: "aaa"}), "PutContact")
	must(t, s.PutContact(ctx(t), bob, store.Contact{Platform: sandbox, User: "aab"}), "PutContact")

	// Ordered by User, byte-wise.
	want := []ids.UserID{"Bob", "amy", "amy2", "m:x", "zed"}
	list, err = s.ListContacts(ctx(t), alice, sandbox)
	must(t, err, "ListContacts")
	if len(list) != len(want) {
		t.Fatalf("ListContacts returned %d contacts, want %d: %+v", len(list), len(want), list)
	}
	for i, u := range want {
		checkContact(t, "ListContacts", list[i], store.Contact{Platform: sandbox, User: u, Name: "name of " + string(u)})
	}

	for _, tc := range []struct {
		owner    ids.Owner
		platform ids.PlatformID
		want     ids.UserID
	}{
		{alice, whatsapp, "aaa"},
		{bob, sandbox, "aab"},
	} {
		list, err := s.ListContacts(ctx(t), tc.owner, tc.platform)
		must(t, err, "ListContacts")
		if len(list) != 1 || list[0].User != tc.want {
			t.Errorf("ListContacts(%q, %q) = %+v, want only %q", tc.owner, tc.platform, list, tc.want)
		}
	}
}
