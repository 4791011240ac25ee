package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

const accountColumns = `owner, platform, account_id, state, state_detail, registered, updated`

// PutAccount implements store.Accounts. It is one statement: the unique
// index on (platform, account_id) refuses an id linked to another owner.
// A zero Registered keeps the existing one (now for a new record); a zero
// Updated is stored as now.
func (s *Store) PutAccount(ctx context.Context, a store.Account) error {
	now := time.Now()
	registered, updated := a.Registered, a.Updated
	if registered.IsZero() {
		registered = now
	}
	if updated.IsZero() {
		updated = now
	}
	s.writes.Add(1)
	_, err := s.db.ExecContext(ctx, `
INSERT INTO drawbridge_accounts (`+accountColumns+`) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (owner, platform) DO UPDATE SET
	account_id   = excluded.account_id,
	state        = excluded.state,
	state_detail = excluded.state_detail,
	registered   = CASE WHEN ?8 THEN excluded.registered ELSE drawbridge_accounts.registered END,
	updated      = excluded.updated`,
		string(a.Owner), string(a.Platform), string(a.ID), string(a.State), a.StateDetail,
		unixNano(registered), unixNano(updated), !a.Registered.IsZero())
	if isUniqueViolation(err) {
		err = store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: put account of %s on %s: %w", a.Owner, a.Platform, err)
	}
	return nil
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint error.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// AccountByOwner implements store.Accounts.
func (s *Store) AccountByOwner(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (store.Account, error) {
	err := ctx.Err()
	var a store.Account
	if err == nil {
		a, err = scanAccount(s.accountByOwner.QueryRowContext(shortContext(ctx), string(owner), string(platform)))
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlitestore: account of %s on %s: %w", owner, platform, err)
	}
	return a, nil
}

// AccountByID implements store.Accounts.
func (s *Store) AccountByID(ctx context.Context, platform ids.PlatformID, id ids.AccountID) (store.Account, error) {
	err := ctx.Err()
	var a store.Account
	if err == nil {
		a, err = scanAccount(s.accountByID.QueryRowContext(shortContext(ctx), string(platform), string(id)))
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlitestore: account %s on %s: %w", id, platform, err)
	}
	return a, nil
}

// ListAccounts implements store.Accounts. SQLite compares TEXT byte-wise,
// as Go compares strings.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+accountColumns+` FROM drawbridge_accounts ORDER BY owner, platform`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list accounts: %w", err)
	}
	defer rows.Close()
	var list []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list accounts: %w", err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list accounts: %w", err)
	}
	return list, nil
}

// SetAccountState implements store.Accounts.
func (s *Store) SetAccountState(ctx context.Context, owner ids.Owner, platform ids.PlatformID, state event.State, detail string) error {
	s.writes.Add(1)
	res, err := s.setAccountState.ExecContext(ctx,
		string(state), detail, time.Now().UnixNano(), string(owner), string(platform))
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: set state of %s on %s: %w", owner, platform, err)
	}
	return nil
}

// DeleteAccount implements store.Accounts: the record, its key-value data,
// the owner's contacts on platform and all the owner's message ids (they
// are kept per owner and chat, not per platform) go in one transaction.
func (s *Store) DeleteAccount(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx,
			`DELETE FROM drawbridge_accounts WHERE owner = ? AND platform = ? RETURNING account_id`,
			string(owner), string(platform)).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if id != "" {
			if _, err := tx.ExecContext(ctx,
				`DELETE FROM drawbridge_kv WHERE platform = ? AND account_id = ?`, string(platform), id); err != nil {
				return err
			}
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM drawbridge_contacts WHERE owner = ? AND platform = ?`, []any{string(owner), string(platform)}},
			{`DELETE FROM drawbridge_message_ids_by_xmpp WHERE owner = ?`, []any{string(owner)}},
			{`DELETE FROM drawbridge_message_ids_by_platform WHERE owner = ?`, []any{string(owner)}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: delete account of %s on %s: %w", owner, platform, err)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanAccount reads the accountColumns; no row is store.ErrNotFound.
func scanAccount(row scanner) (store.Account, error) {
	var (
		a                   store.Account
		owner, platform, id string
		state               string
		registered, updated int64
	)
	err := row.Scan(&owner, &platform, &id, &state, &a.StateDetail, &registered, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, err
	}
	a.Owner, a.Platform, a.ID, a.State = ids.Owner(owner), ids.PlatformID(platform), ids.AccountID(id), event.State(state)
	a.Registered, a.Updated = fromUnixNano(registered), fromUnixNano(updated)
	return a, nil
}
