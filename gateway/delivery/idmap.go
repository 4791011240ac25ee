package delivery

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

const (
	// idCacheSize bounds the id pairs kept in memory (each direction of a
	// pair is one entry). Receipts, markers and corrections mostly name
	// recent messages, so they are answered from memory.
	idCacheSize = 32_768
	// idFlushBatch is the most pairs one store write takes.
	idFlushBatch = 512
	// idPendingMax bounds the pairs waiting for the store (while it is
	// unreachable): beyond it the oldest are dropped with a warning, and
	// receipts for those messages will name the platform's id.
	idPendingMax = 100_000
	// dedupeWindow is how long a message's ids keep a copy of it from being
	// sent again (a client re-sending after its stream broke, a server
	// re-routing after a restart). Within it, an id the memory does not
	// know is looked up in the store: the memory may not reach back that
	// far (just after a start, or when the cache turned over faster).
	dedupeWindow = 5 * time.Minute
)

// idKey names one id in one direction: (owner, chat, id).
type idKey struct {
	owner ids.Owner
	chat  ids.ChatID
	id    string
}

type idValue struct {
	other string // the id in the other direction
	sum   uint64 // what the message said, for duplicate checks; 0 = unknown
	seq   uint64 // which ring slot owns the entry
}

type idSlot struct {
	toPlatform bool // the key is in byXMPP (else byPlatform)
	key        idKey
	seq        uint64
	at         time.Time
}

// IDMap is the hub's view of the XMPP ↔ platform message id mappings: a
// bounded cache of recent pairs in front of the store's MessageIDs, and a
// write-behind buffer that records new pairs in batches (one transaction
// or pipeline for many messages instead of one per message). The cache
// holds every pair still waiting for the store, so lookups never miss a
// pair just made. A pair still buffered when the process dies is lost:
// receipts and corrections naming that message then carry the platform's
// id, which the adapters accept for messages they do not know.
type IDMap struct {
	st   store.MessageIDs
	w    *Writer // nil: st.PutMessageIDs
	log  *slog.Logger
	now  func() time.Time
	seed maphash.Seed

	mu         sync.Mutex
	byXMPP     map[idKey]idValue
	byPlatform map[idKey]idValue
	ring       []idSlot
	next       uint64    // slots written so far
	evictedAt  time.Time // when the newest evicted entry was made
	started    time.Time
	pending    []store.MessageIDPair
	dropped    int
	running    bool
	wake       chan struct{}
	cancel     context.CancelFunc
	wg         sync.WaitGroup

	// queued counts the pairs ever put in pending, finished those of
	// them written (or dropped): pending is first in, first out, so
	// finished >= n means the first n are done with (Synced). progress
	// is closed, and replaced, whenever finished grows.
	queued, finished uint64
	progress         chan struct{}
}

// IDMapConfig is what an IDMap depends on.
type IDMapConfig struct {
	// Store keeps the pairs (required).
	Store store.MessageIDs
	// Log gets the store's failures; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Writer, if set, writes the background batches, combined with the
	// journal's and the intake's writes; nil means Store.PutMessageIDs.
	Writer *Writer
}

// NewIDMap returns an empty map that writes through to cfg.Store until
// Start.
func NewIDMap(cfg IDMapConfig) *IDMap {
	m := &IDMap{
		st:         cfg.Store,
		w:          cfg.Writer,
		log:        cfg.Log,
		now:        cfg.Now,
		seed:       maphash.MakeSeed(),
		byXMPP:     make(map[idKey]idValue),
		byPlatform: make(map[idKey]idValue),
		ring:       make([]idSlot, idCacheSize),
		wake:       make(chan struct{}, 1),
		progress:   make(chan struct{}),
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.started = m.now()
	return m
}

// Sum hashes what identifies a message's content (its body and the URLs
// of its files) for duplicate checks. It is never 0, which means unknown.
func (m *IDMap) Sum(msg *event.Message) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(msg.Body)
	for _, a := range msg.Attachments {
		h.WriteByte(0)
		h.WriteString(a.URL)
	}
	return h.Sum64() | 1 // never 0, which means unknown
}

