package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Chat queues: whatsmeow hands events to the session one at a time, on
// one goroutine, and acknowledges a message only when the handler returns
// (SynchronousAck). The hub delivers a message inside Host.Emit, and for
// a file that includes downloading it from WhatsApp's media servers
// (Attachment.Open): a large or slow download would hold every chat of
// the account. So a message with files does not go to the hub on that
// goroutine: it is written to the account's key-value space ("chat_queue")
// and acknowledged, and a goroutine of its chat emits it; the chat's later
// messages (texts, edits, reactions, retractions) queue behind it while
// the queue is not empty, so that order within a chat is kept, and other
// chats go on. An item leaves the key-value space only once the hub took
// it; a restart or a disconnection leaves it there, and the next Connect
// emits it again (the hub drops a message it already has). The store
// keeps the message's protobuf, not its converted event: the file is
// downloaded from the protobuf's direct path and media key whenever the
// hub opens it.

// kvChatQueue is the key of the queued messages in the account's space.
const kvChatQueue = "chat_queue"

// ChatQueueCap bounds the messages waiting in an account's chat queues
// (they are stored as one value, rewritten at each change). Beyond it a
// message is not acknowledged: WhatsApp offers it again later.
const ChatQueueCap = 256

// chatQueueRetry bounds the wait between two tries of an item the hub
// refused for a reason that may pass.
var chatQueueRetry = [2]time.Duration{time.Second, time.Minute}

// queuedMessage is a message waiting in its chat's queue, as kept in the
// key-value space.
type queuedMessage struct {
	Seq  uint64            `json:"seq"`
	Chat ids.ChatID        `json:"chat"`
	Info types.MessageInfo `json:"info"`
	// Raw is the message's protobuf as whatsmeow received it (before
	// unwrapping ephemeral and view-once wrappers).
	Raw []byte `json:"raw"`

	ev event.Event // the converted event, when queued by this process
}

// chatQueues are the session's chat queues.
type chatQueues struct {
	mu      sync.Mutex
	next    uint64
	items   []*queuedMessage                // every queued item, in order, as stored
	running map[ids.ChatID][]*queuedMessage // the items of each chat with a worker
	wg      sync.WaitGroup
}

// hasFiles reports whether ev carries files the hub will download.
func hasFiles(ev event.Event) bool {
	m, ok := ev.(*event.Message)
	if !ok {
		return false
	}
	for _, a := range m.Attachments {
		if a.Open != nil {
			return true
		}
	}
	return false
}

// emitInChat hands a converted message to the hub: directly, or through
// its chat's queue when it has files or the queue is not empty. It reports
// whether whatsmeow may acknowledge the message.
func (s *Session) emitInChat(ctx context.Context, e *events.Message, ev event.Event) bool {
	chat := ev.EventMeta().Chat
	q := &s.chatq
	q.mu.Lock()
	_, busy := q.running[chat]
	q.mu.Unlock()
	if !busy && !hasFiles(ev) {
		return s.emit(ctx, ev)
	}
	raw := e.RawMessage
	if raw == nil {
		raw = e.Message
	}
	data, err := proto.Marshal(raw)
	if err != nil {
		s.log.Warn("whatsapp: cannot queue a message", "id", e.Info.ID, "err", err)
		return s.emit(ctx, ev)
	}
	item := &queuedMessage{Chat: chat, Info: e.Info, Raw: data, ev: ev}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) >= ChatQueueCap {
		s.log.Warn("whatsapp: chat queues full; the message is left to WhatsApp to offer again", "id", e.Info.ID, "queued", len(q.items))
		return false
	}
	q.next++
	item.Seq = q.next
	if err := s.saveQueueLocked(ctx, append(q.items, item)); err != nil {
		// Not durable: not acknowledged, WhatsApp sends it again.
		s.log.Warn("whatsapp: cannot queue a message", "id", e.Info.ID, "err", err)
		return false
	}
	q.items = append(q.items, item)
	s.startLaneLocked(ctx, item)
	return true
}

