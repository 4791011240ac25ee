package delivery

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Confirmer is the XMPP side as the journal sees it: a frontend that can
// tell when the XMPP server has taken an event over (the hub's
// ConfirmingFrontend).
type Confirmer interface {
	// DeliverConfirmed hands ev, from platform, to owner; it returns once
	// the event is queued for sending, and later calls done once the XMPP
	// server has confirmed every stanza sent for ev (immediately if none
	// was sent). done must not block; it is never called if
	// DeliverConfirmed returns an error, and not at all if the stanzas are
	// not confirmed before the frontend stops.
	DeliverConfirmed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, ev event.Event, done func()) error
}

// JournalConfig is what a Journal depends on.
type JournalConfig struct {
	// Store holds the journal (required). The retry queue's outboxes
	// share it; the journal skips them.
	Store store.Queues
	// Frontend returns the XMPP side if it can confirm deliveries;
	// replays deliver nothing without one. nil means there is none.
	Frontend func() (Confirmer, bool)
	// Unsupported reports whether a delivery error means that the
	// frontend cannot deliver the event at all: a replay drops such an
	// event without a warning of its own. nil means none does.
	Unsupported func(error) bool
	// Log gets what goes wrong; nil means slog.Default().
	Log *slog.Logger
	// IDs, if set, tells a replay which platform messages this process
	// has delivered already (IDMap.SeenInbound): their journal items are
	// removed without a second delivery.
	IDs *IDMap
	// Owns, if set, limits Replay (and the passes Kick starts) to the
	// owners it reports true for: a process that owns a subset of them
	// (gateway.Options.Sharded) leaves the others' journals to their
	// owners. nil means every owner.
	Owns func(ids.Owner) bool
	// Writer, if set, writes the journal's appends and acks, combined
	// with the id map's and the intake's writes (with IDs, the pending id
	// pairs go in front of each append batch, in the same store write);
	// nil means the store's own calls.
	Writer *Writer
}

const (
	// journalStripes is the number of locks the owners are spread over: an
	// owner's enqueue and the replay of its journal take the same one.
	journalStripes = 64
	// journalPassTimeout bounds one replay pass: a frontend whose queue
	// stays full does not hold it (nor Start) longer.
	journalPassTimeout = 10 * time.Second
	// journalAckTimeout bounds one store.Ack.
	journalAckTimeout = 5 * time.Second
	// journalAckRetry is how long a failed store.Ack waits to be retried.
	journalAckRetry = 500 * time.Millisecond
	// journalAckBatch is the most confirmed items one store.AckAll removes.
	journalAckBatch = 512
)

// journalKey names one journal item.
type journalKey struct {
	owner ids.Owner
	seq   string
}

// Journal is the hub's durable inbound queue (the Queues role of the
// store): platform events are written to it before they are delivered and
// removed once the XMPP server confirmed them. Delivery is at-least-once.
// A process that dies with confirmed but not yet removed items, or with a
// delivery confirmed by the server but not yet seen by the gateway,
// delivers them again on its next start, with the same stanza id (for
// messages, the platform's message id): clients that deduplicate by id
// (XEP-0359 origin-id, which the gateway sets, or the stanza id in MAM)
// drop the copy; others may show it twice.
//
// In-flight items (delivered by this process, not yet confirmed) are
// tracked in memory so that a replay does not deliver them a second time
// while the frontend still holds them. Their number is bounded by the
// frontend's own queue bound.
type Journal struct {
	st          store.Queues
	frontend    func() (Confirmer, bool)
	ids         *IDMap
	unsupported func(error) bool
	owns        func(ids.Owner) bool
	log         *slog.Logger
	seed        maphash.Seed

	stripes [journalStripes]sync.Mutex

	mu        sync.Mutex
	inflight  map[journalKey]struct{}
	confirmed []journalKey    // to remove from the store
	wake      chan struct{}   // cap 1: wakes the ack worker
	replaying bool            // a replay goroutine runs
	closed    bool            // Stop was called: no more goroutines
	again     bool            // replay once more when it is done
	more      bool            // the last pass left items behind (a full page)
	base      context.Context // given to Start; nil before

	appender *appender // journal_append.go

	// ackMu makes removing acknowledged items (store, then in-flight set)
	// atomic for replays, which read the store and then the in-flight set:
	// without it a replay could read an item just before its removal and
	// find it no longer in flight just after, and deliver it again.
	ackMu sync.RWMutex

	wg sync.WaitGroup
}

