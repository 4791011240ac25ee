package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// indexSlack keeps entries of the message id index, and the index itself, a
// little longer than the keys they name, so that clock skew between
// gateway instances and Redis never drops an entry whose key still exists.
const indexSlack = time.Minute

// PutMessageID implements store.MessageIDs. Both keys and their index
// entries are written in one MULTI/EXEC.
func (s *Store) PutMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string, platformID ids.MessageID, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = store.DefaultMessageIDTTL
	}
	ttl = max(ttl, time.Millisecond)
	base := s.keys.midBase(owner)
	index := s.keys.midIndex(owner)
	xSuffix, pSuffix := midByXMPPSuffix(chat, xmppID), midByPlatformSuffix(chat, platformID)
	now := time.Now()
	expires := float64(now.Add(ttl).UnixMilli())
	indexExpiry := now.Add(ttl + indexSlack).UnixMilli()
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, base+xSuffix, string(platformID), ttl)
		p.Set(ctx, base+pSuffix, xmppID, ttl)
		p.ZAdd(ctx, index, redis.Z{Score: expires, Member: xSuffix}, redis.Z{Score: expires, Member: pSuffix})
		p.ZRemRangeByScore(ctx, index, "-inf", "("+strconv.FormatInt(now.Add(-indexSlack).UnixMilli(), 10))
		// The index lives as long as its longest-lived entry: NX gives a
		// fresh index an expiry, GT only ever extends it.
		p.Do(ctx, "PEXPIREAT", index, indexExpiry, "NX")
		p.Do(ctx, "PEXPIREAT", index, indexExpiry, "GT")
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: put message id %s ↔ %s of %s in %s: %w", xmppID, platformID, owner, chat, err)
	}
	return nil
}

// PlatformMessageID implements store.MessageIDs.
func (s *Store) PlatformMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string) (ids.MessageID, error) {
	v, err := s.get(ctx, s.keys.midBase(owner)+midByXMPPSuffix(chat, xmppID))
	if err != nil {
		return "", fmt.Errorf("redisstore: platform id of message %s of %s in %s: %w", xmppID, owner, chat, err)
	}
	return ids.MessageID(v), nil
}

// XMPPMessageID implements store.MessageIDs.
func (s *Store) XMPPMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, platformID ids.MessageID) (string, error) {
	v, err := s.get(ctx, s.keys.midBase(owner)+midByPlatformSuffix(chat, platformID))
	if err != nil {
		return "", fmt.Errorf("redisstore: XMPP id of message %s of %s in %s: %w", platformID, owner, chat, err)
	}
	return v, nil
}

// get reads a string key, mapping a missing key to store.ErrNotFound.
func (s *Store) get(ctx context.Context, key string) (string, error) {
	v, err := s.client.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", store.ErrNotFound
	}
	return v, err
}