// startLaneLocked appends item to its chat's worker, starting one if the
// chat has none; q.mu must be held.
func (s *Session) startLaneLocked(ctx context.Context, item *queuedMessage) {
	q := &s.chatq
	if q.running == nil {
		q.running = map[ids.ChatID][]*queuedMessage{}
	}
	pending, busy := q.running[item.Chat]
	q.running[item.Chat] = append(pending, item)
	if !busy {
		q.wg.Go(func() { s.runLane(ctx, item.Chat) })
	}
}

// runLane emits the items of one chat in order until none is left or ctx
// ends (the items left stay stored for the next Connect).
func (s *Session) runLane(ctx context.Context, chat ids.ChatID) {
	q := &s.chatq
	for {
		q.mu.Lock()
		pending := q.running[chat]
		if len(pending) == 0 || ctx.Err() != nil {
			delete(q.running, chat)
			q.mu.Unlock()
			return
		}
		item := pending[0]
		q.mu.Unlock()
		if !s.emitQueued(ctx, item) {
			q.mu.Lock()
			delete(q.running, chat)
			q.mu.Unlock()
			return
		}
		q.mu.Lock()
		q.running[chat] = q.running[chat][1:]
		rest := make([]*queuedMessage, 0, len(q.items))
		for _, it := range q.items {
			if it != item {
				rest = append(rest, it)
			}
		}
		if err := s.saveQueueLocked(context.WithoutCancel(ctx), rest); err != nil {
			// The item stays stored: emitted again after a restart, and
			// the hub drops what it has already.
			s.log.Warn("whatsapp: cannot remove a delivered message from its queue", "id", item.Info.ID, "err", err)
		}
		q.items = rest
		q.mu.Unlock()
	}
}

// emitQueued emits one item, trying again while the hub refuses it for a
// reason that may pass. It returns false if ctx ended first.
func (s *Session) emitQueued(ctx context.Context, item *queuedMessage) bool {
	wait := chatQueueRetry[0]
	for {
		ev := item.ev
		if ev == nil {
			var err error
			if ev, err = s.convertQueued(ctx, item); err != nil {
				s.logSkip(item.Info.ID, err)
				return true
			}
			item.ev = ev
		}
		if s.emit(ctx, ev) {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, chatQueueRetry[1])
	}
}

// convertQueued converts a stored item again (after a restart).
func (s *Session) convertQueued(ctx context.Context, item *queuedMessage) (event.Event, error) {
	var raw waE2E.Message
	if err := proto.Unmarshal(item.Raw, &raw); err != nil {
		return nil, fmt.Errorf("whatsapp: queued message %s: %w", item.Info.ID, err)
	}
	e := (&events.Message{Info: item.Info, RawMessage: &raw}).UnwrapRaw()
	return convert.Message(ctx, s.mediaEnv(e.Info), e)
}

// saveQueueLocked stores the queue; q.mu must be held.
func (s *Session) saveQueueLocked(ctx context.Context, items []*queuedMessage) error {
	kv := s.host.KV(s.acct)
	if len(items) == 0 {
		if err := kv.Delete(ctx, kvChatQueue); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("whatsapp: chat queue: %w", err)
		}
		return nil
	}
	data, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("whatsapp: chat queue: %w", err)
	}
	if err := kv.Set(ctx, kvChatQueue, data); err != nil {
		return fmt.Errorf("whatsapp: chat queue: %w", err)
	}
	return nil
}

// resumeChatQueues starts the workers of the items a previous connection
// or process left, before new events are handled.
func (s *Session) resumeChatQueues(ctx context.Context) {
	q := &s.chatq
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		raw, err := s.host.KV(s.acct).Get(ctx, kvChatQueue)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.log.Warn("whatsapp: cannot read the chat queue", "err", err)
			}
			return
		}
		if err := json.Unmarshal(raw, &q.items); err != nil {
			s.log.Error("whatsapp: unreadable chat queue dropped", "err", err)
			q.items = nil
			return
		}
		for _, it := range q.items {
			q.next = max(q.next, it.Seq)
		}
	}
	for _, it := range q.items {
		s.startLaneLocked(ctx, it)
	}
}

// waitChatQueues waits for the chat workers to stop (their context ended).
func (s *Session) waitChatQueues() { s.chatq.wg.Wait() }
