package config

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// EncryptionKeySize is the size of store.encryption_key once decoded.
const EncryptionKeySize = 32

// EncryptionKeyBytes decodes store.encryption_key; nil, nil when it is
// unset (session state is then stored in clear).
func (s StoreConfig) EncryptionKeyBytes() ([]byte, error) {
	if s.EncryptionKey == "" {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(s.EncryptionKey)
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(key) != EncryptionKeySize {
		return nil, fmt.Errorf("must be %d bytes once decoded, got %d", EncryptionKeySize, len(key))
	}
	return key, nil
}

// validateEncryption checks the key without ever quoting it.
func (c Config) validateEncryption(p *problems) {
	if _, err := c.Store.EncryptionKeyBytes(); err != nil {
		p.add("store.encryption_key", "%v (generate one with: openssl rand -base64 32)", err)
	}
}
