package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// GetKV implements store.KV.
func (s *Store) GetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string) ([]byte, error) {
	v, err := s.client.HGet(ctx, s.keys.kv(platform, account), key).Bytes()
	if errors.Is(err, redis.Nil) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %q of %s on %s: %w", key, account, platform, err)
	}
	return v, nil
}

// SetKV implements store.KV.
func (s *Store) SetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string, value []byte) error {
	if err := s.write(ctx, "HSET", s.keys.kv(platform, account), key, value).Err(); err != nil {
		return fmt.Errorf("redisstore: set %q of %s on %s: %w", key, account, platform, err)
	}
	return nil
}

// DeleteKV implements store.KV.
func (s *Store) DeleteKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string) error {
	if err := s.write(ctx, "HDEL", s.keys.kv(platform, account), key).Err(); err != nil {
		return fmt.Errorf("redisstore: delete %q of %s on %s: %w", key, account, platform, err)
	}
	return nil
}