// cache adds one entry; m.mu is held.
func (m *IDMap) cache(toPlatform bool, k idKey, v idValue, at time.Time) {
	slot := &m.ring[m.next%uint64(len(m.ring))]
	if m.next >= uint64(len(m.ring)) {
		old := m.byXMPP
		if !slot.toPlatform {
			old = m.byPlatform
		}
		if cur, ok := old[slot.key]; ok && cur.seq == slot.seq {
			delete(old, slot.key)
		}
		if slot.at.After(m.evictedAt) {
			m.evictedAt = slot.at
		}
	}
	m.next++
	v.seq = m.next
	*slot = idSlot{toPlatform: toPlatform, key: k, seq: v.seq, at: at}
	if toPlatform {
		m.byXMPP[k] = v
	} else {
		m.byPlatform[k] = v
	}
}

// Put records that the stanza ids xmppIDs name platform message id: every
// id maps to it, and it maps back to xmppIDs[0], the id the owner's
// clients know the message by. sum (0 if unknown) is what the message
// said, for duplicate checks. The store gets the pairs in the background.
func (m *IDMap) Put(ctx context.Context, owner ids.Owner, chat ids.ChatID, id ids.MessageID, sum uint64, xmppIDs ...string) {
	m.record(ctx, owner, chat, id, sum, false, xmppIDs)
}

// PutNow is Put, writing to the store before it returns.
func (m *IDMap) PutNow(ctx context.Context, owner ids.Owner, chat ids.ChatID, id ids.MessageID, sum uint64, xmppIDs ...string) {
	m.record(ctx, owner, chat, id, sum, true, xmppIDs)
}

