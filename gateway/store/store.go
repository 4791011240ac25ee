// Package store declares the hub's persistent state as small role
// interfaces. Backends (redisstore, sqlitestore) implement all of them and
// pass the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// ErrNotFound is returned (wrapped or bare) when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a platform account is already linked to
// another owner.
var ErrConflict = errors.New("store: platform account linked to another owner")

// ErrFenced is returned when a store fenced by a lease (several instances
// on one Redis) refuses a write: the lease's fencing token is no longer
// the writer's, so another instance holds it now.
var ErrFenced = errors.New("store: write refused: the fencing token is stale")

// Account is an owner's registration with one platform, and the platform
// account linked to it once login has completed.
type Account struct {
	Owner    ids.Owner
	Platform ids.PlatformID
	// ID is empty while the owner is registered but not (yet) linked.
	ID ids.AccountID
	// State is the last known connection state.
	State event.State
	// StateDetail is the human-readable explanation of State.
	StateDetail string
	// Registered is when the owner registered with the gateway.
	Registered time.Time
	// Updated is when the record last changed.
	Updated time.Time
}

// Accounts maps owners to platform accounts, in both directions.
type Accounts interface {
	// PutAccount creates or replaces the owner's record for a.Platform and
	// keeps the reverse index (platform, ID) → owner in step, atomically. It
	// returns ErrConflict if a.ID is linked to a different owner.
	PutAccount(ctx context.Context, a Account) error
	// AccountByOwner returns ErrNotFound if owner has not registered.
	AccountByOwner(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (Account, error)
	// AccountByID returns ErrNotFound if no owner has linked that account.
	AccountByID(ctx context.Context, platform ids.PlatformID, id ids.AccountID) (Account, error)
	// ListAccounts returns every record, ordered by owner then platform.
	ListAccounts(ctx context.Context) ([]Account, error)
	// SetAccountState updates State, StateDetail and Updated. ErrNotFound if
	// the record does not exist.
	SetAccountState(ctx context.Context, owner ids.Owner, platform ids.PlatformID, state event.State, detail string) error
	// DeleteAccount removes the record, its reverse index, its contacts,
	// message ids and key-value data. Deleting a missing record is not an error.
	DeleteAccount(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error
}

// Contact is what the gateway remembers about a contact of an owner.
type Contact struct {
	Platform ids.PlatformID
	User     ids.UserID
	Name     string
	// Subscribed is true once the owner accepted the contact's presence
	// subscription (the contact is in the owner's roster).
	Subscribed bool
	Updated    time.Time
}

// Contacts caches contacts per owner.
type Contacts interface {
	PutContact(ctx context.Context, owner ids.Owner, c Contact) error
	// GetContact returns ErrNotFound if unknown.
	GetContact(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (Contact, error)
	// ListContacts returns the owner's contacts on platform, ordered by User.
	ListContacts(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]Contact, error)
}

// MessageIDs maps XMPP stanza ids to platform message ids, per owner and
// chat, in both directions, for a limited time.
type MessageIDs interface {
	// PutMessageID records the pair; ttl <= 0 means the backend's default (7 days).
	PutMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string, platformID ids.MessageID, ttl time.Duration) error
	// PutMessageIDs records several pairs in one round trip (one sqlite
	// transaction, one Redis pipeline), as if PutMessageID were called for each
	// in order. An empty slice is a no-op.
	PutMessageIDs(ctx context.Context, pairs []MessageIDPair) error
	// PlatformMessageID returns ErrNotFound if unknown or expired.
	PlatformMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, xmppID string) (ids.MessageID, error)
	// XMPPMessageID returns ErrNotFound if unknown or expired.
	XMPPMessageID(ctx context.Context, owner ids.Owner, chat ids.ChatID, platformID ids.MessageID) (string, error)
}

// MessageIDPair is one mapping for MessageIDs.PutMessageIDs: the arguments
// of one PutMessageID call.
type MessageIDPair struct {
	// Owner is the XMPP bare JID the mapping belongs to.
	Owner ids.Owner
	// Chat is the chat the message was sent in.
	Chat ids.ChatID
	// XMPPID is the XMPP side's id of the message.
	XMPPID string
	// PlatformID is the platform's id of the same message.
	PlatformID ids.MessageID
	// TTL is how long the mapping lives; <= 0 means the backend's default
	// (DefaultMessageIDTTL).
	TTL time.Duration
}

// KV is a private key-value space per (platform, account), for adapters.
type KV interface {
	// GetKV returns ErrNotFound if the key is absent.
	GetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string) ([]byte, error)
	SetKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string, value []byte) error
	DeleteKV(ctx context.Context, platform ids.PlatformID, account ids.AccountID, key string) error
}

