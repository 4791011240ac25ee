package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// The outbox is the durable copy of the retry queue (retry.go): every
// message queued for an unavailable platform is also written to the
// store's Queues, under the owner's outbox queue, and removed once it was
// sent or the user was told it was not. A process that stops or dies with
// messages queued restores them at its next start, with their original
// deadline, so the user still gets either the message sent or an error
// naming it.
//
// Outbox queues share the Queues role with the inbound journal; their
// names are the owner's JID behind outboxPrefix, which no bare JID starts
// with (':' is not allowed in a localpart, nor in a domain outside an IP
// literal), and the journal skips them.
const outboxPrefix = "outbox:"

// outboxVersion is the version of outboxItem; others are refused.
const outboxVersion = 1

func outboxOf(owner ids.Owner) ids.Owner { return ids.Owner(outboxPrefix + string(owner)) }

// isOutbox reports whether a queue name is an outbox, and whose.
func isOutbox(queue ids.Owner) (ids.Owner, bool) {
	o, ok := strings.CutPrefix(string(queue), outboxPrefix)
	return ids.Owner(o), ok
}

// outboxItem is one queued message as stored.
type outboxItem struct {
	Version  int             `json:"v"`
	Message  json.RawMessage `json:"m"` // a journal envelope (journal_codec.go)
	XMPPIDs  []string        `json:"x,omitempty"`
	Tag      string          `json:"g,omitempty"`
	Deadline time.Time       `json:"d"`
}

func encodeOutbox(it *retryItem) ([]byte, error) {
	msg, err := encodeJournal(it.Platform, it.Message)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(outboxItem{Version: outboxVersion, Message: msg, XMPPIDs: it.XMPPIDs, Tag: it.Tag, Deadline: it.deadline})
	if err != nil {
		return nil, fmt.Errorf("delivery: outbox item: %w", err)
	}
	return data, nil
}

func decodeOutbox(data []byte) (*retryItem, error) {
	var o outboxItem
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("delivery: outbox item: %w", err)
	}
	if o.Version != outboxVersion {
		return nil, fmt.Errorf("delivery: outbox item of version %d, want %d", o.Version, outboxVersion)
	}
	platform, ev, err := decodeJournal(o.Message)
	if err != nil {
		return nil, err
	}
	msg, ok := ev.(*event.Message)
	if !ok {
		return nil, fmt.Errorf("delivery: outbox item holds a %T, not a message", ev)
	}
	return &retryItem{Queued: Queued{Platform: platform, Message: msg, XMPPIDs: o.XMPPIDs, Tag: o.Tag, Restored: true}, deadline: o.Deadline}, nil
}

// persist writes it to owner's outbox. Without it the message is still
// queued in memory (the store being down is one reason the platform may be
// unreachable); only a crash before it is sent would lose it.
func (q *RetryQueue) persist(ctx context.Context, owner ids.Owner, it *retryItem) {
	data, err := encodeOutbox(it)
	if err == nil {
		it.seq, err = q.st.Enqueue(ctx, outboxOf(owner), data)
	}
	if err != nil {
		q.log.Warn("queued message kept in memory only", "owner", owner, "chat", it.Message.Chat, "id", it.XMPPIDs, "err", err)
	}
}

// forget removes a finished item from owner's outbox.
func (q *RetryQueue) forget(owner ids.Owner, it *retryItem) {
	if it.seq == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalAckTimeout)
	defer cancel()
	if err := q.st.Ack(ctx, outboxOf(owner), it.seq); err != nil {
		// It will be restored at the next start: the platform sees it
		// again unless Send recorded its id first (IDMap.PutNow).
		q.log.Warn("cannot remove a sent message from the outbox", "owner", owner, "seq", it.seq, "err", err)
	}
}

// Restore queues again, in order, what a previous process left in the
// outboxes. The hub calls it as it starts, before the XMPP side connects,
// so restored messages stay ahead of new ones of the same chats.
func (q *RetryQueue) Restore(ctx context.Context) {
	queues, err := q.st.PendingOwners(ctx)
	if err != nil {
		q.log.Error("cannot list queued messages to restore", "err", err)
		return
	}
	restored := 0
	for _, queue := range queues {
		owner, ok := isOutbox(queue)
		if !ok {
			continue
		}
		restored += q.restore(ctx, owner)
	}
	if restored > 0 {
		q.log.Info("restored queued messages", "messages", restored)
	}
}

// RestoreOwner is Restore for owner's outbox alone: a process taking
// owner over (StartOwner first) queues again what the previous owner left.
func (q *RetryQueue) RestoreOwner(ctx context.Context, owner ids.Owner) {
	if n := q.restore(ctx, owner); n > 0 {
		q.log.Info("restored queued messages", "owner", owner, "messages", n)
	}
}

// restore queues again what owner's outbox holds and returns how many.
func (q *RetryQueue) restore(ctx context.Context, owner ids.Owner) int {
	queue := outboxOf(owner)
	items, err := q.st.Pending(ctx, queue, store.DefaultPendingLimit)
	if err != nil {
		q.log.Error("cannot read queued messages to restore", "owner", owner, "err", err)
		return 0
	}
	restored := 0
	for _, si := range items {
		it, err := decodeOutbox(si.Data)
		if err != nil {
			q.log.Error("unreadable queued message dropped", "owner", owner, "seq", si.Seq, "err", err)
			if aerr := q.st.Ack(ctx, queue, si.Seq); aerr != nil {
				q.log.Warn("cannot remove an unreadable queued message", "owner", owner, "err", aerr)
			}
			continue
		}
		it.seq = si.Seq
		it.Sum = q.ids.Sum(it.Message)
		if !q.enqueue(owner, it) {
			q.log.Error("restored message over the queue's bounds; left for the next start", "owner", owner, "seq", si.Seq)
			continue
		}
		restored++
	}
	return restored
}