func (m *IDMap) record(ctx context.Context, owner ids.Owner, chat ids.ChatID, id ids.MessageID, sum uint64, through bool, xmppIDs []string) {
	t := m.now()
	var pairs []store.MessageIDPair
	m.mu.Lock()
	// The reverse direction is written last in the store, so the pair
	// naming xmppIDs[0] wins there too.
	for i := len(xmppIDs) - 1; i >= 0; i-- {
		x := xmppIDs[i]
		if x == "" || (i > 0 && x == xmppIDs[0]) {
			continue
		}
		m.cache(true, idKey{owner, chat, x}, idValue{other: string(id), sum: sum}, t)
		pairs = append(pairs, store.MessageIDPair{Owner: owner, Chat: chat, XMPPID: x, PlatformID: id})
	}
	if len(pairs) == 0 {
		m.mu.Unlock()
		return
	}
	m.cache(false, idKey{owner, chat, string(id)}, idValue{other: pairs[len(pairs)-1].XMPPID}, t)
	behind := m.running && !through
	if behind {
		m.pending = append(m.pending, pairs...)
		m.queued += uint64(len(pairs))
		if over := len(m.pending) - idPendingMax; over > 0 {
			m.pending = append(m.pending[:0], m.pending[over:]...)
			m.dropped += over
			m.finishedLocked(over)
		}
	}
	m.mu.Unlock()
	if !behind {
		// Asked for, or not started (tools, tests): write through.
		if err := m.st.PutMessageIDs(ctx, pairs); err != nil {
			m.log.Warn("cannot record message id", "owner", owner, "chat", chat, "err", err)
		}
		return
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// SentBefore reports whether any of xmppIDs is known to name a message
// sent, in memory or in the store, and its platform id. It is for a
// message the retry queue kept (outbox.go): the same ids mean the same
// message, so content is not compared.
func (m *IDMap) SentBefore(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppIDs []string) (ids.MessageID, bool) {
	for _, x := range xmppIDs {
		if x == "" {
			continue
		}
		if id, ok := m.PlatformID(ctx, owner, chat, x); ok {
			return id, true
		}
	}
	return "", false
}

// inboundMark is the sum of an entry NoteInbound made (Sum values are
// odd).
const inboundMark = 2

// NoteInbound records that a message from the platform was delivered and
// is known to the owner's clients by its platform id: their receipts and
// reactions naming it need no store lookup, and the platform offering it
// again is recognised (SeenInbound). Nothing is written.
func (m *IDMap) NoteInbound(owner ids.Owner, chat ids.ChatID, id ids.MessageID) {
	if id == "" {
		return
	}
	t := m.now()
	k := idKey{owner, chat, string(id)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byXMPP[k]; !ok {
		m.cache(true, k, idValue{other: string(id), sum: inboundMark}, t)
	}
	if _, ok := m.byPlatform[k]; !ok {
		m.cache(false, k, idValue{other: string(id)}, t)
	}
}

// SeenInbound reports whether the platform message id was delivered to
// owner by this process recently (NoteInbound).
func (m *IDMap) SeenInbound(owner ids.Owner, chat ids.ChatID, id ids.MessageID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.byXMPP[idKey{owner, chat, string(id)}]
	return ok && v.sum == inboundMark
}

// PlatformID returns the platform id that stanza id xmppID names.
func (m *IDMap) PlatformID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string) (ids.MessageID, bool) {
	m.mu.Lock()
	v, ok := m.byXMPP[idKey{owner, chat, xmppID}]
	m.mu.Unlock()
	if ok {
		return ids.MessageID(v.other), true
	}
	return m.storedPlatformID(ctx, owner, chat, xmppID)
}

// storedPlatformID reads the platform id of xmppID in the store, under
// the chat's key or, for pairs written before chats were keyed by
// platform (ChatKey), under its bare id.
func (m *IDMap) storedPlatformID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string) (ids.MessageID, bool) {
	id, err := m.st.PlatformMessageID(ctx, owner, chat, xmppID)
	if err != nil {
		if bare, scoped := bareChat(chat); scoped && errors.Is(err, store.ErrNotFound) {
			id, err = m.st.PlatformMessageID(ctx, owner, bare, xmppID)
		}
	}
	return id, err == nil
}

// XMPPID returns the stanza id the owner's clients know platform message
// id by.
func (m *IDMap) XMPPID(ctx context.Context, owner ids.Owner, chat ids.ChatID, id ids.MessageID) (string, bool) {
	m.mu.Lock()
	v, ok := m.byPlatform[idKey{owner, chat, string(id)}]
	m.mu.Unlock()
	if ok {
		return v.other, true
	}
	x, err := m.st.XMPPMessageID(ctx, owner, chat, id)
	if err != nil {
		if bare, scoped := bareChat(chat); scoped && errors.Is(err, store.ErrNotFound) {
			x, err = m.st.XMPPMessageID(ctx, owner, bare, id)
		}
	}
	return x, err == nil
}

// Duplicate reports whether a message with these stanza ids was already
// sent, and its platform id. In memory a match needs the same content
// (Sum) too, since some clients reuse stanza ids; in the store, which does
// not keep content, only the XEP-0359 origin-id (xmppIDs[1], unique by
// definition) counts, and only within dedupeWindow of what memory lost.
func (m *IDMap) Duplicate(ctx context.Context, owner ids.Owner, chat ids.ChatID, sum uint64, xmppIDs []string) (ids.MessageID, bool) {
	t := m.now()
	m.mu.Lock()
	for _, x := range xmppIDs {
		if x == "" {
			continue
		}
		if v, ok := m.byXMPP[idKey{owner, chat, x}]; ok && v.sum != 0 && v.sum == sum {
			m.mu.Unlock()
			return ids.MessageID(v.other), true
		}
	}
	origin := ""
	if len(xmppIDs) > 1 {
		origin = xmppIDs[1]
	}
	if origin == "" {
		m.mu.Unlock()
		return "", false
	}
	_, known := m.byXMPP[idKey{owner, chat, origin}]
	reach := t.Sub(m.started) < dedupeWindow || t.Sub(m.evictedAt) < dedupeWindow
	m.mu.Unlock()
	if known || !reach {
		// Known with other content, or memory covers the whole window.
		return "", false
	}
	return m.storedPlatformID(ctx, owner, chat, origin)
}

// Start runs the background writer until Stop.
func (m *IDMap) Start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running {
		return
	}
	ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.running = true
	m.wg.Go(func() { m.run(ctx) })
}

// Stop ends the writer once it has flushed what it holds (for a bounded
// time); later pairs are written through.
func (m *IDMap) Stop() {
	m.mu.Lock()
	cancel := m.cancel
	m.cancel = nil
	m.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	m.wg.Wait()
	m.mu.Lock()
	m.running = false
	m.mu.Unlock()
	m.flushOnStop() // what came in during the last flush
}

// take removes up to n pending pairs.
func (m *IDMap) take(n int) []store.MessageIDPair {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dropped > 0 {
		m.log.Warn("message id pairs dropped: the store was unreachable too long", "pairs", m.dropped)
		m.dropped = 0
	}
	n = min(n, len(m.pending))
	if n == 0 {
		return nil
	}
	batch := append([]store.MessageIDPair(nil), m.pending[:n]...)
	m.pending = append(m.pending[:0], m.pending[n:]...)
	return batch
}

