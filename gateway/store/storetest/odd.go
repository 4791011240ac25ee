package storetest

import (
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// oddStrings break naive key building: separators, hash-tag braces, escape
// characters, spaces and non-ASCII text.
var oddStrings = []string{
	"{", "}", "{}", "}{", "a:b", ":", "::", "a%3Ab", "%", "%7B", "%25",
	"with space", " lead", "tab\tnew\nline", "ünïcødé 例え 🙂", "a}b{c", `q"uote\`,
}

func testOddCharactersRoundTrip(t *testing.T, s store.Store) {
	for i, odd := range oddStrings {
		owner := ids.Owner(odd + "@example.org")
		platform := ids.PlatformID("p" + odd)
		id := ids.AccountID(odd + "id")
		user := ids.UserID(odd)
		chat := ids.ChatID(odd)
		what := fmt.Sprintf("odd string #%d %q", i, odd)

		put(t, s, store.Account{Owner: owner, Platform: platform, ID: id, StateDetail: odd})
		checkAccount(t, what+": AccountByOwner", byOwner(t, s, owner, platform),
			store.Account{Owner: owner, Platform: platform, ID: id, StateDetail: odd})
		wantLinked(t, s, platform, id, owner)

		must(t, s.PutContact(ctx(t), owner, store.Contact{Platform: platform, User: user, Name: odd}), "%s: PutContact", what)
		checkContact(t, what+": GetContact", getContact(t, s, owner, platform, user),
			store.Contact{Platform: platform, User: user, Name: odd})
		list, err := s.ListContacts(ctx(t), owner, platform)
		must(t, err, "%s: ListContacts", what)
		if len(list) != 1 || list[0].User != user {
			t.Errorf("%s: ListContacts = %+v, want only %q", what, list, user)
		}

		putMsg(t, s, owner, chat, odd, ids.MessageID(odd+"m"), 0)
		wantMsg(t, s, owner, chat, odd, ids.MessageID(odd+"m"))

		must(t, s.SetKV(ctx(t), platform, id, odd, []byte(odd)), "%s: SetKV", what)
		wantKV(t, s, platform, id, odd, []byte(odd))
	}

	list, err := s.ListAccounts(ctx(t))
	must(t, err, "ListAccounts")
	if len(list) != len(oddStrings) {
		t.Fatalf("ListAccounts returned %d records, want %d", len(list), len(oddStrings))
	}
	seen := make(map[ids.Owner]bool)
	for _, a := range list {
		seen[a.Owner] = true
	}
	for _, odd := range oddStrings {
		if !seen[ids.Owner(odd+"@example.org")] {
			t.Errorf("ListAccounts lacks owner %q", odd+"@example.org")
		}
	}

	for _, odd := range oddStrings {
		owner := ids.Owner(odd + "@example.org")
		must(t, s.DeleteAccount(ctx(t), owner, ids.PlatformID("p"+odd)), "DeleteAccount(%q)", owner)
		_, err := s.PlatformMessageID(ctx(t), owner, ids.ChatID(odd), odd)
		wantNotFound(t, err, fmt.Sprintf("message id of %q after DeleteAccount", owner))
		_, err = s.GetKV(ctx(t), ids.PlatformID("p"+odd), ids.AccountID(odd+"id"), odd)
		wantNotFound(t, err, fmt.Sprintf("KV of %q after DeleteAccount", owner))
	}
}

// testNoKeyCollisions stores records whose identifiers would map to the same
// key if a backend joined components with ':' or dropped braces, and checks
// that each one keeps its own value.
func testNoKeyCollisions(t *testing.T, s store.Store) {
	t.Run("accounts", func(t *testing.T) {
		owners := []ids.Owner{"a}b", "a%7Db", "a%7db", "{a}b", "a}:b", "a:}b"}
		for i, o := range owners {
			put(t, s, store.Account{Owner: o, Platform: "p", ID: ids.AccountID(fmt.Sprintf("id%d", i))})
		}
		for i, o := range owners {
			if a := byOwner(t, s, o, "p"); a.ID != ids.AccountID(fmt.Sprintf("id%d", i)) {
				t.Errorf("AccountByOwner(%q).ID = %q, want id%d", o, a.ID, i)
			}
		}
		// (platform, id) pairs that join to the same "p:x:y".
		put(t, s, store.Account{Owner: "x1", Platform: "p:x", ID: "y"})
		put(t, s, store.Account{Owner: "x2", Platform: "p", ID: "x:y"})
		wantLinked(t, s, "p:x", "y", "x1")
		wantLinked(t, s, "p", "x:y", "x2")
	})

	t.Run("contacts", func(t *testing.T) {
		pairs := []struct {
			owner    ids.Owner
			platform ids.PlatformID
		}{{"o}", "p:q"}, {"o}:p", "q"}, {"o", "}:p:q"}}
		for i, p := range pairs {
			must(t, s.PutContact(ctx(t), p.owner, store.Contact{Platform: p.platform, User: "u", Name: fmt.Sprint(i)}), "PutContact")
		}
		for i, p := range pairs {
			if c := getContact(t, s, p.owner, p.platform, "u"); c.Name != fmt.Sprint(i) {
				t.Errorf("GetContact(%q, %q).Name = %q, want %d", p.owner, p.platform, c.Name, i)
			}
		}
	})

	t.Run("message ids", func(t *testing.T) {
		// Naively joined as "<chat>:x:<xmpp id>", both are "a:x:b:x:c".
		putMsg(t, s, alice, "a:x:b", "c", "m1", 0)
		putMsg(t, s, alice, "a", "b:x:c", "m2", 0)
		wantMsg(t, s, alice, "a:x:b", "c", "m1")
		wantMsg(t, s, alice, "a", "b:x:c", "m2")
		// "<owner>}:<chat>" against "<owner>:<chat>".
		putMsg(t, s, "o}", "c", "x", "m3", 0)
		putMsg(t, s, "o", "}:c", "x", "m4", 0)
		wantPlatformID(t, s, "o}", "c", "x", "m3")
		wantPlatformID(t, s, "o", "}:c", "x", "m4")
	})

	t.Run("kv", func(t *testing.T) {
		entries := []struct {
			platform ids.PlatformID
			account  ids.AccountID
		}{{"p:x", "y"}, {"p", "x:y"}, {"p}", "{x"}, {"p", "}{x"}}
		for i, e := range entries {
			must(t, s.SetKV(ctx(t), e.platform, e.account, "k", []byte(fmt.Sprint(i))), "SetKV")
		}
		for i, e := range entries {
			wantKV(t, s, e.platform, e.account, "k", []byte(fmt.Sprint(i)))
		}
	})
}
