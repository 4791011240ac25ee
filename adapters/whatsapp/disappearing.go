package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	gwstore "github.com/drawbridge-im/drawbridge/gateway/store"
)

// Disappearing messages: WhatsApp chats may have a timer after which
// their messages disappear from the phones. Every message sent into such
// a chat must carry the timer (ContextInfo.Expiration), or the apps show
// it as a message that does not disappear and say the sender's device is
// out of date. The session learns each chat's timer from the messages it
// receives (their ContextInfo.Expiration), from the setting changes
// (ProtocolMessage EPHEMERAL_SETTING, a group's ephemeral setting) and
// from group info, and keeps it in the account's KV so that it survives a
// restart. The owner is told when the timer changes. The gateway itself
// keeps the messages: XMPP has no disappearing messages.

// kvTimerPrefix prefixes the KV key of a chat's timer.
const kvTimerPrefix = "timer:"

// timerCap bounds the timers kept in memory (the KV keeps all).
const timerCap = 10_000

// chatTimers is the disappearing-message timer of each chat, in seconds.
type chatTimers struct {
	mu sync.Mutex
	m  map[ids.ChatID]uint32
}

// timer is chat's timer in seconds (0: off).
func (s *Session) timer(ctx context.Context, chat ids.ChatID) uint32 {
	s.timers.mu.Lock()
	secs, ok := s.timers.m[chat]
	s.timers.mu.Unlock()
	if ok {
		return secs
	}
	raw, err := s.host.KV(s.acct).Get(ctx, kvTimerPrefix+string(chat))
	if err == nil {
		if n, perr := strconv.ParseUint(string(raw), 10, 32); perr == nil {
			secs = uint32(n)
		}
	} else if !errors.Is(err, gwstore.ErrNotFound) {
		s.log.Warn("whatsapp: cannot read a chat's disappearing timer", "chat", chat, "err", err)
		return 0
	}
	s.cacheTimer(chat, secs)
	return secs
}

func (s *Session) cacheTimer(chat ids.ChatID, secs uint32) {
	s.timers.mu.Lock()
	defer s.timers.mu.Unlock()
	if s.timers.m == nil || len(s.timers.m) >= timerCap {
		s.timers.m = map[ids.ChatID]uint32{}
	}
	s.timers.m[chat] = secs
}

// setTimer records chat's timer and reports whether it changed.
func (s *Session) setTimer(ctx context.Context, chat ids.ChatID, secs uint32) bool {
	if chat == "" || s.timer(ctx, chat) == secs {
		return false
	}
	s.cacheTimer(chat, secs)
	kv := s.host.KV(s.acct)
	var err error
	if secs == 0 {
		err = kv.Delete(ctx, kvTimerPrefix+string(chat))
	} else {
		err = kv.Set(ctx, kvTimerPrefix+string(chat), []byte(strconv.FormatUint(uint64(secs), 10)))
	}
	if err != nil && !errors.Is(err, gwstore.ErrNotFound) {
		s.log.Warn("whatsapp: cannot store a chat's disappearing timer", "chat", chat, "err", err)
	}
	return true
}

// chatOfJID is the ChatID of a chat JID the session sends to.
func (s *Session) chatOfJID(ctx context.Context, jid types.JID) ids.ChatID {
	if jid.Server == types.GroupServer {
		return convert.GroupChat(ctx, s.env(), jid)
	}
	return s.users.ChatID(ctx, jid, types.EmptyJID)
}

// onMessageTimer learns a chat's timer from a received message. A
// setting change is handled here (a notice to the owner) and reported as
// handled; other messages go on to the converter.
func (s *Session) onMessageTimer(ctx context.Context, e *events.Message) (handled, ok bool) {
	pm := e.Message.GetProtocolMessage()
	if pm != nil && pm.GetType() == waE2E.ProtocolMessage_EPHEMERAL_SETTING {
		chat, sender, err := convert.Chat(ctx, s.env(), e.Info.MessageSource)
		if err != nil {
			s.logSkip(e.Info.ID, err)
			return true, true
		}
		secs := pm.GetEphemeralExpiration()
		if !s.setTimer(ctx, chat, secs) {
			// Already known (a group tells it twice: as a setting
			// message and as a group change): one notice is enough.
			return true, true
		}
		ref := waid.MessageRef{ID: e.Info.ID, FromMe: e.Info.IsFromMe}
		if e.Info.IsGroup && !e.Info.IsFromMe {
			ref.Participant = sender
		}
		return true, s.emit(ctx, &event.Message{
			Meta: event.Meta{Account: s.acct, Chat: chat, Sender: sender, FromMe: e.Info.IsFromMe, Time: e.Info.Timestamp, ID: ref.MessageID()},
			Body: timerNotice(s.whoChanged(ctx, e.Info.IsFromMe, e.Info.Sender), secs),
		})
	}
	if secs := messageExpiration(e.Message); secs > 0 {
		if chat, _, err := convert.Chat(ctx, s.env(), e.Info.MessageSource); err == nil {
			s.setTimer(ctx, chat, secs)
		}
	}
	return false, true
}

