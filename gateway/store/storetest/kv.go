package storetest

import (
	"bytes"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

func wantKV(t *testing.T, s store.Store, platform ids.PlatformID, account ids.AccountID, key string, want []byte) {
	t.Helper()
	got, err := s.GetKV(ctx(t), platform, account, key)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("GetKV(%q, %q, %q) = %q, %v; want %q", platform, account, key, got, err, want)
	}
}

func testKVRoundTrip(t *testing.T, s store.Store) {
	_, err := s.GetKV(ctx(t), sandbox, "A", "k")
	wantNotFound(t, err, "GetKV of a missing key")

	values := []struct {
		name  string
		value []byte
	}{
		{"text", []byte("hello")},
		{"overwrite", []byte("world")},
		{"binary", []byte{0, 1, 0xfe, 0xff, '\n', 0}},
		{"empty", []byte{}},
	}
	for _, v := range values {
		must(t, s.SetKV(ctx(t), sandbox, "A", "k", v.value), "SetKV %s", v.name)
		got, err := s.GetKV(ctx(t), sandbox, "A", "k")
		if err != nil || !bytes.Equal(got, v.value) {
			t.Errorf("%s: GetKV = %q, %v; want %q", v.name, got, err, v.value)
		}
	}

	must(t, s.DeleteKV(ctx(t), sandbox, "A", "k"), "DeleteKV")
	_, err = s.GetKV(ctx(t), sandbox, "A", "k")
	wantNotFound(t, err, "GetKV after DeleteKV")
	must(t, s.DeleteKV(ctx(t), sandbox, "A", "k"), "DeleteKV of a missing key")
}

func testKVScope(t *testing.T, s store.Store) {
	entries := []struct {
		platform ids.PlatformID
		account  ids.AccountID
		key      string
	}{
		{sandbox, "A", "k"},
		{whatsapp, "A", "k"},
		{sandbox, "B", "k"},
		{sandbox, "A", "k2"},
	}
	value := func(i int) []byte { return []byte{'v', byte('0' + i)} }
	for i, e := range entries {
		must(t, s.SetKV(ctx(t), e.platform, e.account, e.key, value(i)), "SetKV")
	}
	for i, e := range entries {
		wantKV(t, s, e.platform, e.account, e.key, value(i))
	}

	// Deleting one entry leaves the others.
	must(t, s.DeleteKV(ctx(t), sandbox, "A", "k"), "DeleteKV")
	_, err := s.GetKV(ctx(t), sandbox, "A", "k")
	wantNotFound(t, err, "deleted entry")
	for i, e := range entries[1:] {
		wantKV(t, s, e.platform, e.account, e.key, value(i+1))
	}
}