// NewJournal returns a journal over cfg.Store; nothing runs until Start.
func NewJournal(cfg JournalConfig) *Journal {
	j := &Journal{
		st:          cfg.Store,
		frontend:    cfg.Frontend,
		unsupported: cfg.Unsupported,
		ids:         cfg.IDs,
		owns:        cfg.Owns,
		log:         cfg.Log,
		appender:    newAppender(cfg.Store, cfg.Writer),
		seed:        maphash.MakeSeed(),
		inflight:    make(map[journalKey]struct{}),
		wake:        make(chan struct{}, 1),
	}
	if j.frontend == nil {
		j.frontend = func() (Confirmer, bool) { return nil, false }
	}
	if j.ids != nil {
		// An event the platform emitted after a send (the echo of a
		// message, its receipt) is journaled, and so can reach the user,
		// only once the id pairs recorded before it are in the store: a
		// message from XMPP that the intake replays after a crash
		// (intake.go) is then known as sent whenever the user could have
		// seen its consequences, and not sent twice. The id map writes
		// behind, in batches; this waits for the batch under way, it adds
		// no write.
		j.appender.before = func(ctx context.Context) {
			if err := j.ids.Synced(ctx); err != nil {
				j.log.Warn("journal: message ids not yet written before an append", "err", err)
			}
		}
		if cfg.Writer != nil {
			// The pairs in the same write as the append, in front of it.
			j.appender.pairs = j.ids.takeAll
		}
	}
	if j.unsupported == nil {
		j.unsupported = func(error) bool { return false }
	}
	if j.owns == nil {
		j.owns = func(ids.Owner) bool { return true }
	}
	if j.log == nil {
		j.log = slog.Default()
	}
	return j
}

func (j *Journal) stripe(owner ids.Owner) *sync.Mutex {
	return &j.stripes[maphash.String(j.seed, string(owner))%journalStripes]
}

// Emit journals ev for owner, then delivers it through f. It returns an
// error, without delivering, if ev could not be journaled: the adapter must
// then not acknowledge it to the platform. Once journaled, a delivery that
// fails because ctx ended leaves ev in the journal for the next replay (nil
// is returned: ev is safe); any other delivery error removes it and is
// returned.
func (j *Journal) Emit(ctx context.Context, f Confirmer, owner ids.Owner, platform ids.PlatformID, ev event.Event) error {
	data, err := encodeJournal(platform, ev)
	if err != nil {
		return err
	}
	lock := j.stripe(owner)
	lock.Lock()
	seq, err := j.appender.append(ctx, owner, data)
	if err == nil {
		j.mark(journalKey{owner, seq})
	}
	lock.Unlock()
	if err != nil {
		// A write that failed on the way back (the connection dropped
		// after the store took it) may have left the item in the store:
		// the next pass with nothing in flight replays what is there.
		j.mu.Lock()
		j.more = true
		j.mu.Unlock()
		return fmt.Errorf("journal %T: %w: %w", ev, ErrNotDurable, err)
	}
	return j.deliver(ctx, f, journalKey{owner, seq}, platform, ev)
}

// deliver hands one journaled (and marked in-flight) item to f.
func (j *Journal) deliver(ctx context.Context, f Confirmer, k journalKey, platform ids.PlatformID, ev event.Event) error {
	err := f.DeliverConfirmed(ctx, k.owner, platform, ev, func() { j.confirm(k) })
	if err == nil {
		return nil
	}
	j.unmark(k)
	if ctx.Err() != nil || !j.owns(k.owner) {
		// Interrupted, or the owner went to another process while it was
		// delivered (JournalConfig.Owns): that one replays it.
		j.log.Warn("delivery interrupted; the event stays journaled", "owner", k.owner, "seq", k.seq, "err", err)
		j.mu.Lock()
		j.more = true // replayed once the deliveries in flight are confirmed
		j.mu.Unlock()
		return nil
	}
	j.drop(k, err)
	return fmt.Errorf("deliver %T to %s: %w", ev, k.owner, err)
}

