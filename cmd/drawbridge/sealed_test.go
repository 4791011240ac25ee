package main

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/sealed"
)

// TestSessionStateSealed: with store.encryption_key set, the sandbox's
// device token is stored sealed, and the adapter still reads it.
func TestSessionStateSealed(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, config.EncryptionKeySize))
	h := newStanzaHarness(t, func(c *config.Config) { c.Store.EncryptionKey = key })
	h.link("alice@example.test", "+15557654321")
	acct, err := h.a.gw.Account(t.Context(), "alice@example.test", "sandbox")
	if err != nil || acct.ID == "" {
		t.Fatalf("account: %+v %v", acct, err)
	}
	s, ok := h.a.store.(*sealed.Store)
	if !ok {
		t.Fatalf("store is a %T, not sealed", h.a.store)
	}
	raw, err := s.Store.GetKV(t.Context(), "sandbox", acct.ID, "device_token")
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.GetKV(t.Context(), "sandbox", acct.ID, "device_token")
	if err != nil || len(token) == 0 {
		t.Fatalf("sealed read: %q %v", token, err)
	}
	if !bytes.HasPrefix(raw, []byte("dbs1")) || bytes.Contains(raw, token) {
		t.Errorf("stored value is not sealed: %q", raw)
	}
}
