package sqlitestore

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// GetKV implements store.KV.
func (s *Store) GetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string) ([]byte, error) {
	var v []byte
	err := ctx.Err()
	if err == nil {
		err = s.getKV.QueryRowContext(shortContext(ctx), string(platform), string(account), key).Scan(&v)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get %q of %s on %s: %w", key, account, platform, notFound(err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// SetKV implements store.KV.
func (s *Store) SetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string, value []byte) error {
	if value == nil {
		value = []byte{} // the column is NOT NULL
	}
	s.writes.Add(1)
	_, err := s.db.ExecContext(ctx, `
INSERT INTO drawbridge_kv (platform, account_id, key, value) VALUES (?, ?, ?, ?)
ON CONFLICT (platform, account_id, key) DO UPDATE SET value = excluded.value`,
		string(platform), string(account), key, value)
	if err != nil {
		return fmt.Errorf("sqlitestore: set %q of %s on %s: %w", key, account, platform, err)
	}
	return nil
}

// DeleteKV implements store.KV.
func (s *Store) DeleteKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string) error {
	s.writes.Add(1)
	_, err := s.db.ExecContext(ctx,
		`DELETE FROM drawbridge_kv WHERE platform = ? AND account_id = ? AND key = ?`,
		string(platform), string(account), key)
	if err != nil {
		return fmt.Errorf("sqlitestore: delete %q of %s on %s: %w", key, account, platform, err)
	}
	return nil
}
