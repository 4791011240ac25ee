// Package sealed encrypts the adapters' per-account key-value space (the
// platform session state: device keys, tokens) at rest. It wraps any
// store.Store; everything but the KV values passes through unchanged.
//
// Values are sealed with AES-256-GCM under a key from the configuration
// (store.encryption_key). Each value gets a fresh random nonce, and the
// platform, account and key name are authenticated with it, so a sealed
// value copied to another account's or key's slot does not open.
//
// Values written before encryption was turned on (without the sealed
// prefix) are still read as they are and sealed when next written, so that
// encryption can be turned on for an existing deployment. Turning it off
// again needs the values re-written in clear, which this package does not
// do.
package sealed

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// KeySize is the length of the key in bytes (AES-256).
const KeySize = 32

// prefix starts every sealed value; it names the format's version.
var prefix = []byte("dbs1")

// ErrOpen means a sealed value did not open: the wrong key, or a value
// altered or moved to another slot.
var ErrOpen = errors.New("sealed: value does not open with this key (wrong key, or altered)")

// Store is a store.Store whose KV values are sealed.
type Store struct {
	store.Store
	aead cipher.AEAD
}

// Wrap returns s with its KV values sealed under key (KeySize bytes).
func Wrap(s store.Store, key []byte) (*Store, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealed: the key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return &Store{Store: s, aead: aead}, nil
}

// additional is the authenticated data binding a value to its slot.
func additional(platform ids.PlatformID, account ids.AccountID, key string) []byte {
	var b bytes.Buffer
	for _, part := range []string{"drawbridge kv", string(platform), string(account), key} {
		fmt.Fprintf(&b, "%d:%s", len(part), part)
	}
	return b.Bytes()
}

// SetKV seals value and stores it.
func (s *Store) SetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string, value []byte) error {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(value)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("sealed: nonce: %w", err)
	}
	out := append(bytes.Clone(prefix), s.aead.Seal(nonce, nonce, value, additional(platform, account, key))...)
	return s.Store.SetKV(ctx, platform, account, key, out)
}

// GetKV reads and opens a value. A value without the sealed prefix is
// returned as stored (see the package comment).
func (s *Store) GetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string) ([]byte, error) {
	raw, err := s.Store.GetKV(ctx, platform, account, key)
	if err != nil {
		return nil, err
	}
	body, ok := bytes.CutPrefix(raw, prefix)
	if !ok {
		return raw, nil
	}
	n := s.aead.NonceSize()
	if len(body) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%s/%s/%s: %w", platform, account, key, ErrOpen)
	}
	value, err := s.aead.Open(nil, body[:n], body[n:], additional(platform, account, key))
	if err != nil {
		return nil, fmt.Errorf("%s/%s/%s: %w", platform, account, key, ErrOpen)
	}
	return value, nil
}

var _ store.Batcher = (*Store)(nil)

// WriteBatch implements store.Batcher by the wrapped store's (nothing in a
// batch is sealed: only KV values are); store.ErrNoBatch if it has none.
func (s *Store) WriteBatch(ctx context.Context, b store.Batch) ([]string, error) {
	if bs, ok := s.Store.(store.Batcher); ok {
		return bs.WriteBatch(ctx, b)
	}
	return nil, store.ErrNoBatch
}
