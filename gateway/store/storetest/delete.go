package storetest

import (
	"bytes"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// fixture is one owner's account on one platform with a contact, a message
// id mapping and a KV entry.
type fixture struct {
	owner    ids.Owner
	platform ids.PlatformID
	id       ids.AccountID
	user     ids.UserID
	chat     ids.ChatID
	xmppID   string
	msgID    ids.MessageID
	kvValue  []byte
}

func (f fixture) create(t *testing.T, s store.Store) {
	t.Helper()
	put(t, s, store.Account{Owner: f.owner, Platform: f.platform, ID: f.id})
	must(t, s.PutContact(ctx(t), f.owner, store.Contact{Platform: f.platform, User: f.user, Name: "n"}), "PutContact")
	must(t, s.PutMessageID(ctx(t), f.owner, f.chat, f.xmppID, f.msgID, 0), "PutMessageID")
	must(t, s.SetKV(ctx(t), f.platform, f.id, "session", f.kvValue), "SetKV")
}

// check reports whether the fixture's records are all present (want true)
// or all gone (want false).
func (f fixture) check(t *testing.T, s store.Store, want bool, what string) {
	t.Helper()
	c := ctx(t)
	present := func(name string, err error) {
		t.Helper()
		switch {
		case want && err != nil:
			t.Errorf("%s: %s of %s/%s: %v, want present", what, name, f.owner, f.platform, err)
		case !want:
			wantNotFound(t, err, what+": "+name+" of "+string(f.owner)+"/"+string(f.platform))
		}
	}
	_, err := s.AccountByOwner(c, f.owner, f.platform)
	present("AccountByOwner", err)
	_, err = s.AccountByID(c, f.platform, f.id)
	present("AccountByID", err)
	_, err = s.GetContact(c, f.owner, f.platform, f.user)
	present("GetContact", err)
	_, err = s.PlatformMessageID(c, f.owner, f.chat, f.xmppID)
	present("PlatformMessageID", err)
	_, err = s.XMPPMessageID(c, f.owner, f.chat, f.msgID)
	present("XMPPMessageID", err)
	v, err := s.GetKV(c, f.platform, f.id, "session")
	present("GetKV", err)
	if want && err == nil && !bytes.Equal(v, f.kvValue) {
		t.Errorf("%s: GetKV of %s/%s = %q, want %q", what, f.owner, f.platform, v, f.kvValue)
	}
	list, err := s.ListContacts(c, f.owner, f.platform)
	must(t, err, "ListContacts")
	if got := len(list) > 0; got != want {
		t.Errorf("%s: ListContacts of %s/%s has %d contacts, want present=%v", what, f.owner, f.platform, len(list), want)
	}
}

func testDeleteAccountCascade(t *testing.T, s store.Store) {
	target := fixture{alice, sandbox, "A", "u1", "c1", "x1", "p1", []byte("alice sandbox")}
	// Same owner, other platform: its message ids go too (they are kept per
	// owner and chat, not per platform), everything else stays.
	sibling := fixture{alice, whatsapp, "B", "u1", "c2", "x2", "p2", []byte("alice whatsapp")}
	// Other owner, same platform, same chat and ids: untouched.
	other := fixture{bob, sandbox, "C", "u1", "c1", "x1", "p1", []byte("bob sandbox")}
	for _, f := range []fixture{target, sibling, other} {
		f.create(t, s)
	}

	must(t, s.DeleteAccount(ctx(t), alice, sandbox), "DeleteAccount")

	target.check(t, s, false, "deleted account")
	other.check(t, s, true, "other owner")
	_, err := s.AccountByOwner(ctx(t), alice, whatsapp)
	must(t, err, "sibling record after delete")
	wantLinked(t, s, whatsapp, "B", alice)
	if list, err := s.ListContacts(ctx(t), alice, whatsapp); err != nil || len(list) != 1 {
		t.Errorf("sibling contacts after delete: %d contacts, err %v; want 1", len(list), err)
	}
	if v, err := s.GetKV(ctx(t), whatsapp, "B", "session"); err != nil || !bytes.Equal(v, sibling.kvValue) {
		t.Errorf("sibling KV after delete = %q, %v; want %q", v, err, sibling.kvValue)
	}
	_, err = s.PlatformMessageID(ctx(t), alice, sibling.chat, sibling.xmppID)
	wantNotFound(t, err, "the owner's message ids on another platform")

	list, err := s.ListAccounts(ctx(t))
	must(t, err, "ListAccounts")
	for _, a := range list {
		if a.Owner == alice && a.Platform == sandbox {
			t.Errorf("ListAccounts still lists the deleted account")
		}
	}
	if len(list) != 2 {
		t.Errorf("ListAccounts has %d records after delete, want 2", len(list))
	}

	// The released account id can be linked by someone else.
	put(t, s, store.Account{Owner: carol, Platform: sandbox, ID: "A"})
	wantLinked(t, s, sandbox, "A", carol)
}

func testDeleteAccountIdempotent(t *testing.T, s store.Store) {
	f := fixture{alice, sandbox, "A", "u1", "c1", "x1", "p1", []byte("v")}
	f.create(t, s)
	for i := range 2 {
		must(t, s.DeleteAccount(ctx(t), alice, sandbox), "DeleteAccount #%d", i+1)
	}
	f.check(t, s, false, "deleted twice")
	must(t, s.DeleteAccount(ctx(t), bob, whatsapp), "DeleteAccount of a never registered owner")

	// An unlinked registration can be deleted too, and re-created.
	put(t, s, store.Account{Owner: bob, Platform: sandbox})
	must(t, s.DeleteAccount(ctx(t), bob, sandbox), "DeleteAccount of an unlinked account")
	_, err := s.AccountByOwner(ctx(t), bob, sandbox)
	wantNotFound(t, err, "deleted unlinked account")
	put(t, s, store.Account{Owner: bob, Platform: sandbox, ID: "A"})
	wantLinked(t, s, sandbox, "A", bob)
}
