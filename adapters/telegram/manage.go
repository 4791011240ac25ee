package telegram

import (
	"context"
	"fmt"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Managing groups from XMPP: the description (topic), adding, removing,
// promoting and demoting members, leaving, creating basic groups. A
// basic group is managed with messages.* calls, a supergroup or channel
// with channels.* calls; a forum topic's room manages its forum.
//
// What Telegram answers with updates (the service messages of members
// added, removed or leaving) is applied like a push, so the hub hears of
// it once, in order. What Telegram tells no client as news (a new
// description, a promotion, leaving a supergroup) the session announces
// itself after Telegram accepted it: a ChatInfo, a MembershipChange.

// managed names the group a management call is about: a basic group's
// id, or a channel's (0 for the other).
func (s *Session) managed(chat ids.ChatID) (group, channel int64, err error) {
	if g, ok := convert.ParseGroup(chat); ok {
		return g, 0, nil
	}
	if c, _, ok := convert.ParseChannel(chat); ok {
		return 0, c, nil
	}
	return 0, 0, fmt.Errorf("telegram: %s is not a group: %w", chat, gateway.ErrUnknownChat)
}

// inputUser returns a user with the access hash the account learnt.
func (s *Session) inputUser(ctx context.Context, user ids.UserID) (*tg.InputUser, error) {
	peer, err := s.inputPeer(ctx, ids.ChatID(user))
	if err != nil {
		return nil, err
	}
	p, ok := peer.(*tg.InputPeerUser)
	if !ok {
		return nil, fmt.Errorf("telegram: %s is not a user: %w", user, gateway.ErrUnknownChat)
	}
	return &tg.InputUser{UserID: p.UserID, AccessHash: p.AccessHash}, nil
}

// manageError makes a Telegram refusal of a management call readable.
func (s *Session) manageError(what string, err error) error {
	if tgErrIs(err, "CHAT_ADMIN_REQUIRED", "CHAT_WRITE_FORBIDDEN", "USER_NOT_PARTICIPANT", "RIGHT_FORBIDDEN",
		"USER_PRIVACY_RESTRICTED", "USER_ADMIN_INVALID", "CHAT_ABOUT_NOT_MODIFIED") {
		return fmt.Errorf("telegram: %s: %w: %w", what, err, gateway.ErrForbidden)
	}
	if tgErrIs(err, "CHAT_ID_INVALID", "CHANNEL_INVALID", "CHANNEL_PRIVATE", "PEER_ID_INVALID") {
		return fmt.Errorf("telegram: %s: %w: %w", what, err, gateway.ErrUnknownChat)
	}
	return s.sendError(what, err)
}

// applyResult handles the updates Telegram answers a management call
// with, as a push.
func (s *Session) applyResult(ctx context.Context, res tg.UpdatesClass) {
	if res == nil {
		return
	}
	if err := s.handleUpdates(ctx, res); err != nil {
		s.host.Logger().Warn("telegram: the updates of a group change were not handled; the next catch-up brings them", "account", s.acct, "err", err)
	}
}

// announce emits an event of the account's own change in a group.
func (s *Session) announce(ctx context.Context, ev event.Event) error {
	if err := s.emit(ctx, ev); err != nil {
		return fmt.Errorf("telegram: the change was made on Telegram but not announced: %w", err)
	}
	return nil
}

func (s *Session) ownMeta(chat ids.ChatID) event.Meta {
	return event.Meta{Account: s.acct, Chat: chat, Group: true, Sender: convert.UserID(s.self), FromMe: true, Time: time.Now().UTC()}
}

// SetGroupTopic implements gateway.GroupManager: the group's description
// ("about"), then announced with the group as it is now.
func (s *Session) SetGroupTopic(ctx context.Context, chat ids.ChatID, topic string) error {
	if _, _, err := s.managed(chat); err != nil {
		return err
	}
	api, err := s.client()
	if err != nil {
		return err
	}
	peer, err := s.inputPeer(ctx, chat)
	if err != nil {
		return err
	}
	if _, err := api.MessagesEditChatAbout(ctx, &tg.MessagesEditChatAboutRequest{Peer: peer, About: topic}); err != nil {
		return s.manageError("change the description of "+string(chat), err)
	}
	gi, err := s.GroupInfo(ctx, chat)
	if err != nil {
		return fmt.Errorf("telegram: description changed, group not read again: %w", err)
	}
	ev := &event.ChatInfo{Meta: s.ownMeta(chat), Name: gi.Name, Topic: gi.Topic, IsGroup: true}
	for _, m := range gi.Members {
		ev.Members = append(ev.Members, m.User)
	}
	return s.announce(ctx, ev)
}

// AddMember implements gateway.GroupManager: the user is added to a
// basic group, invited to a supergroup or channel.
func (s *Session) AddMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	group, channel, err := s.managed(chat)
	if err != nil {
		return err
	}
	api, err := s.client()
	if err != nil {
		return err
	}
	in, err := s.inputUser(ctx, user)
	if err != nil {
		return err
	}
	var res *tg.MessagesInvitedUsers
	if channel != 0 {
		ch, err := s.inputChannel(ctx, channel)
		if err != nil {
			return err
		}
		res, err = api.ChannelsInviteToChannel(ctx, &tg.ChannelsInviteToChannelRequest{Channel: ch, Users: []tg.InputUserClass{in}})
		if err != nil {
			return s.manageError("invite "+string(user)+" to "+string(chat), err)
		}
	} else {
		res, err = api.MessagesAddChatUser(ctx, &tg.MessagesAddChatUserRequest{ChatID: group, UserID: in, FwdLimit: 50})
		if err != nil {
			return s.manageError("add "+string(user)+" to "+string(chat), err)
		}
	}
	if len(res.MissingInvitees) > 0 {
		return fmt.Errorf("telegram: %s may not be added to groups by others (privacy settings): %w", user, gateway.ErrForbidden)
	}
	s.applyResult(ctx, res.Updates)
	return nil
}

