package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Enqueue implements store.Queues: one row of drawbridge_queue, whose
// autoincrement id, in decimal, is the sequence.
func (s *Store) Enqueue(ctx context.Context, owner ids.Owner, item []byte) (string, error) {
	if item == nil {
		item = []byte{} // the column is NOT NULL
	}
	s.writes.Add(1)
	res, err := s.enqueue.ExecContext(ctx, string(owner), item, time.Now().UnixNano())
	if err != nil {
		return "", fmt.Errorf("sqlitestore: enqueue for %s: %w", owner, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return "", fmt.Errorf("sqlitestore: enqueue for %s: %w", owner, err)
	}
	return strconv.FormatInt(id, 10), nil
}

// EnqueueAll implements store.Queues: one transaction.
func (s *Store) EnqueueAll(ctx context.Context, items []store.QueueAppend) ([]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	seqs := make([]string, 0, len(items))
	now := time.Now().UnixNano()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		enqueue := tx.StmtContext(ctx, s.enqueue)
		stmtCtx := shortContext(ctx)
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return err
			}
			data := it.Data
			if data == nil {
				data = []byte{} // the column is NOT NULL
			}
			res, err := enqueue.ExecContext(stmtCtx, string(it.Owner), data, now)
			if err != nil {
				return fmt.Errorf("for %s: %w", it.Owner, err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("for %s: %w", it.Owner, err)
			}
			seqs = append(seqs, strconv.FormatInt(id, 10))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: enqueue %d items: %w", len(items), err)
	}
	return seqs, nil
}

// Pending implements store.Queues.
func (s *Store) Pending(ctx context.Context, owner ids.Owner, limit int) ([]store.QueueItem, error) {
	if limit <= 0 || limit > store.DefaultPendingLimit {
		limit = store.DefaultPendingLimit
	}
	rows, err := s.pending.QueryContext(ctx, string(owner), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: pending of %s: %w", owner, err)
	}
	defer rows.Close()
	var out []store.QueueItem
	for rows.Next() {
		var (
			seq, enq int64
			data     []byte
		)
		if err := rows.Scan(&seq, &data, &enq); err != nil {
			return nil, fmt.Errorf("sqlitestore: pending of %s: %w", owner, err)
		}
		if data == nil {
			data = []byte{}
		}
		out = append(out, store.QueueItem{Seq: strconv.FormatInt(seq, 10), Data: data, Enqueued: fromUnixNano(enq)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: pending of %s: %w", owner, err)
	}
	return out, nil
}

// Ack implements store.Queues. A sequence that is not a number names no
// item, so acknowledging it does nothing.
func (s *Store) Ack(ctx context.Context, owner ids.Owner, seq string) error {
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil {
		return nil
	}
	s.writes.Add(1)
	if _, err := s.ack.ExecContext(ctx, string(owner), n); err != nil {
		return fmt.Errorf("sqlitestore: ack %s of %s: %w", seq, owner, err)
	}
	return nil
}

// AckAll implements store.Queues: one transaction for the batch (a single
// item is one statement, as Ack). Sequences that are not numbers are
// skipped, as Ack does.
func (s *Store) AckAll(ctx context.Context, items []store.QueueRef) error {
	type ref struct {
		owner string
		seq   int64
	}
	refs := make([]ref, 0, len(items))
	for _, it := range items {
		if n, err := strconv.ParseInt(it.Seq, 10, 64); err == nil {
			refs = append(refs, ref{string(it.Owner), n})
		}
	}
	switch len(refs) {
	case 0:
		return nil
	case 1:
		s.writes.Add(1)
		if _, err := s.ack.ExecContext(ctx, refs[0].owner, refs[0].seq); err != nil {
			return fmt.Errorf("sqlitestore: ack %d of %s: %w", refs[0].seq, refs[0].owner, err)
		}
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ack := tx.StmtContext(ctx, s.ack)
		stmtCtx := shortContext(ctx)
		for _, r := range refs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := ack.ExecContext(stmtCtx, r.owner, r.seq); err != nil {
				return fmt.Errorf("%d of %s: %w", r.seq, r.owner, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: ack %d items: %w", len(refs), err)
	}
	return nil
}

// PendingOwners implements store.Queues.
func (s *Store) PendingOwners(ctx context.Context) ([]ids.Owner, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT owner FROM drawbridge_queue`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: pending owners: %w", err)
	}
	defer rows.Close()
	var out []ids.Owner
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("sqlitestore: pending owners: %w", err)
		}
		out = append(out, ids.Owner(o))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: pending owners: %w", err)
	}
	return out, nil
}
