package convert

import (
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// PeerUser returns the user a peer names, or 0 for groups and channels
// (not bridged yet).
func PeerUser(p tg.PeerClass) int64 {
	if u, ok := p.(*tg.PeerUser); ok {
		return u.UserID
	}
	return 0
}

// Chat returns the one-to-one chat a message belongs to (the other user),
// or 0 if it is not a one-to-one message.
func Chat(m *tg.Message) int64 { return PeerUser(m.PeerID) }

// meta is the Meta of a one-to-one message of account self.
func meta(account ids.AccountID, self int64, m *tg.Message) event.Meta {
	chat := Chat(m)
	sender := chat
	if m.Out {
		sender = self
	} else if from, ok := m.GetFromID(); ok && PeerUser(from) != 0 {
		sender = PeerUser(from)
	}
	return event.Meta{
		Account: account, Chat: ChatID(chat), Sender: UserID(sender), FromMe: m.Out,
		Time: time.Unix(int64(m.Date), 0).UTC(), ID: MessageID(m.ID),
	}
}

// Message converts a one-to-one message of the account of user self.
// Media the gateway does not carry yet are named in the body, so that
// nothing arrives as silence.
func Message(account ids.AccountID, self int64, m *tg.Message) *event.Message {
	ev := &event.Message{Meta: meta(account, self, m), Body: Styled(m.Message, m.Entities)}
	if h, ok := m.ReplyTo.(*tg.MessageReplyHeader); ok && h.ReplyToMsgID != 0 {
		ev.ReplyTo = MessageID(h.ReplyToMsgID)
	}
	if note := mediaNote(m.Media); note != "" {
		if ev.Body != "" {
			ev.Body += "\n"
		}
		ev.Body += note
	}
	return ev
}

// Edit converts an edited one-to-one message.
func Edit(account ids.AccountID, self int64, m *tg.Message) *event.Edit {
	mt := meta(account, self, m)
	if m.EditDate != 0 {
		mt.Time = time.Unix(int64(m.EditDate), 0).UTC()
	}
	target := mt.ID
	mt.ID = ""
	return &event.Edit{Meta: mt, Target: target, Body: Styled(m.Message, m.Entities)}
}

// mediaNote names a medium the gateway does not bridge yet.
func mediaNote(m tg.MessageMediaClass) string {
	switch m.(type) {
	case nil, *tg.MessageMediaEmpty, *tg.MessageMediaWebPage:
		return ""
	case *tg.MessageMediaPhoto:
		return "[a photo, not shown by this gateway yet: open Telegram to see it]"
	case *tg.MessageMediaDocument:
		return "[a file, not shown by this gateway yet: open Telegram to see it]"
	case *tg.MessageMediaGeo, *tg.MessageMediaGeoLive, *tg.MessageMediaVenue:
		return "[a location, not shown by this gateway yet: open Telegram to see it]"
	case *tg.MessageMediaContact:
		return "[a contact card, not shown by this gateway yet: open Telegram to see it]"
	}
	return "[a message this gateway cannot show yet: open Telegram to see it]"
}

// Retract converts the deletion of message id of chat.
func Retract(account ids.AccountID, chat, sender int64, id int, when time.Time) *event.Retract {
	return &event.Retract{
		Meta:   event.Meta{Account: account, Chat: ChatID(chat), Sender: UserID(sender), Time: when},
		Target: MessageID(id),
	}
}

// ReadOutbox converts "the peer read your messages up to maxID": a
// displayed receipt for maxID, which XEP-0333 already means as "this one
// and everything before it".
func ReadOutbox(account ids.AccountID, u *tg.UpdateReadHistoryOutbox, when time.Time) *event.Receipt {
	peer := PeerUser(u.Peer)
	return &event.Receipt{
		Meta:    event.Meta{Account: account, Chat: ChatID(peer), Sender: UserID(peer), Time: when},
		Kind:    event.Displayed,
		Targets: []ids.MessageID{MessageID(u.MaxID)},
	}
}

// ChatState converts a typing notification.
func ChatState(account ids.AccountID, u *tg.UpdateUserTyping, when time.Time) *event.ChatState {
	state := event.Composing
	if _, ok := u.Action.(*tg.SendMessageCancelAction); ok {
		state = event.Paused
	}
	return &event.ChatState{
		Meta:  event.Meta{Account: account, Chat: ChatID(u.UserID), Sender: UserID(u.UserID), Time: when},
		State: state,
	}
}

// TypingAction converts an XMPP chat state for messages.setTyping.
func TypingAction(s event.ChatStateKind) tg.SendMessageActionClass {
	if s == event.Composing {
		return &tg.SendMessageTypingAction{}
	}
	return &tg.SendMessageCancelAction{}
}

// Contact converts a Telegram user for the roster.
func Contact(account ids.AccountID, u *tg.User, when time.Time) *event.ContactInfo {
	name := u.FirstName
	if u.LastName != "" {
		if name != "" {
			name += " "
		}
		name += u.LastName
	}
	if name == "" && u.Username != "" {
		name = "@" + u.Username
	}
	c := &event.ContactInfo{Meta: event.Meta{Account: account, Sender: UserID(u.ID), Time: when}, Name: name}
	if u.Phone != "" {
		c.Phone = "+" + u.Phone
	}
	return c
}

// Reaction converts the reactions on a one-to-one message into the full
// set of who's reactions on it (empty: who took theirs away).
func Reaction(account ids.AccountID, u *tg.UpdateMessageReactions, who int64, when time.Time) *event.Reaction {
	chat := PeerUser(u.Peer)
	emojis := []string{}
	for _, r := range u.Reactions.RecentReactions {
		if PeerUser(r.PeerID) != who {
			continue
		}
		if e, ok := r.Reaction.(*tg.ReactionEmoji); ok {
			emojis = append(emojis, e.Emoticon)
		}
	}
	return &event.Reaction{
		Meta:   event.Meta{Account: account, Chat: ChatID(chat), Sender: UserID(who), FromMe: who != chat, Time: when},
		Target: MessageID(u.MsgID),
		Emojis: emojis,
	}
}

// Reactions converts an XMPP reaction set for messages.sendReaction.
func Reactions(emojis []string) []tg.ReactionClass {
	out := make([]tg.ReactionClass, 0, len(emojis))
	for _, e := range emojis {
		out = append(out, &tg.ReactionEmoji{Emoticon: e})
	}
	return out
}

// Presence converts a user's online status: online is available; offline
// is unavailable with the last-seen time when Telegram shares it, and
// "recently", "within a week", "within a month" (the user hides the
// exact time) are unavailable, with Status saying which.
func Presence(account ids.AccountID, user int64, status tg.UserStatusClass, when time.Time) *event.Presence {
	p := &event.Presence{Meta: event.Meta{Account: account, Sender: UserID(user), Time: when}}
	switch st := status.(type) {
	case *tg.UserStatusOnline:
		p.Available = true
	case *tg.UserStatusOffline:
		p.LastSeen = time.Unix(int64(st.WasOnline), 0).UTC()
	case *tg.UserStatusRecently:
		p.Status = "last seen recently"
	case *tg.UserStatusLastWeek:
		p.Status = "last seen within a week"
	case *tg.UserStatusLastMonth:
		p.Status = "last seen within a month"
	}
	return p
}
