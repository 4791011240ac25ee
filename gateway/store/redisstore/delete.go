package redisstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// delBatch is how many keys one DEL command removes.
const delBatch = 512

// DeleteAccount implements store.Accounts. See the package comment for the
// order of its steps.
func (s *Store) DeleteAccount(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error {
	err := retry(ctx, func() error { return s.deleteAccount(ctx, owner, platform) })
	if err != nil {
		return fmt.Errorf("redisstore: delete account of %s on %s: %w", owner, platform, err)
	}
	return nil
}

func (s *Store) deleteAccount(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error {
	key := s.keys.accounts(owner)
	index := s.keys.midIndex(owner)
	// Cross-slot steps first, outside the WATCH (see putAccount).
	oldData, found, err := s.readRecord(ctx, s.client, key, platform)
	if err != nil {
		return err
	}
	var released claimRef
	if found {
		old, _, err := decodeAccount(owner, platform, oldData)
		if err != nil {
			return err
		}
		if old.ID != "" {
			if err := s.write(ctx, "DEL", s.keys.kv(platform, old.ID)).Err(); err != nil {
				return fmt.Errorf("deleting the key-value data: %w", err)
			}
			if released, err = s.claimToken(ctx, platform, old.ID, owner); err != nil {
				return err
			}
		}
	}

	// A fenced store also watches the lease and checks its token: the
	// transaction then writes only while the lease is the store's.
	fence := s.fence.Load()
	watched := []string{key, index}
	if fence != nil {
		watched = append(watched, fence.Key)
	}
	err = s.client.Watch(ctx, func(tx *redis.Tx) error {
		if err := checkFenceTx(ctx, tx, fence); err != nil {
			return s.refused(err)
		}
		cur, curFound, err := s.readRecord(ctx, tx, key, platform)
		if err != nil {
			return err
		}
		if cur != oldData || curFound != found {
			return redis.TxFailedErr
		}
		suffixes, err := tx.ZRange(ctx, index, 0, -1).Result()
		if err != nil {
			return fmt.Errorf("reading the message id index: %w", err)
		}
		base := s.keys.midBase(owner)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HDel(ctx, key, string(platform))
			p.Del(ctx, s.keys.contacts(owner, platform), index)
			for batch := range slices.Chunk(suffixes, delBatch) {
				mids := make([]string, len(batch))
				for i, suffix := range batch {
					mids[i] = base + suffix
				}
				p.Del(ctx, mids...)
			}
			return nil
		})
		return err
	}, watched...)
	if err != nil {
		return err
	}
	if err := s.release(ctx, released); err != nil {
		return err
	}
	if err := s.forgetOwnerIfEmpty(ctx, owner); err != nil {
		return err
	}
	// An owner with no record left keeps no empty queue either; one that
	// still holds items goes with the last Ack.
	if err := s.ack(ctx, owner, nil); err != nil {
		return fmt.Errorf("forgetting the empty queue: %w", err)
	}
	return nil
}

// forgetOwnerIfEmpty removes owner from the owners set if they have no
// record left. A PutAccount that writes a record meanwhile adds the owner
// back after its write; the second look here covers one that wrote before
// the SREM and added before it too.
func (s *Store) forgetOwnerIfEmpty(ctx context.Context, owner ids.Owner) error {
	key := s.keys.accounts(owner)
	n, err := s.client.HLen(ctx, key).Result()
	if err != nil || n > 0 {
		return wrapOwnersErr(err)
	}
	if err := s.write(ctx, "SREM", s.keys.owners(), string(owner)).Err(); err != nil {
		return wrapOwnersErr(err)
	}
	if n, err = s.client.HLen(ctx, key).Result(); err != nil || n == 0 {
		return wrapOwnersErr(err)
	}
	return wrapOwnersErr(s.write(ctx, "SADD", s.keys.owners(), string(owner)).Err())
}

func wrapOwnersErr(err error) error {
	if err != nil {
		return fmt.Errorf("updating the owners index: %w", err)
	}
	return nil
}
