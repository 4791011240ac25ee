package gateway

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
	msg, err := encodeJournal(it.platform, it.msg)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(outboxItem{Version: outboxVersion, Message: msg, XMPPIDs: it.xmppIDs, Tag: it.tag, Deadline: it.deadline})
	if err != nil {
		return nil, fmt.Errorf("gateway: outbox item: %w", err)
	}
	return data, nil
}

func decodeOutbox(data []byte) (*retryItem, error) {
	var o outboxItem
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("gateway: outbox item: %w", err)
	}
	if o.Version != outboxVersion {
		return nil, fmt.Errorf("gateway: outbox item of version %d, want %d", o.Version, outboxVersion)
	}
	platform, ev, err := decodeJournal(o.Message)
	if err != nil {
		return nil, err
	}
	msg, ok := ev.(*event.Message)
	if !ok {
		return nil, fmt.Errorf("gateway: outbox item holds a %T, not a message", ev)
	}
	return &retryItem{platform: platform, msg: msg, xmppIDs: o.XMPPIDs, tag: o.Tag, deadline: o.Deadline, restored: true}, nil
}

// persist writes it to owner's outbox. Without it the message is still
// queued in memory (the store being down is one reason the platform may be
// unreachable); only a crash before it is sent would lose it.
func (q *retryQueue) persist(ctx context.Context, owner ids.Owner, it *retryItem) {
	data, err := encodeOutbox(it)
	if err == nil {
		it.seq, err = q.g.store.Enqueue(ctx, outboxOf(owner), data)
	}
	if err != nil {
		q.g.log.Warn("queued message kept in memory only", "owner", owner, "chat", it.msg.Chat, "id", it.xmppIDs, "err", err)
	}
}

// forget removes a finished item from owner's outbox.
func (q *retryQueue) forget(owner ids.Owner, it *retryItem) {
	if it.seq == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalAckTimeout)
	defer cancel()
	if err := q.g.store.Ack(ctx, outboxOf(owner), it.seq); err != nil {
		// It will be restored at the next start: the platform sees it
		// again unless the hub recorded its id first (sendQueued).
		q.g.log.Warn("cannot remove a sent message from the outbox", "owner", owner, "seq", it.seq, "err", err)
	}
}

// restore queues again, in order, what a previous process left in the
// outboxes. It runs at Start, before the XMPP side connects, so restored
// messages stay ahead of new ones of the same chats.
func (q *retryQueue) restore(ctx context.Context) {
	queues, err := q.g.store.PendingOwners(ctx)
	if err != nil {
		q.g.log.Error("cannot list queued messages to restore", "err", err)
		return
	}
	restored := 0
	for _, queue := range queues {
		owner, ok := isOutbox(queue)
		if !ok {
			continue
		}
		items, err := q.g.store.Pending(ctx, queue, store.DefaultPendingLimit)
		if err != nil {
			q.g.log.Error("cannot read queued messages to restore", "owner", owner, "err", err)
			continue
		}
		for _, si := range items {
			it, err := decodeOutbox(si.Data)
			if err != nil {
				q.g.log.Error("unreadable queued message dropped", "owner", owner, "seq", si.Seq, "err", err)
				if aerr := q.g.store.Ack(ctx, queue, si.Seq); aerr != nil {
					q.g.log.Warn("cannot remove an unreadable queued message", "owner", owner, "err", aerr)
				}
				continue
			}
			it.seq = si.Seq
			it.sum = q.g.idmap.Sum(it.msg)
			if !q.enqueue(owner, it) {
				q.g.log.Error("restored message over the queue's bounds; left for the next start", "owner", owner, "seq", si.Seq)
				continue
			}
			restored++
		}
	}
	if restored > 0 {
		q.g.log.Info("restored queued messages", "messages", restored)
	}
}
