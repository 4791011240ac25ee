package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// PutContact implements store.Contacts. A zero c.Updated is stored as now.
func (s *Store) PutContact(ctx context.Context, owner ids.Owner, c store.Contact) error {
	if c.Updated.IsZero() {
		c.Updated = time.Now()
	}
	s.writes.Add(1)
	_, err := s.putContact.ExecContext(ctx, string(owner), string(c.Platform), string(c.User), c.Name, c.Subscribed, unixNano(c.Updated))
	if err != nil {
		return fmt.Errorf("sqlitestore: put contact %s of %s on %s: %w", c.User, owner, c.Platform, err)
	}
	return nil
}

// GetContact implements store.Contacts.
func (s *Store) GetContact(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (store.Contact, error) {
	err := ctx.Err()
	var c store.Contact
	if err == nil {
		c, err = scanContact(platform, s.getContact.QueryRowContext(shortContext(ctx),
			string(owner), string(platform), string(user)))
	}
	if err != nil {
		return store.Contact{}, fmt.Errorf("sqlitestore: contact %s of %s on %s: %w", user, owner, platform, err)
	}
	return c, nil
}

// ListContacts implements store.Contacts.
func (s *Store) ListContacts(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]store.Contact, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT user_id, name, subscribed, updated FROM drawbridge_contacts
		WHERE owner = ? AND platform = ? ORDER BY user_id`,
		string(owner), string(platform))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list contacts of %s on %s: %w", owner, platform, err)
	}
	defer rows.Close()
	var list []store.Contact
	for rows.Next() {
		c, err := scanContact(platform, rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list contacts of %s on %s: %w", owner, platform, err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list contacts of %s on %s: %w", owner, platform, err)
	}
	return list, nil
}

// scanContact reads user_id, name, subscribed, updated; no row is
// store.ErrNotFound.
func scanContact(platform ids.PlatformID, row scanner) (store.Contact, error) {
	var (
		user    string
		c       = store.Contact{Platform: platform}
		updated int64
	)
	err := row.Scan(&user, &c.Name, &c.Subscribed, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Contact{}, store.ErrNotFound
	}
	if err != nil {
		return store.Contact{}, err
	}
	c.User, c.Updated = ids.UserID(user), fromUnixNano(updated)
	return c, nil
}