// putBack returns a batch the store refused to the front of the queue.
func (m *IDMap) putBack(batch []store.MessageIDPair) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = append(batch, m.pending...)
	if over := len(m.pending) - idPendingMax; over > 0 {
		m.pending = m.pending[over:]
		m.dropped += over
		m.finishedLocked(over)
	}
}

// written notes that n pairs taken from pending were written.
func (m *IDMap) written(n int) {
	m.mu.Lock()
	m.finishedLocked(n)
	m.mu.Unlock()
}

// finishedLocked counts n pairs off the front of pending as done with;
// the caller holds m.mu.
func (m *IDMap) finishedLocked(n int) {
	m.finished += uint64(n)
	close(m.progress)
	m.progress = make(chan struct{})
}

// Synced returns once every pair recorded (Put) before the call is
// written to the store, by the background writer and in its batches; or
// with ctx's error. It is for a caller that forgets its own record of a
// send once the send's ids are durable (the intake, intake.go).
func (m *IDMap) Synced(ctx context.Context) error {
	m.mu.Lock()
	target := m.queued
	for m.finished < target {
		ch := m.progress
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("delivery: wait for message ids to be written: %w", ctx.Err())
		}
		m.mu.Lock()
	}
	m.mu.Unlock()
	return nil
}

func (m *IDMap) run(ctx context.Context) {
	const minWait, maxWait = 100 * time.Millisecond, 5 * time.Second
	wait := minWait
	for {
		select {
		case <-ctx.Done():
			m.flushOnStop()
			return
		case <-m.wake:
		}
		for batch := m.take(idFlushBatch); len(batch) > 0; batch = m.take(idFlushBatch) {
			if err := m.put(ctx, batch); err != nil {
				m.putBack(batch)
				if ctx.Err() != nil {
					break
				}
				m.log.Warn("cannot record message ids; retrying", "pairs", len(batch), "in", wait, "err", err)
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
				case <-t.C:
				}
				wait = min(2*wait, maxWait)
				continue
			}
			m.written(len(batch))
			wait = minWait
		}
	}
}

// put writes a batch taken from pending: through the Writer if there is
// one.
func (m *IDMap) put(ctx context.Context, batch []store.MessageIDPair) error {
	if m.w != nil {
		_, err := m.w.Write(ctx, store.Batch{Pairs: batch})
		return err
	}
	return m.st.PutMessageIDs(ctx, batch)
}

// takeAll is for a write that must not reach the store before the pairs
// recorded so far (Synced): when none of them is being written by another
// batch, it takes every pending pair for the caller to write first in its
// own batch, and settle, told how that write went, counts them written or
// puts them back. Otherwise ok is false: the caller waits with Synced.
func (m *IDMap) takeAll() (pairs []store.MessageIDPair, settle func(error), ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.queued-m.finished != uint64(len(m.pending)) {
		return nil, nil, false // taken by a write still under way
	}
	if len(m.pending) == 0 {
		return nil, func(error) {}, true
	}
	pairs = m.pending
	m.pending = nil
	return pairs, func(err error) {
		if err != nil {
			m.putBack(pairs)
			return
		}
		m.written(len(pairs))
	}, true
}

// flushOnStop writes what is pending, for a bounded time, once the hub
// stops.
func (m *IDMap) flushOnStop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for batch := m.take(idFlushBatch); len(batch) > 0; batch = m.take(idFlushBatch) {
		if err := m.put(ctx, batch); err != nil {
			m.log.Warn("message ids not recorded at stop", "pairs", len(batch), "err", err)
			return
		}
		m.written(len(batch))
	}
}

// chatKeySep separates the platform from the chat in a ChatKey; no
// platform id contains it (config: lower-case letters, digits, _ and -).
const chatKeySep = "\x1f"

// ChatKey is the chat as the id map, the sent times and the sends in
// flight know it: the chat's id behind its platform's. Chat ids are the
// adapters' own, so two platforms may have the same one (a phone number on
// WhatsApp and on the sandbox, for the same owner): keyed by platform, an
// id of one platform's chat never answers for the other's.
func ChatKey(platform ids.PlatformID, chat ids.ChatID) ids.ChatID {
	return ids.ChatID(string(platform) + chatKeySep + string(chat))
}

// bareChat returns the chat id of a ChatKey, for the pairs stored before
// chats were keyed by platform.
func bareChat(key ids.ChatID) (ids.ChatID, bool) {
	_, chat, ok := strings.Cut(string(key), chatKeySep)
	return ids.ChatID(chat), ok
}