// RemoveMember implements gateway.GroupManager: removed from a basic
// group, banned from a supergroup or channel.
func (s *Session) RemoveMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	group, channel, err := s.managed(chat)
	if err != nil {
		return err
	}
	api, err := s.client()
	if err != nil {
		return err
	}
	in, err := s.inputUser(ctx, user)
	if err != nil {
		return err
	}
	var res tg.UpdatesClass
	if channel != 0 {
		ch, err := s.inputChannel(ctx, channel)
		if err != nil {
			return err
		}
		rights := tg.ChatBannedRights{ViewMessages: true}
		rights.SetFlags()
		res, err = api.ChannelsEditBanned(ctx, &tg.ChannelsEditBannedRequest{Channel: ch,
			Participant: &tg.InputPeerUser{UserID: in.UserID, AccessHash: in.AccessHash}, BannedRights: rights})
		if err != nil {
			return s.manageError("remove "+string(user)+" from "+string(chat), err)
		}
	} else {
		res, err = api.MessagesDeleteChatUser(ctx, &tg.MessagesDeleteChatUserRequest{ChatID: group, UserID: in})
		if err != nil {
			return s.manageError("remove "+string(user)+" from "+string(chat), err)
		}
	}
	s.applyResult(ctx, res)
	return nil
}

