package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	gwstore "github.com/drawbridge-im/drawbridge/gateway/store"
)

// History: after linking, the phone sends the recent conversations in
// history sync blobs (events.HistorySync; INITIAL_BOOTSTRAP and RECENT
// first, FULL and ON_DEMAND later), newest message first. The session
// bridges the messages of the last history_days days, oldest first per
// chat, as event.Message with History set: the XMPP side delivers
// one-to-one messages stamped with their time and puts group messages
// into the room's archive. Each chat's newest bridged time is kept in the
// account's KV, so a blob sent again (WhatsApp repeats them; a restart
// replays what was not acknowledged) delivers nothing twice. Edits,
// reactions and deletions in the history are not replayed: they would
// name messages the owner may never have been shown.

// kvHistoryPrefix prefixes the KV key of a chat's history watermark.
const kvHistoryPrefix = "history:"

// onHistorySync bridges the messages of a history sync blob.
func (s *Session) onHistorySync(ctx context.Context, e *events.HistorySync) bool {
	switch e.Data.GetSyncType() {
	case waHistorySync.HistorySync_INITIAL_BOOTSTRAP, waHistorySync.HistorySync_RECENT,
		waHistorySync.HistorySync_FULL, waHistorySync.HistorySync_ON_DEMAND:
	default:
		s.log.Debug("whatsapp: history sync without messages", "type", e.Data.GetSyncType().String())
		return true
	}
	if s.cfg.historyDays <= 0 {
		s.log.Debug("whatsapp: history sync not bridged (history_days is 0)", "type", e.Data.GetSyncType().String())
		return true
	}
	cutoff := s.a.now().Add(-time.Duration(s.cfg.historyDays) * 24 * time.Hour)
	for _, conv := range e.Data.GetConversations() {
		if !s.historyOfChat(ctx, conv, cutoff) {
			return false
		}
	}
	return true
}

// historyOfChat bridges one conversation's recent messages, oldest first,
// after its watermark. It reports false when the hub did not take one
// (WhatsApp then sends the blob again).
func (s *Session) historyOfChat(ctx context.Context, conv *waHistorySync.Conversation, cutoff time.Time) bool {
	chatJID, err := types.ParseJID(conv.GetID())
	if err != nil || chatJID == types.StatusBroadcastJID || chatJID.Server == types.NewsletterServer || chatJID.IsBroadcastList() {
		return true
	}
	var msgs []*events.Message
	for _, hm := range conv.GetMessages() {
		evt, err := s.c.client.ParseWebMessage(chatJID, hm.GetMessage())
		if err != nil {
			s.log.Debug("whatsapp: history message not readable", "chat", chatJID, "err", err)
			continue
		}
		if evt.Info.Timestamp.Before(cutoff) || evt.Message == nil {
			continue
		}
		msgs = append(msgs, evt)
	}
	if len(msgs) == 0 {
		return true
	}
	slices.SortStableFunc(msgs, func(a, b *events.Message) int { return a.Info.Timestamp.Compare(b.Info.Timestamp) })
	chat := s.chatOfJID(ctx, chatJID)
	mark := s.loadHistoryMark(ctx, chat)
	for _, evt := range msgs {
		if mark.done(evt.Info.Timestamp, evt.Info.ID) {
			continue // bridged before
		}
		ev, err := convert.Message(ctx, s.mediaEnv(evt.Info), evt)
		if err != nil {
			s.logSkip(evt.Info.ID, err)
			continue
		}
		m, ok := ev.(*event.Message)
		if !ok {
			continue
		}
		m.History = true
		if !s.emit(ctx, m) {
			return false
		}
		mark = mark.add(evt.Info.Timestamp, evt.Info.ID)
		s.storeHistoryMark(ctx, chat, mark)
	}
	return true
}

// historyMark is how far a chat's history was bridged: the time of the
// newest message bridged and the ids bridged at that time (WhatsApp's
// times are in seconds; several messages may share one).
type historyMark struct {
	At  time.Time         `json:"at"`
	IDs []types.MessageID `json:"ids,omitempty"`
}

// done reports whether the message of time at and id was bridged.
func (m historyMark) done(at time.Time, id types.MessageID) bool {
	return at.Before(m.At) || at.Equal(m.At) && slices.Contains(m.IDs, id)
}

// add records the message of time at and id as bridged.
func (m historyMark) add(at time.Time, id types.MessageID) historyMark {
	if at.Equal(m.At) {
		return historyMark{At: at, IDs: append(slices.Clone(m.IDs), id)}
	}
	return historyMark{At: at, IDs: []types.MessageID{id}}
}

// loadHistoryMark reads how far chat's history was bridged.
func (s *Session) loadHistoryMark(ctx context.Context, chat ids.ChatID) historyMark {
	raw, err := s.host.KV(s.acct).Get(ctx, kvHistoryPrefix+string(chat))
	if err != nil {
		if !errors.Is(err, gwstore.ErrNotFound) {
			s.log.Warn("whatsapp: cannot read a chat's history mark", "chat", chat, "err", err)
		}
		return historyMark{}
	}
	var m historyMark
	if err := json.Unmarshal(raw, &m); err != nil {
		s.log.Warn("whatsapp: a chat's history mark is unreadable", "chat", chat, "err", err)
	}
	return m
}

// storeHistoryMark records how far chat's history was bridged.
func (s *Session) storeHistoryMark(ctx context.Context, chat ids.ChatID, m historyMark) {
	data, err := json.Marshal(m)
	if err == nil {
		err = s.host.KV(s.acct).Set(ctx, kvHistoryPrefix+string(chat), data)
	}
	if err != nil {
		s.log.Warn("whatsapp: cannot record a chat's history mark", "chat", chat, "err", err)
	}
}
