package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// PutContact implements store.Contacts. A zero c.Updated is stored as now.
func (s *Store) PutContact(ctx context.Context, owner ids.Owner, c store.Contact) error {
	if c.Updated.IsZero() {
		c.Updated = time.Now()
	}
	if err := s.write(ctx, "HSET", s.keys.contacts(owner, c.Platform), string(c.User), encodeContact(c)).Err(); err != nil {
		return fmt.Errorf("redisstore: put contact %s of %s on %s: %w", c.User, owner, c.Platform, err)
	}
	return nil
}

// GetContact implements store.Contacts.
func (s *Store) GetContact(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (store.Contact, error) {
	data, err := s.client.HGet(ctx, s.keys.contacts(owner, platform), string(user)).Result()
	if errors.Is(err, redis.Nil) {
		err = store.ErrNotFound
	}
	var c store.Contact
	if err == nil {
		c, err = decodeContact(platform, user, data)
	}
	if err != nil {
		return store.Contact{}, fmt.Errorf("redisstore: contact %s of %s on %s: %w", user, owner, platform, err)
	}
	return c, nil
}

// ListContacts implements store.Contacts.
func (s *Store) ListContacts(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]store.Contact, error) {
	all, err := s.client.HGetAll(ctx, s.keys.contacts(owner, platform)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list contacts of %s on %s: %w", owner, platform, err)
	}
	list := make([]store.Contact, 0, len(all))
	for user, data := range all {
		c, err := decodeContact(platform, ids.UserID(user), data)
		if err != nil {
			return nil, fmt.Errorf("redisstore: list contacts of %s on %s: %w", owner, platform, err)
		}
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b store.Contact) int { return strings.Compare(string(a.User), string(b.User)) })
	return list, nil
}
