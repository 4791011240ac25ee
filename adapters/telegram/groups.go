package telegram

import (
	"context"
	"fmt"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Basic groups, supergroups, broadcast channels and forum topics are
// rooms: their messages both ways, their name, "about" text as topic and
// members with roles (channels.go for the last three). Managing them from
// XMPP (topic, members, roles, leaving, creating) is in manage.go.

// IsGroup implements gateway.GroupManager.
func (s *Session) IsGroup(chat ids.ChatID) bool {
	_, group := convert.ParseGroup(chat)
	_, _, channel := convert.ParseChannel(chat)
	return group || channel
}

// ListGroups implements gateway.GroupManager: the basic groups,
// supergroups and channels among the account's dialogs, and each topic
// of a forum.
func (s *Session) ListGroups(ctx context.Context) ([]gateway.GroupInfo, error) {
	api, err := s.client()
	if err != nil {
		return nil, err
	}
	res, err := api.MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 100})
	if err != nil {
		return nil, s.sendError("list dialogs", err)
	}
	var chats []tg.ChatClass
	switch d := res.(type) {
	case *tg.MessagesDialogs:
		chats = d.Chats
	case *tg.MessagesDialogsSlice:
		chats = d.Chats
	}
	s.learnChannels(ctx, chats)
	var out []gateway.GroupInfo
	for _, c := range chats {
		if ch, ok := c.(*tg.Channel); ok && !ch.Left {
			gis, err := s.channelGroups(ctx, api, ch)
			if err != nil {
				return nil, err
			}
			out = append(out, gis...)
			continue
		}
		chat, ok := c.(*tg.Chat)
		if !ok || chat.Left || chat.Deactivated {
			continue
		}
		gi, err := s.GroupInfo(ctx, convert.GroupID(chat.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, gi)
	}
	return out, nil
}

// GroupInfo implements gateway.GroupManager.
func (s *Session) GroupInfo(ctx context.Context, chat ids.ChatID) (gateway.GroupInfo, error) {
	if !s.IsGroup(chat) {
		return gateway.GroupInfo{}, fmt.Errorf("telegram: %s is not a group: %w", chat, gateway.ErrUnknownChat)
	}
	api, err := s.client()
	if err != nil {
		return gateway.GroupInfo{}, err
	}
	if ch, topic, ok := convert.ParseChannel(chat); ok {
		return s.channelInfo(ctx, api, ch, topic)
	}
	id, _ := convert.ParseGroup(chat)
	full, err := api.MessagesGetFullChat(ctx, id)
	if tgErrIs(err, "CHAT_ID_INVALID", "PEER_ID_INVALID") {
		return gateway.GroupInfo{}, fmt.Errorf("telegram: group %s: %w", chat, gateway.ErrUnknownChat)
	}
	if err != nil {
		return gateway.GroupInfo{}, s.sendError("group info", err)
	}
	// Not announced: the hub may be asking while it handles one of this
	// session's events (a membership change), which holds upd.
	s.learnUsers(ctx, full.Users)
	return convert.Group(full, s.self), nil
}
