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
	pair := [1]store.MessageIDPair{{Owner: owner, Chat: chat, XMPPID: xmppID, PlatformID: platformID, TTL: ttl}}
	if err := s.putMessageIDs(ctx, pair[:]); err != nil {
		return fmt.Errorf("sqlitestore: put message id %s ↔ %s of %s in %s: %w", xmppID, platformID, owner, chat, err)
	}
	return nil
}

// PutMessageIDs implements store.MessageIDs: every pair, both directions,
// in one transaction with the prepared statements, which also prunes
// expired rows if the last prune is older than pruneInterval.
func (s *Store) PutMessageIDs(ctx context.Context, pairs []store.MessageIDPair) error {
	if len(pairs) == 0 {
		return nil
	}
	if err := s.putMessageIDs(ctx, pairs); err != nil {
		return fmt.Errorf("sqlitestore: put %d message ids: %w", len(pairs), err)
	}
	return nil
}

// putMessageIDs is PutMessageIDs without the error's context; in a batch of
// more than one, an error names the pair that failed.
func (s *Store) putMessageIDs(ctx context.Context, pairs []store.MessageIDPair) error {
	now := time.Now()
	prune := now.UnixNano()-s.lastPrune.Load() >= int64(pruneInterval)
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.putPairsTx(ctx, tx, now, prune, pairs) })
	if err != nil {
		return err
	}
	if prune {
		s.lastPrune.Store(now.UnixNano())
	}
	return nil
}

// putPairsTx writes pairs in tx, and prunes expired rows if prune is set.
func (s *Store) putPairsTx(ctx context.Context, tx *sql.Tx, now time.Time, prune bool, pairs []store.MessageIDPair) error {
	byXMPP := tx.StmtContext(ctx, s.putByXMPP)
	byPlatform := tx.StmtContext(ctx, s.putByPlatform)
	stmtCtx := shortContext(ctx)
	for _, p := range pairs {
		if err := ctx.Err(); err != nil {
			return err
		}
		ttl := p.TTL
		if ttl <= 0 {
			ttl = store.DefaultMessageIDTTL
		}
		expires := expiry(now, ttl)
		_, err := byXMPP.ExecContext(stmtCtx, string(p.Owner), string(p.Chat), p.XMPPID, string(p.PlatformID), expires)
		if err == nil {
			_, err = byPlatform.ExecContext(stmtCtx, string(p.Owner), string(p.Chat), string(p.PlatformID), p.XMPPID, expires)
		}
		if err != nil && len(pairs) > 1 {
			return fmt.Errorf("%s ↔ %s of %s in %s: %w", p.XMPPID, p.PlatformID, p.Owner, p.Chat, err)
		}
		if err != nil {
			return err
		}
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
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sqlitestore: platform id of message %s of %s in %s: %w", xmppID, owner, chat, err)
	}
	var v string
	err := s.platformMessageID.QueryRowContext(shortContext(ctx),
		string(owner), string(chat), xmppID, time.Now().UnixNano()).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("sqlitestore: platform id of message %s of %s in %s: %w", xmppID, owner, chat, notFound(err))
	}
	return ids.MessageID(v), nil
}

// XMPPMessageID implements store.MessageIDs.
func (s *Store) XMPPMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, platformID ids.MessageID) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sqlitestore: XMPP id of message %s of %s in %s: %w", platformID, owner, chat, err)
	}
	var v string
	err := s.xmppMessageID.QueryRowContext(shortContext(ctx),
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