// QueueItem is one entry of an owner's queue.
type QueueItem struct {
	// Seq identifies the item within its owner's queue (another owner's
	// item may have the same Seq); it is opaque: order items by Pending's
	// order, not by Seq.
	Seq string
	// Data is what Enqueue was given.
	Data []byte
	// Enqueued is when the item was queued.
	Enqueued time.Time
}

// QueueAppend is one item for Queues.EnqueueAll.
type QueueAppend struct {
	// Owner is the owner whose queue the item goes to.
	Owner ids.Owner
	// Data is the item.
	Data []byte
}

// QueueRef names one queued item for Queues.AckAll.
type QueueRef struct {
	// Owner is the owner whose queue holds the item.
	Owner ids.Owner
	// Seq is the item's sequence, as Enqueue returned it (or Pending's
	// QueueItem.Seq).
	Seq string
}

// Queues is a durable, ordered journal of work per owner: what the gateway
// has accepted from one side and not yet handed to the other (events from a
// platform not yet confirmed by the XMPP server). Enqueue returns only once
// the item is durable as far as the backend goes (committed to sqlite, or
// written to Redis under its persistence settings). Delivery built on it is
// at-least-once: an item is removed only by Ack, after its delivery was
// confirmed.
type Queues interface {
	// Enqueue appends item to owner's queue and returns its sequence.
	Enqueue(ctx context.Context, owner ids.Owner, item []byte) (seq string, err error)
	// EnqueueAll appends several items, possibly to different owners'
	// queues, in one round trip (one sqlite transaction, one Redis
	// pipeline), as if Enqueue were called for each in order, and returns
	// their sequences in the same order. On error none of the sequences is
	// returned; with Redis some items may have been appended (delivery is
	// at-least-once anyway).
	EnqueueAll(ctx context.Context, items []QueueAppend) (seqs []string, err error)
	// Pending returns up to limit of owner's items, oldest first (limit <= 0
	// means the backend's maximum, DefaultPendingLimit).
	Pending(ctx context.Context, owner ids.Owner, limit int) ([]QueueItem, error)
	// Ack removes the item seq from owner's queue. Acknowledging an item
	// that is not (or no longer) queued is not an error.
	Ack(ctx context.Context, owner ids.Owner, seq string) error
	// AckAll removes several items, possibly of different owners, in one round
	// trip; like Ack, items no longer queued are not an error.
	AckAll(ctx context.Context, items []QueueRef) error
	// PendingOwners lists the owners with at least one queued item, in no
	// particular order.
	PendingOwners(ctx context.Context) ([]ids.Owner, error)
}

// Batch is writes of several roles for Batcher.WriteBatch: id pairs (as
// MessageIDs.PutMessageIDs), queue appends (as Queues.EnqueueAll) and
// queue acks (as Queues.AckAll), applied in that order.
type Batch struct {
	Pairs   []MessageIDPair
	Appends []QueueAppend
	Acks    []QueueRef
}

// Len is the number of writes in b.
func (b Batch) Len() int { return len(b.Pairs) + len(b.Appends) + len(b.Acks) }

// Batcher is a store that can commit a Batch in one round trip (one sqlite
// transaction, one Redis script call). It is optional: without it, the
// roles' own calls write the parts one after the other.
type Batcher interface {
	// WriteBatch writes b's pairs, then its appends, then its acks, and
	// returns the appends' sequences in order. On error none is returned:
	// with sqlite nothing was written; with Redis a prefix of the writes,
	// in that order, may have been (an ack never without every pair and
	// append of b before it). ErrNoBatch (nothing written) means that the
	// backend cannot write b in one round trip as it is configured (Redis
	// Cluster, fences per owner, a batch too large): write the parts with
	// the roles' calls.
	WriteBatch(ctx context.Context, b Batch) (seqs []string, err error)
}

// ErrNoBatch is returned by Batcher.WriteBatch for a batch it cannot write
// in one round trip; nothing was written.
var ErrNoBatch = errors.New("store: batch not writable in one round trip")

// DefaultPendingLimit is the most items one Pending call returns.
const DefaultPendingLimit = 1000

// Store is everything a backend provides.
type Store interface {
	Accounts
	Contacts
	MessageIDs
	KV
	Queues
	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	io.Closer
}

// DefaultMessageIDTTL is how long id mappings live when no ttl is given.
const DefaultMessageIDTTL = 7 * 24 * time.Hour
