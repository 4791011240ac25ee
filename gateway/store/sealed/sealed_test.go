package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/sealed"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

var testKey = bytes.Repeat([]byte{7}, sealed.KeySize)

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance: the wrapped store still passes the backends' suite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sealed.Wrap(openSQLite(t), testKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSealed(t *testing.T) {
	ctx := context.Background()
	inner := openSQLite(t)
	s, err := sealed.Wrap(inner, testKey)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("device identity key: do not leak")
	if err := s.SetKV(ctx, "wa", "acct1", "device", secret); err != nil {
		t.Fatal(err)
	}
	raw, err := inner.GetKV(ctx, "wa", "acct1", "device")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, secret[:10]) {
		t.Fatalf("stored in clear: %q", raw)
	}
	if got, err := s.GetKV(ctx, "wa", "acct1", "device"); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("GetKV = %q, %v", got, err)
	}

	// The same value sealed twice differs (fresh nonces).
	if err := s.SetKV(ctx, "wa", "acct1", "device", secret); err != nil {
		t.Fatal(err)
	}
	raw2, err := inner.GetKV(ctx, "wa", "acct1", "device")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(raw, raw2) {
		t.Error("two seals of one value are identical")
	}

	for _, tc := range []struct {
		name    string
		corrupt func() error
		read    func() ([]byte, error)
	}{
		{"moved to another account", func() error { return inner.SetKV(ctx, "wa", "acct2", "device", raw) },
			func() ([]byte, error) { return s.GetKV(ctx, "wa", "acct2", "device") }},
		{"moved to another key", func() error { return inner.SetKV(ctx, "wa", "acct1", "other", raw) },
			func() ([]byte, error) { return s.GetKV(ctx, "wa", "acct1", "other") }},
		{"altered", func() error {
			bad := bytes.Clone(raw)
			bad[len(bad)-1] ^= 1
			return inner.SetKV(ctx, "wa", "acct1", "device", bad)
		}, func() ([]byte, error) { return s.GetKV(ctx, "wa", "acct1", "device") }},
		{"truncated", func() error { return inner.SetKV(ctx, "wa", "acct1", "device", []byte("dbs1short")) },
			func() ([]byte, error) { return s.GetKV(ctx, "wa", "acct1", "device") }},
	} {
		if err := tc.corrupt(); err != nil {
			t.Fatal(err)
		}
		if got, err := tc.read(); !errors.Is(err, sealed.ErrOpen) {
			t.Errorf("%s: GetKV = %q, %v; want ErrOpen", tc.name, got, err)
		}
	}

	// Another key does not open it.
	other, err := sealed.Wrap(inner, bytes.Repeat([]byte{8}, sealed.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetKV(ctx, "wa", "acct1", "device", secret); err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetKV(ctx, "wa", "acct1", "device"); !errors.Is(err, sealed.ErrOpen) {
		t.Errorf("opened with the wrong key: %v", err)
	}

	// A value written in clear before encryption was on is still read.
	if err := inner.SetKV(ctx, "wa", "acct3", "legacy", []byte("plain")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetKV(ctx, "wa", "acct3", "legacy"); err != nil || string(got) != "plain" {
		t.Errorf("legacy value: %q, %v", got, err)
	}
	// Missing keys keep the store's error.
	if _, err := s.GetKV(ctx, "wa", "acct9", "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
}

func TestWrapKeySize(t *testing.T) {
	if _, err := sealed.Wrap(nil, make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}
