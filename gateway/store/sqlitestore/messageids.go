package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// PutMessageID implements store.MessageIDs: both directions in one
// transaction, which also prunes expired rows if the last prune is older
// than pruneInterval.
func (s *Store) PutMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string, platformID ids.MessageID, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = store.DefaultMessageIDTTL
	}
	now := time.Now()
	expires := expiry(now, ttl)
	prune := now.UnixNano()-s.lastPrune.Load() >= int64(pruneInterval)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
INSERT INTO drawbridge_message_ids_by_xmpp (owner, chat, xmpp_id, platform_id, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (owner, chat, xmpp_id) DO UPDATE SET platform_id = excluded.platform_id, expires_at = excluded.expires_at`,
			string(owner), string(chat), xmppID, string(platformID), expires); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
INSERT INTO drawbridge_message_ids_by_platform (owner, chat, platform_id, xmpp_id, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (owner, chat, platform_id) DO UPDATE SET xmpp_id = excluded.xmpp_id, expires_at = excluded.expires_at`,
			string(owner), string(chat), string(platformID), xmppID, expires); err != nil {
			return err
		}
		if !prune {
			return nil
		}
		for _, table := range []string{"drawbridge_message_ids_by_xmpp", "drawbridge_message_ids_by_platform"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at <= ?`, now.UnixNano()); err != nil {
				return fmt.Errorf("pruning %s: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: put message id %s ↔ %s of %s in %s: %w", xmppID, platformID, owner, chat, err)
	}
	if prune {
		s.lastPrune.Store(now.UnixNano())
	}
	return nil
}

// expiry is now+ttl in Unix nanoseconds, saturating instead of overflowing.
func expiry(now time.Time, ttl time.Duration) int64 {
	n := now.UnixNano()
	if int64(ttl) > math.MaxInt64-n {
		return math.MaxInt64
	}
	return n + int64(ttl)
}

// PlatformMessageID implements store.MessageIDs.
func (s *Store) PlatformMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string) (ids.MessageID, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT platform_id FROM drawbridge_message_ids_by_xmpp
		WHERE owner = ? AND chat = ? AND xmpp_id = ? AND expires_at > ?`,
		string(owner), string(chat), xmppID, time.Now().UnixNano()).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("sqlitestore: platform id of message %s of %s in %s: %w", xmppID, owner, chat, notFound(err))
	}
	return ids.MessageID(v), nil
}

// XMPPMessageID implements store.MessageIDs.
func (s *Store) XMPPMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, platformID ids.MessageID) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT xmpp_id FROM drawbridge_message_ids_by_platform
		WHERE owner = ? AND chat = ? AND platform_id = ? AND expires_at > ?`,
		string(owner), string(chat), string(platformID), time.Now().UnixNano()).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("sqlitestore: XMPP id of message %s of %s in %s: %w", platformID, owner, chat, notFound(err))
	}
	return v, nil
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