// drop removes an item that cannot be delivered at all.
func (j *Journal) drop(k journalKey, why error) {
	j.log.Error("dropping an undeliverable journaled event", "owner", k.owner, "seq", k.seq, "err", why)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(j.runCtx()), journalAckTimeout)
	defer cancel()
	if err := j.st.Ack(ctx, k.owner, k.seq); err != nil {
		j.log.Error("cannot remove a journaled event", "owner", k.owner, "seq", k.seq, "err", err)
	}
}

// runCtx is the context given to Start, or Background before.
func (j *Journal) runCtx() context.Context {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.base == nil {
		return context.Background()
	}
	return j.base
}

func (j *Journal) mark(k journalKey) {
	j.mu.Lock()
	j.inflight[k] = struct{}{}
	j.mu.Unlock()
}

func (j *Journal) unmark(k journalKey) {
	j.mu.Lock()
	delete(j.inflight, k)
	j.mu.Unlock()
}

// confirm is the done callback of a delivery: it must not block.
func (j *Journal) confirm(k journalKey) {
	j.mu.Lock()
	j.confirmed = append(j.confirmed, k)
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// Start runs the worker that removes confirmed items from the store, until
// ctx ends (then it removes what is left, briefly, and returns).
func (j *Journal) Start(ctx context.Context) {
	j.mu.Lock()
	j.base = ctx
	j.mu.Unlock()
	j.appender.start(ctx)
	j.wg.Go(func() {
		retry := time.NewTimer(time.Hour)
		retry.Stop()
		defer retry.Stop()
		for {
			select {
			case <-j.wake:
			case <-retry.C:
			case <-ctx.Done():
				flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalAckTimeout)
				j.removeConfirmed(flush, false)
				cancel()
				return
			}
			if failed := j.removeConfirmed(ctx, true); failed {
				retry.Reset(journalAckRetry)
			}
		}
	})
}

// Stop waits for the worker and a running replay, which end with the
// context given to Start and Kick. No replay starts after it.
func (j *Journal) Stop() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.wg.Wait()
	j.appender.wait()
}

// removeConfirmed acknowledges the confirmed items in the store, then
// forgets them. Items whose acknowledgement failed stay confirmed and in
// flight (so no replay delivers them again) and are retried; it reports
// whether there are such. If the last pass left items behind, nothing is in
// flight any more and mayReplay is set, it starts another pass.
func (j *Journal) removeConfirmed(ctx context.Context, mayReplay bool) (failed bool) {
	j.mu.Lock()
	batch := j.confirmed
	j.confirmed = nil
	j.mu.Unlock()
	var retry []journalKey
	for len(batch) > 0 {
		n := min(len(batch), journalAckBatch)
		refs := make([]store.QueueRef, n)
		for i, k := range batch[:n] {
			refs[i] = store.QueueRef{Owner: k.owner, Seq: k.seq}
		}
		actx, cancel := context.WithTimeout(ctx, journalAckTimeout)
		j.ackMu.Lock()
		_, err := j.appender.write(actx, store.Batch{Acks: refs})
		cancel()
		if err != nil {
			j.ackMu.Unlock()
			// Retried; if the process ends first, the next one delivers
			// the rest again: at-least-once.
			j.log.Warn("cannot remove confirmed journaled events yet", "events", len(batch), "err", err)
			retry = batch
			break
		}
		j.mu.Lock()
		for _, k := range batch[:n] {
			delete(j.inflight, k)
		}
		j.mu.Unlock()
		j.ackMu.Unlock()
		batch = batch[n:]
	}
	if len(retry) > 0 {
		j.mu.Lock()
		j.confirmed = append(retry, j.confirmed...)
		j.mu.Unlock()
		return true
	}
	j.mu.Lock()
	next := mayReplay && j.more && len(j.inflight) == 0 && ctx.Err() == nil
	if next {
		j.more = false
	}
	j.mu.Unlock()
	if next {
		j.Kick(ctx)
	}
	return false
}