// SetMemberRole implements gateway.GroupManager: promoted to admin (with
// the rights an admin of the group usually has) or demoted, then
// announced (Telegram tells no client of it as a message).
func (s *Session) SetMemberRole(ctx context.Context, chat ids.ChatID, user ids.UserID, role gateway.GroupRole) error {
	if role != gateway.RoleAdmin && role != gateway.RoleMember {
		return fmt.Errorf("telegram: a member can be made admin or member, not %s: %w", role, gateway.ErrNotSupported)
	}
	group, channel, err := s.managed(chat)
	if err != nil {
		return err
	}
	api, err := s.client()
	if err != nil {
		return err
	}
	in, err := s.inputUser(ctx, user)
	if err != nil {
		return err
	}
	admin := role == gateway.RoleAdmin
	if channel != 0 {
		ch, err := s.inputChannel(ctx, channel)
		if err != nil {
			return err
		}
		var rights tg.ChatAdminRights
		if admin {
			rights = tg.ChatAdminRights{ChangeInfo: true, DeleteMessages: true, BanUsers: true, InviteUsers: true, PinMessages: true, PostMessages: true}
		}
		rights.SetFlags()
		res, err := api.ChannelsEditAdmin(ctx, &tg.ChannelsEditAdminRequest{Channel: ch, UserID: in, AdminRights: rights})
		if err != nil {
			return s.manageError("change the role of "+string(user)+" in "+string(chat), err)
		}
		s.applyResult(ctx, res)
	} else if _, err := api.MessagesEditChatAdmin(ctx, &tg.MessagesEditChatAdminRequest{ChatID: group, UserID: in, IsAdmin: admin}); err != nil {
		return s.manageError("change the role of "+string(user)+" in "+string(chat), err)
	}
	action := event.Demoted
	if admin {
		action = event.Promoted
	}
	return s.announce(ctx, &event.MembershipChange{Meta: s.ownMeta(chat), User: user, Action: action})
}

// LeaveGroup implements gateway.GroupManager: the account leaves a basic
// group (its service message says so) or a supergroup or channel
// (announced, as Telegram tells the leaver nothing).
func (s *Session) LeaveGroup(ctx context.Context, chat ids.ChatID) error {
	group, channel, err := s.managed(chat)
	if err != nil {
		return err
	}
	api, err := s.client()
	if err != nil {
		return err
	}
	if channel == 0 {
		res, err := api.MessagesDeleteChatUser(ctx, &tg.MessagesDeleteChatUserRequest{ChatID: group, UserID: &tg.InputUserSelf{}})
		if err != nil {
			return s.manageError("leave "+string(chat), err)
		}
		s.applyResult(ctx, res)
		return nil
	}
	ch, err := s.inputChannel(ctx, channel)
	if err != nil {
		return err
	}
	res, err := api.ChannelsLeaveChannel(ctx, ch)
	if err != nil {
		return s.manageError("leave "+string(chat), err)
	}
	s.applyResult(ctx, res)
	return s.announce(ctx, &event.MembershipChange{Meta: s.ownMeta(convert.TopicID(channel, 0)), User: convert.UserID(s.self), Action: event.Left})
}

// CreateGroup implements gateway.GroupManager: a basic group with the
// account as creator.
func (s *Session) CreateGroup(ctx context.Context, name string, members []ids.UserID) (ids.ChatID, error) {
	if name == "" {
		return "", fmt.Errorf("telegram: a group needs a name: %w", gateway.ErrBadRequest)
	}
	api, err := s.client()
	if err != nil {
		return "", err
	}
	users := make([]tg.InputUserClass, 0, len(members))
	for _, m := range members {
		in, err := s.inputUser(ctx, m)
		if err != nil {
			return "", err
		}
		users = append(users, in)
	}
	res, err := api.MessagesCreateChat(ctx, &tg.MessagesCreateChatRequest{Title: name, Users: users})
	if err != nil {
		return "", s.manageError("create group "+name, err)
	}
	var chats []tg.ChatClass
	switch u := res.Updates.(type) {
	case *tg.Updates:
		chats = u.Chats
	case *tg.UpdatesCombined:
		chats = u.Chats
	}
	var chat ids.ChatID
	for _, c := range chats {
		if c, ok := c.(*tg.Chat); ok {
			chat = convert.GroupID(c.ID)
		}
	}
	if chat == "" {
		return "", fmt.Errorf("telegram: Telegram's answer to creating a group (%T) names no group", res.Updates)
	}
	s.applyResult(ctx, res.Updates)
	return chat, nil
}
