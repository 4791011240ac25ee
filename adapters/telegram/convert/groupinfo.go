package convert

import (
	"fmt"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// ChatPhotoHash is a group's or channel's avatar hash: the id of its
// photo, "" when it has none. It is the hash PhotoHash gives the photo of
// a service message that set it.
func ChatPhotoHash(p tg.ChatPhotoClass) string {
	if p, ok := p.(*tg.ChatPhoto); ok && p.PhotoID != 0 {
		return fmt.Sprintf("tg%d", p.PhotoID)
	}
	return ""
}

// PhotoHash is the avatar hash of a photo ("" for an empty one).
func PhotoHash(p tg.PhotoClass) string {
	if p, ok := p.(*tg.Photo); ok && p.ID != 0 {
		return fmt.Sprintf("tg%d", p.ID)
	}
	return ""
}

// ChangesInfo reports whether a service message's action changes what a
// room shows of its group: its title or its photo; or a forum topic: a
// new topic (a new room), a topic renamed, closed or reopened.
func ChangesInfo(action tg.MessageActionClass) bool {
	switch action.(type) {
	case *tg.MessageActionChatEditTitle, *tg.MessageActionChatEditPhoto, *tg.MessageActionChatDeletePhoto,
		*tg.MessageActionTopicCreate, *tg.MessageActionTopicEdit:
		return true
	}
	return false
}

// ServiceRoom is the room a service message changes: a basic group's, a
// channel's, or a forum topic's (a topic's creation is the topic).
func ServiceRoom(m *tg.MessageService) ids.ChatID {
	switch p := m.PeerID.(type) {
	case *tg.PeerChat:
		return GroupID(p.ChatID)
	case *tg.PeerChannel:
		if _, created := m.Action.(*tg.MessageActionTopicCreate); created {
			return TopicID(p.ChannelID, m.ID)
		}
		if _, edited := m.Action.(*tg.MessageActionTopicEdit); edited {
			return TopicID(p.ChannelID, topicOf(m.ReplyTo))
		}
		return TopicID(p.ChannelID, 0)
	}
	return ""
}

// GroupChange is the ChatInfo of a service message that changed a
// group's title or photo, or a forum topic: the group as it is now (gi,
// read after the change), with the new avatar hash when the photo
// changed ("" when it was removed), the read-only state when a topic was
// closed or reopened, and everything for a new topic (a new room).
func GroupChange(account ids.AccountID, gi gateway.GroupInfo, m *tg.MessageService) *event.ChatInfo {
	ev := &event.ChatInfo{
		Meta: event.Meta{Account: account, Chat: gi.Chat, Group: true, Sender: UserID(PeerUser(m.FromID)),
			FromMe: m.Out, Time: time.Unix(int64(m.Date), 0).UTC()},
		Name: gi.Name, Topic: gi.Topic, IsGroup: true,
	}
	switch a := m.Action.(type) {
	case *tg.MessageActionChatEditPhoto:
		h := PhotoHash(a.Photo)
		ev.AvatarHash = &h
	case *tg.MessageActionChatDeletePhoto:
		h := ""
		ev.AvatarHash = &h
	case *tg.MessageActionTopicCreate:
		h, ro := gi.AvatarHash, gi.ReadOnly
		ev.AvatarHash, ev.ReadOnly = &h, &ro
	case *tg.MessageActionTopicEdit:
		if _, ok := a.GetClosed(); ok {
			ro := gi.ReadOnly
			ev.ReadOnly = &ro
		}
	}
	for _, mem := range gi.Members {
		ev.Members = append(ev.Members, mem.User)
	}
	return ev
}
