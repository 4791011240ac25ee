package redisstore

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// migrations are the changes of the key layout in order; migrations[i]
// takes it from version i+1 to version i+2. Version 1 is the layout of the
// package comment as it was when the schema key was introduced (data
// written before then has no schema key and is version 1). Append only.
var migrations []func(ctx context.Context, s *Store) error

// SchemaVersion is the newest key layout version this program knows: the
// one Migrate brings a store to.
func SchemaVersion() int { return 1 + len(migrations) }

// Migrate brings the store's key layout to SchemaVersion and records it in
// the schema key. It refuses (store.SchemaTooNewError) a store that a newer
// program has used. Open calls it; a Store made with New on a client is
// used as it is.
func (s *Store) Migrate(ctx context.Context) error {
	key := s.keys.schema()
	// A store without the key is either new or of version 1 (written
	// before the key existed); both are version 1 as far as the layout is
	// concerned.
	if err := s.client.SetNX(ctx, key, 1, 0).Err(); err != nil {
		return fmt.Errorf("redisstore: recording the schema version: %w", err)
	}
	version, err := s.client.Get(ctx, key).Int()
	if err != nil {
		return fmt.Errorf("redisstore: reading the schema version (%s): %w", key, err)
	}
	if version > SchemaVersion() {
		return &store.SchemaTooNewError{Store: "the Redis store (key " + key + ")", Found: version, Known: SchemaVersion()}
	}
	for v := version; v < SchemaVersion(); v++ {
		if err := migrations[v-1](ctx, s); err != nil {
			return fmt.Errorf("redisstore: migrating to schema version %d: %w", v+1, err)
		}
		if err := s.client.Set(ctx, key, v+1, 0).Err(); err != nil {
			return fmt.Errorf("redisstore: recording schema version %d: %w", v+1, err)
		}
	}
	return nil
}
