package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

var _ store.Batcher = (*Store)(nil)

// WriteBatch implements store.Batcher: the pairs, the appends and the
// acks in one transaction, with the prepared statements (all of it, or
// nothing).
func (s *Store) WriteBatch(ctx context.Context, b store.Batch) ([]string, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	now := time.Now()
	prune := len(b.Pairs) > 0 && now.UnixNano()-s.lastPrune.Load() >= int64(pruneInterval)
	seqs := make([]string, 0, len(b.Appends))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if len(b.Pairs) > 0 {
			if err := s.putPairsTx(ctx, tx, now, prune, b.Pairs); err != nil {
				return fmt.Errorf("message ids: %w", err)
			}
		}
		stmtCtx := shortContext(ctx)
		if len(b.Appends) > 0 {
			enqueue := tx.StmtContext(ctx, s.enqueue)
			for _, it := range b.Appends {
				if err := ctx.Err(); err != nil {
					return err
				}
				data := it.Data
				if data == nil {
					data = []byte{} // the column is NOT NULL
				}
				res, err := enqueue.ExecContext(stmtCtx, string(it.Owner), data, now.UnixNano())
				if err != nil {
					return fmt.Errorf("enqueue for %s: %w", it.Owner, err)
				}
				id, err := res.LastInsertId()
				if err != nil {
					return fmt.Errorf("enqueue for %s: %w", it.Owner, err)
				}
				seqs = append(seqs, strconv.FormatInt(id, 10))
			}
		}
		if len(b.Acks) > 0 {
			ack := tx.StmtContext(ctx, s.ack)
			for _, r := range b.Acks {
				if err := ctx.Err(); err != nil {
					return err
				}
				n, err := strconv.ParseInt(r.Seq, 10, 64)
				if err != nil {
					continue // names no item, as Ack
				}
				if _, err := ack.ExecContext(stmtCtx, string(r.Owner), n); err != nil {
					return fmt.Errorf("ack %d of %s: %w", n, r.Owner, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: write a batch of %d pairs, %d appends, %d acks: %w", len(b.Pairs), len(b.Appends), len(b.Acks), err)
	}
	if prune {
		s.lastPrune.Store(now.UnixNano())
	}
	return seqs, nil
}
