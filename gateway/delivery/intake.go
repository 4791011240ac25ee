package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// The intake is the durable record of what the gateway read from XMPP and
// has not yet handed to a platform: the XMPP side writes each message
// stanza to it as it reads it (many at a time: Append is one store write
// for a whole batch), before the stanza waits for its turn, and marks it
// done once handled (sent to the platform, queued for it in the outbox, or
// refused with an error to its sender). A process that dies in between
// handles the stanzas again at its next start (Pending).
//
// Intake queues share the Queues role with the journal and the outboxes;
// their names are the sender's bare JID behind intakePrefix (':' is in no
// bare JID outside an IP literal), and the journal skips them.
const intakePrefix = "xmppin:"

func intakeOf(sender ids.Owner) ids.Owner { return ids.Owner(intakePrefix + string(sender)) }

// isIntake reports whether a queue name is an intake queue, and whose.
func isIntake(queue ids.Owner) (ids.Owner, bool) {
	o, ok := strings.CutPrefix(string(queue), intakePrefix)
	return ids.Owner(o), ok
}

// IntakeItem is one stanza to record: its sender's bare JID and its bytes.
type IntakeItem struct {
	Sender ids.Owner
	Data   []byte
}

// IntakeEntry is a recorded stanza not yet marked done.
type IntakeEntry struct {
	Sender ids.Owner
	Seq    string
	Data   []byte
}

// IntakeConfig is what an Intake depends on.
type IntakeConfig struct {
	// Store holds the records (required).
	Store store.Queues
	// Log gets what goes wrong; nil means slog.Default().
	Log *slog.Logger
	// IDs, if set, has written what it was given before records are
	// removed (IDMap.Synced): the ids of what was sent are then durable,
	// so a message handled again after a crash is recognised as sent
	// (gateway.SendOptions.Replayed) unless the crash came between the
	// platform's answer and that write.
	IDs *IDMap
	// Writer, if set, writes the records and their removal, combined with
	// the id map's and the journal's writes (with IDs, the pending id pairs
	// go in front of a removal, in the same store write); nil means the
	// store's own calls.
	Writer *Writer
}

// Intake records stanzas from XMPP until they are handled. Its methods are
// safe for concurrent use.
type Intake struct {
	st  store.Queues
	ids *IDMap
	w   *Writer // nil: st's own calls
	log *slog.Logger

	mu   sync.Mutex
	done []store.QueueRef // to remove from the store
	wake chan struct{}    // cap 1
	wg   sync.WaitGroup
}

// NewIntake returns an intake over cfg.Store; Done only collects until
// Start.
func NewIntake(cfg IntakeConfig) *Intake {
	in := &Intake{st: cfg.Store, ids: cfg.IDs, w: cfg.Writer, log: cfg.Log, wake: make(chan struct{}, 1)}
	if in.log == nil {
		in.log = slog.Default()
	}
	return in
}

// Append records items, in order, with one store write per appendBatch
// items, and returns their sequences (for Done). On error nothing is
// returned; with Redis some items may be recorded (then handled twice
// after a crash, which the hub recognises by their ids). It takes at most
// journalAckTimeout.
func (in *Intake) Append(ctx context.Context, items []IntakeItem) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, journalAckTimeout)
	defer cancel()
	seqs := make([]string, 0, len(items))
	for len(items) > 0 {
		n := min(len(items), appendBatch)
		batch := make([]store.QueueAppend, n)
		for i, it := range items[:n] {
			batch[i] = store.QueueAppend{Owner: intakeOf(it.Sender), Data: it.Data}
		}
		s, err := in.write(ctx, store.Batch{Appends: batch})
		if err != nil {
			return nil, fmt.Errorf("intake: record %d stanzas: %w", len(items), err)
		}
		seqs = append(seqs, s...)
		items = items[n:]
	}
	return seqs, nil
}

// Done marks the stanza seq of sender handled. It never blocks: the
// records are removed in batches by the worker Start runs.
func (in *Intake) Done(sender ids.Owner, seq string) {
	in.mu.Lock()
	in.done = append(in.done, store.QueueRef{Owner: intakeOf(sender), Seq: seq})
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// Pending returns the stanzas recorded and not marked done, each sender's
// oldest first (at most store.DefaultPendingLimit per sender).
func (in *Intake) Pending(ctx context.Context) ([]IntakeEntry, error) {
	queues, err := in.st.PendingOwners(ctx)
	if err != nil {
		return nil, fmt.Errorf("intake: list: %w", err)
	}
	var out []IntakeEntry
	for _, q := range queues {
		sender, ok := isIntake(q)
		if !ok {
			continue
		}
		items, err := in.st.Pending(ctx, q, store.DefaultPendingLimit)
		if err != nil {
			return nil, fmt.Errorf("intake: read %s: %w", sender, err)
		}
		for _, it := range items {
			out = append(out, IntakeEntry{Sender: sender, Seq: it.Seq, Data: it.Data})
		}
	}
	return out, nil
}

// Start runs the worker that removes the records marked done, until ctx
// ends (then it removes what is marked, briefly, and returns).
func (in *Intake) Start(ctx context.Context) {
	in.wg.Go(func() {
		retry := time.NewTimer(time.Hour)
		retry.Stop()
		defer retry.Stop()
		for {
			select {
			case <-in.wake:
			case <-retry.C:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalAckTimeout)
				in.removeDone(flush)
				cancel()
				return
			}
			if !in.removeDone(ctx) {
				retry.Reset(journalAckRetry)
			}
		}
	})
}

// Stop waits for the worker, which ends with the context given to Start.
func (in *Intake) Stop() { in.wg.Wait() }

// removeDone removes the records marked done; those it could not remove
// stay marked and it reports false (handled again after a crash before
// the retry: at-least-once).
func (in *Intake) removeDone(ctx context.Context) bool {
	in.mu.Lock()
	batch := in.done
	in.done = nil
	in.mu.Unlock()
	var (
		pairs  []store.MessageIDPair
		settle func(error)
		synced bool
	)
	if len(batch) > 0 && in.ids != nil && in.w != nil {
		// The pairs recorded so far in front of the removal, in the same
		// store write, if no other write holds some of them.
		pairs, settle, synced = in.ids.takeAll()
	}
	if len(batch) > 0 && in.ids != nil && !synced {
		fctx, cancel := context.WithTimeout(ctx, journalAckTimeout)
		err := in.ids.Synced(fctx)
		cancel()
		if err != nil {
			in.log.Warn("cannot remove handled stanzas from the intake yet: their message ids are not written", "stanzas", len(batch), "err", err)
			in.mu.Lock()
			in.done = append(batch, in.done...)
			in.mu.Unlock()
			return false
		}
	}
	for len(batch) > 0 {
		n := min(len(batch), journalAckBatch)
		actx, cancel := context.WithTimeout(ctx, journalAckTimeout)
		_, err := in.write(actx, store.Batch{Pairs: pairs, Acks: batch[:n]})
		cancel()
		if settle != nil {
			settle(err)
			pairs, settle = nil, nil
		}
		if err != nil {
			in.log.Warn("cannot remove handled stanzas from the intake yet", "stanzas", len(batch), "err", err)
			in.mu.Lock()
			in.done = append(batch, in.done...)
			in.mu.Unlock()
			return false
		}
		batch = batch[n:]
	}
	return true
}

// write writes b through the Writer, or with the store's own calls.
func (in *Intake) write(ctx context.Context, b store.Batch) ([]string, error) {
	if in.w != nil {
		return in.w.Write(ctx, b)
	}
	return writeApart(ctx, queuesOnly{in.st}, b)
}