// Kick starts a replay pass in the background, or asks the running one to
// go once more.
func (j *Journal) Kick(ctx context.Context) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	if j.replaying {
		j.again = true
		return
	}
	j.replaying = true
	j.wg.Go(func() {
		for {
			j.Replay(ctx)
			j.mu.Lock()
			if !j.again || ctx.Err() != nil {
				j.replaying = false
				j.mu.Unlock()
				return
			}
			j.again = false
			j.mu.Unlock()
		}
	})
}

// Replay delivers, oldest first, the journaled items of every owner (that
// JournalConfig.Owns reports true for) that this process does not have in
// flight: at most store.DefaultPendingLimit
// per owner per pass, within journalPassTimeout.
func (j *Journal) Replay(ctx context.Context) {
	f, ok := j.frontend()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, journalPassTimeout)
	defer cancel()
	owners, err := j.st.PendingOwners(ctx)
	if err != nil {
		j.log.Error("cannot list journaled events", "err", err)
		return
	}
	replayed := 0
	for _, owner := range owners {
		if _, ok := isOutbox(owner); ok {
			continue // the retry queue's (outbox.go)
		}
		if _, ok := isIntake(owner); ok {
			continue // stanzas from XMPP (intake.go)
		}
		if !j.owns(owner) {
			continue // another process's (JournalConfig.Owns)
		}
		n, err := j.replayOwner(ctx, f, owner)
		replayed += n
		if err != nil {
			j.log.Error("replay of journaled events stopped", "owner", owner, "err", err)
			return
		}
	}
	if replayed > 0 {
		j.log.Info("replayed journaled events", "events", replayed, "owners", len(owners))
	}
}

// replayOwner delivers owner's journaled items that are not in flight.
func (j *Journal) replayOwner(ctx context.Context, f Confirmer, owner ids.Owner) (int, error) {
	lock := j.stripe(owner)
	lock.Lock()
	j.ackMu.RLock()
	items, err := j.st.Pending(ctx, owner, store.DefaultPendingLimit)
	var todo []store.QueueItem
	if err == nil {
		j.mu.Lock()
		for _, it := range items {
			k := journalKey{owner, it.Seq}
			if _, busy := j.inflight[k]; !busy {
				j.inflight[k] = struct{}{}
				todo = append(todo, it)
			}
		}
		if len(items) == store.DefaultPendingLimit {
			j.more = true
		}
		j.mu.Unlock()
	}
	j.ackMu.RUnlock()
	lock.Unlock()
	if err != nil {
		return 0, fmt.Errorf("pending of %s: %w", owner, err)
	}
	for i, it := range todo {
		k := journalKey{owner, it.Seq}
		platform, ev, err := decodeJournal(it.Data)
		if err != nil {
			j.unmark(k)
			j.drop(k, err)
			continue
		}
		if j.deliveredAlready(owner, platform, ev) {
			// The adapter offered it again and that copy went out (a
			// store write that failed on the way back left this one).
			j.confirm(k)
			continue
		}
		if err := j.deliver(ctx, f, k, platform, ev); err != nil && !j.unsupported(err) {
			j.log.Warn("cannot replay a journaled event", "owner", owner, "seq", k.seq, "err", err)
		}
		if ctx.Err() != nil {
			for _, rest := range todo[i+1:] {
				j.unmark(journalKey{owner, rest.Seq})
			}
			return i + 1, fmt.Errorf("replay: %w", ctx.Err())
		}
	}
	return len(todo), nil
}

// deliveredAlready reports whether ev is a platform message this process
// has delivered (IDMap.SeenInbound).
func (j *Journal) deliveredAlready(owner ids.Owner, platform ids.PlatformID, ev event.Event) bool {
	m, ok := ev.(*event.Message)
	return ok && j.ids != nil && m.ID != "" && j.ids.SeenInbound(owner, ChatKey(platform, m.Chat), m.ID)
}
