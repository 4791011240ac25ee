package redisstore

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// hashTag returns the part of key that Redis Cluster hashes: the text
// between the first '{' and the first '}' after it, if that is not empty;
// otherwise the whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

func TestKeys(t *testing.T) {
	k := newKeys(DefaultKeyPrefix)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"owners", k.owners(), "drawbridge:owners"},
		{"accounts", k.accounts("alice@example.org"), "drawbridge:acct:{alice@example.org}"},
		{"contacts", k.contacts("alice@example.org", "sandbox"), "drawbridge:contacts:{alice@example.org}:sandbox"},
		{"mid by xmpp", k.midBase("alice@example.org") + midByXMPPSuffix("+4412", "abc-1"), "drawbridge:mid:{alice@example.org}:+4412:x:abc-1"},
		{"mid by platform", k.midBase("alice@example.org") + midByPlatformSuffix("+4412", "3EB0"), "drawbridge:mid:{alice@example.org}:+4412:p:3EB0"},
		{"mid index", k.midIndex("alice@example.org"), "drawbridge:mids:{alice@example.org}"},
		{"account id", k.accountID("sandbox", "+4411"), "drawbridge:acctid:{sandbox:+4411}"},
		{"kv", k.kv("sandbox", "+4411"), "drawbridge:kv:{sandbox:+4411}"},
		{"escaped owner", k.accounts("a{b}:c%d"), "drawbridge:acct:{a%7Bb%7D%3Ac%25d}"},
		{"escaped account", k.kv("p:q", "}{"), "drawbridge:kv:{p%3Aq:%7D%7B}"},
		{"escaped mid", k.midBase("o") + midByXMPPSuffix("a:x:b", "c"), "drawbridge:mid:{o}:a%3Ax%3Ab:x:c"},
		{"braces in prefix", newKeys("gw{1}:").owners(), "gw%7B1%7D:owners"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: key %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// TestOwnerKeysShareSlot checks that every key of an owner hashes on the
// escaped owner alone, whatever the identifiers contain.
func TestOwnerKeysShareSlot(t *testing.T) {
	odd := []string{"alice@example.org", "{", "}", "a}b{c", "x:y", "%7D", "", "例え {x}"}
	for _, prefix := range []string{DefaultKeyPrefix, "", "a{b}c:"} {
		k := newKeys(prefix)
		for _, o := range odd {
			owner := ids.Owner(o)
			want := esc(owner)
			for _, s := range odd {
				for _, key := range []string{
					k.accounts(owner),
					k.contacts(owner, ids.PlatformID(s)),
					k.midBase(owner) + midByXMPPSuffix(ids.ChatID(s), s),
					k.midBase(owner) + midByPlatformSuffix(ids.ChatID(s), ids.MessageID(s)),
					k.midIndex(owner),
				} {
					if o != "" && hashTag(key) != want {
						t.Errorf("prefix %q: key %q hashes on %q, want %q", prefix, key, hashTag(key), want)
					}
				}
				if got, want := hashTag(k.kv(ids.PlatformID(o), ids.AccountID(s))), hashTag(k.accountID(ids.PlatformID(o), ids.AccountID(s))); got != want {
					t.Errorf("prefix %q: kv and reverse index of (%q, %q) hash on %q and %q", prefix, o, s, got, want)
				}
			}
		}
	}
}

func TestEscapeIsInjective(t *testing.T) {
	inputs := []string{"", "%", "%25", "%2525", ":", "%3A", "%3a", "{", "%7B", "}", "%7D", "a:b", "a%3Ab", "a{b", "a%7Bb"}
	seen := make(map[string]string)
	for _, in := range inputs {
		out := esc(in)
		if strings.ContainsAny(out, ":{}") {
			t.Errorf("esc(%q) = %q keeps a separator or brace", in, out)
		}
		if prev, ok := seen[out]; ok {
			t.Errorf("esc(%q) = esc(%q) = %q", in, prev, out)
		}
		seen[out] = in
	}
}
