package main

import (
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/sealed"
)

// sealStore wraps st so that the platforms' session state is encrypted at
// rest when store.encryption_key is set; it closes st on error.
func sealStore(st store.Store, cfg config.StoreConfig) (store.Store, error) {
	key, err := cfg.EncryptionKeyBytes()
	if err == nil && key == nil {
		return st, nil
	}
	var s *sealed.Store
	if err == nil {
		s, err = sealed.Wrap(st, key)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("store.encryption_key: %w", err)
	}
	return s, nil
}
