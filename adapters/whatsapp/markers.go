package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	gwstore "github.com/drawbridge-im/drawbridge/gateway/store"
)

// XEP-0333 says a "displayed" marker covers every message up to the one
// it names, while WhatsApp marks read exactly the ids it is given. The
// session keeps, per chat, the ids of the contacts' messages not read yet
// (in the Host's key-value space, so that a restart keeps them) and marks
// all of them up to the target.

// kvUnreadPrefix starts the key of a chat's unread messages.
const kvUnreadPrefix = "unread/"

// Bounds of the unread lists: per chat the newest unreadCap messages
// (WhatsApp's own apps mark older ones read with the chat anyway), and
// unreadChatsCap chats in memory (the rest stays in the store).
const (
	unreadCap      = 256
	unreadChatsCap = 1024
)

// unreadMsg is a message of a contact not marked read yet.
type unreadMsg struct {
	// ID is WhatsApp's message id.
	ID types.MessageID `json:"i"`
	// Sender is the JID the author wrote with, in a group (MarkRead needs
	// it per author); empty in a one-to-one chat.
	Sender string `json:"s,omitempty"`
}

// unreadLists caches the lists of the chats seen.
type unreadLists struct {
	mu    sync.Mutex
	chats map[ids.ChatID][]unreadMsg
}

// list returns the unread list of chat (mu held), loading it from kv.
func (u *unreadLists) list(ctx context.Context, kv interface {
	Get(ctx context.Context, key string) ([]byte, error)
}, chat ids.ChatID) ([]unreadMsg, error) {
	if l, ok := u.chats[chat]; ok {
		return l, nil
	}
	var l []unreadMsg
	raw, err := kv.Get(ctx, kvUnreadPrefix+string(chat))
	switch {
	case errors.Is(err, gwstore.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("whatsapp: reading the unread messages of %s: %w", chat, err)
	default:
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, fmt.Errorf("whatsapp: the unread messages of %s are unreadable: %w", chat, err)
		}
	}
	if u.chats == nil || len(u.chats) >= unreadChatsCap {
		u.chats = map[ids.ChatID][]unreadMsg{}
	}
	u.chats[chat] = l
	return l, nil
}

// storeUnread saves the unread list of chat (s.unread.mu held).
func (s *Session) storeUnread(ctx context.Context, chat ids.ChatID, l []unreadMsg) error {
	s.unread.chats[chat] = l
	kv := s.host.KV(s.acct)
	if len(l) == 0 {
		return kv.Delete(ctx, kvUnreadPrefix+string(chat))
	}
	raw, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return kv.Set(ctx, kvUnreadPrefix+string(chat), raw)
}

// noteUnread records a contact's message as unread.
func (s *Session) noteUnread(ctx context.Context, chat ids.ChatID, id types.MessageID, sender types.JID, group bool) {
	m := unreadMsg{ID: id}
	if group {
		m.Sender = sender.ToNonAD().String()
	}
	s.unread.mu.Lock()
	defer s.unread.mu.Unlock()
	l, err := s.unread.list(ctx, s.host.KV(s.acct), chat)
	if err != nil {
		s.log.Warn("whatsapp: unread messages", "chat", chat, "err", err)
	}
	for _, old := range l {
		if old.ID == id {
			return
		}
	}
	l = append(l, m)
	if len(l) > unreadCap {
		l = append([]unreadMsg(nil), l[len(l)-unreadCap:]...)
	}
	if err := s.storeUnread(ctx, chat, l); err != nil {
		s.log.Warn("whatsapp: cannot keep an unread message", "chat", chat, "err", err)
	}
}

// markDisplayed marks read on WhatsApp the contacts' messages r names and
// every unread one before them in the chat, one MarkRead per author in a
// group.
func (s *Session) markDisplayed(ctx context.Context, r *event.Receipt, chat types.JID) error {
	group := chat.Server == types.GroupServer
	s.unread.mu.Lock()
	defer s.unread.mu.Unlock()
	l, err := s.unread.list(ctx, s.host.KV(s.acct), r.Chat)
	if err != nil {
		s.log.Warn("whatsapp: unread messages", "chat", r.Chat, "err", err)
	}
	upTo := -1
	var extra []unreadMsg // targets not in the list
	for _, t := range r.Targets {
		ref, err := waid.ParseMessageID(t)
		if err != nil || ref.FromMe {
			// The owner's own messages need no read marker.
			continue
		}
		if group && ref.Participant == "" {
			continue
		}
		found := false
		for i, m := range l {
			if m.ID == ref.ID {
				upTo, found = max(upTo, i), true
				break
			}
		}
		if found {
			continue
		}
		m := unreadMsg{ID: ref.ID}
		if group {
			jid, err := s.participantJID(ctx, r.Chat, ref.Participant)
			if err != nil {
				continue
			}
			m.Sender = jid.String()
		}
		extra = append(extra, m)
	}
	read := append(append([]unreadMsg(nil), l[:upTo+1]...), extra...)
	if len(read) == 0 {
		return nil
	}
	var senders []string
	bySender := map[string][]types.MessageID{}
	for _, m := range read {
		if _, ok := bySender[m.Sender]; !ok {
			senders = append(senders, m.Sender)
		}
		bySender[m.Sender] = append(bySender[m.Sender], m.ID)
	}
	at := r.Time
	if at.IsZero() {
		at = s.a.now()
	}
	for _, from := range senders {
		sender := types.EmptyJID
		if group {
			jid, err := types.ParseJID(from)
			if err != nil {
				continue
			}
			sender = jid
		}
		if err := s.c.client.MarkRead(ctx, bySender[from], at, chat, sender); err != nil {
			return sendErr("marking messages read", err)
		}
	}
	if upTo >= 0 {
		if err := s.storeUnread(ctx, r.Chat, append([]unreadMsg(nil), l[upTo+1:]...)); err != nil {
			s.log.Warn("whatsapp: cannot forget read messages", "chat", r.Chat, "err", err)
		}
	}
	return nil
}

// readElsewhere forgets the unread messages up to those the owner read on
// another device (the phone).
func (s *Session) readElsewhere(ctx context.Context, e *events.Receipt) {
	if !e.IsFromMe || e.Type != types.ReceiptTypeRead && e.Type != types.ReceiptTypeReadSelf {
		return
	}
	chat, _, err := convert.Chat(ctx, s.env(), e.MessageSource)
	if err != nil {
		return
	}
	s.unread.mu.Lock()
	defer s.unread.mu.Unlock()
	l, err := s.unread.list(ctx, s.host.KV(s.acct), chat)
	if err != nil || len(l) == 0 {
		return
	}
	upTo := -1
	for i, m := range l {
		if slices.Contains(e.MessageIDs, m.ID) {
			upTo = i
		}
	}
	if upTo < 0 {
		return
	}
	if err := s.storeUnread(ctx, chat, append([]unreadMsg(nil), l[upTo+1:]...)); err != nil {
		s.log.Warn("whatsapp: cannot forget read messages", "chat", chat, "err", err)
	}
}