// onGroupTimer handles a group's timer being changed or read.
func (s *Session) onGroupTimer(ctx context.Context, e *events.GroupInfo) bool {
	secs := uint32(0)
	if e.Ephemeral.IsEphemeral {
		secs = e.Ephemeral.DisappearingTimer
	}
	chat := convert.GroupChat(ctx, s.env(), e.JID)
	if !s.setTimer(ctx, chat, secs) {
		return true
	}
	fromMe := false
	who := "Someone"
	var sender ids.UserID
	if e.Sender != nil {
		alt := types.EmptyJID
		if e.SenderPN != nil {
			alt = *e.SenderPN
		}
		sender = s.users.UserID(ctx, *e.Sender, alt)
		fromMe = sender == ids.UserID(s.acct)
		who = s.whoChanged(ctx, fromMe, *e.Sender)
	}
	at := e.Timestamp
	if at.IsZero() {
		at = s.a.now()
	}
	return s.emit(ctx, &event.Message{
		Meta: event.Meta{Account: s.acct, Chat: chat, Sender: sender, FromMe: fromMe, Time: at,
			ID: ids.MessageID(fmt.Sprintf("timer-%d", at.Unix()))},
		Body: timerNotice(who, secs),
	})
}

// noteGroupTimer records the timer of a group read from WhatsApp.
func (s *Session) noteGroupTimer(ctx context.Context, g *types.GroupInfo) {
	if g == nil {
		return
	}
	secs := uint32(0)
	if g.IsEphemeral {
		secs = g.DisappearingTimer
	}
	s.setTimer(ctx, convert.GroupChat(ctx, s.env(), g.JID), secs)
}

// whoChanged names who changed a timer.
func (s *Session) whoChanged(ctx context.Context, fromMe bool, jid types.JID) string {
	if fromMe {
		return "You (on your phone)"
	}
	if n := s.name(ctx, jid); n != "" {
		return n
	}
	if u := s.users.UserID(ctx, jid, types.EmptyJID); u != "" {
		return string(u)
	}
	return "Someone"
}

// timerNotice is the notice of a timer change.
func timerNotice(who string, secs uint32) string {
	if secs == 0 {
		return who + " turned off disappearing messages in this chat."
	}
	return fmt.Sprintf("%s turned on disappearing messages: new messages in this chat disappear from WhatsApp after %s. "+
		"The gateway keeps them on the XMPP side.", who, timerText(secs))
}

// timerText says a timer in words ("7 days", "24 hours").
func timerText(secs uint32) string {
	d := time.Duration(secs) * time.Second
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(secs), "second")
}

// messageExpiration is the timer a received message carries.
func messageExpiration(m *waE2E.Message) uint32 {
	if ci := contextInfo(m); ci != nil {
		return ci.GetExpiration()
	}
	return 0
}

// contextInfo is the ContextInfo of a message's content, creating none.
func contextInfo(m *waE2E.Message) *waE2E.ContextInfo {
	switch {
	case m.GetExtendedTextMessage() != nil:
		return m.ExtendedTextMessage.GetContextInfo()
	case m.GetImageMessage() != nil:
		return m.ImageMessage.GetContextInfo()
	case m.GetVideoMessage() != nil:
		return m.VideoMessage.GetContextInfo()
	case m.GetAudioMessage() != nil:
		return m.AudioMessage.GetContextInfo()
	case m.GetDocumentMessage() != nil:
		return m.DocumentMessage.GetContextInfo()
	case m.GetStickerMessage() != nil:
		return m.StickerMessage.GetContextInfo()
	case m.GetDocumentWithCaptionMessage() != nil:
		return contextInfo(m.DocumentWithCaptionMessage.GetMessage())
	case m.GetLocationMessage() != nil:
		return m.LocationMessage.GetContextInfo()
	case m.GetContactMessage() != nil:
		return m.ContactMessage.GetContextInfo()
	}
	return nil
}

// withTimer sets chat's timer on an outgoing content message (text,
// media); other messages (edits, reactions, deletions) are left alone. A
// plain text becomes an ExtendedTextMessage, which carries a ContextInfo.
func (s *Session) withTimer(ctx context.Context, to types.JID, m *waE2E.Message) *waE2E.Message {
	secs := s.timer(ctx, s.chatOfJID(ctx, to))
	if secs == 0 || m == nil {
		return m
	}
	if m.Conversation != nil {
		m = &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: m.Conversation}}
	}
	set := func(ci **waE2E.ContextInfo) {
		if *ci == nil {
			*ci = &waE2E.ContextInfo{}
		}
		(*ci).Expiration = proto.Uint32(secs)
	}
	inner := m
	if m.GetDocumentWithCaptionMessage() != nil {
		inner = m.DocumentWithCaptionMessage.GetMessage()
	}
	switch {
	case inner.GetExtendedTextMessage() != nil:
		set(&inner.ExtendedTextMessage.ContextInfo)
	case inner.GetImageMessage() != nil:
		set(&inner.ImageMessage.ContextInfo)
	case inner.GetVideoMessage() != nil:
		set(&inner.VideoMessage.ContextInfo)
	case inner.GetAudioMessage() != nil:
		set(&inner.AudioMessage.ContextInfo)
	case inner.GetDocumentMessage() != nil:
		set(&inner.DocumentMessage.ContextInfo)
	case inner.GetStickerMessage() != nil:
		set(&inner.StickerMessage.ContextInfo)
	}
	return m
}
