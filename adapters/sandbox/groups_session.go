package sandbox

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var _ gateway.GroupManager = (*Session)(nil)

// IsGroup implements gateway.GroupManager: group ids start with "group-".
func (s *Session) IsGroup(chat ids.ChatID) bool { return IsGroupID(chat) }

// ListGroups implements gateway.GroupManager. Like a real device it asks
// the server, so the session must be connected (else gateway.ErrUnavailable).
func (s *Session) ListGroups(ctx context.Context) ([]gateway.GroupInfo, error) {
	if err := s.groupReady(ctx); err != nil {
		return nil, err
	}
	return s.p.groupsOf(ids.UserID(s.acct)), nil
}

// GroupInfo implements gateway.GroupManager; a group the account is not
// in wraps gateway.ErrForbidden.
func (s *Session) GroupInfo(ctx context.Context, chat ids.ChatID) (gateway.GroupInfo, error) {
	if err := s.groupReady(ctx); err != nil {
		return gateway.GroupInfo{}, err
	}
	return s.p.groupInfo(chat, ids.UserID(s.acct))
}

// SetGroupTopic implements gateway.GroupManager (admins only).
func (s *Session) SetGroupTopic(ctx context.Context, chat ids.ChatID, topic string) error {
	if err := s.groupReady(ctx); err != nil {
		return err
	}
	return s.p.setTopic(ids.UserID(s.acct), chat, topic)
}

// RemoveMember implements gateway.GroupManager (admins only).
func (s *Session) RemoveMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	if err := s.groupReady(ctx); err != nil {
		return err
	}
	return s.p.removeMember(ids.UserID(s.acct), chat, user)
}

// SetMemberRole implements gateway.GroupManager (admins only).
func (s *Session) SetMemberRole(ctx context.Context, chat ids.ChatID, user ids.UserID, role gateway.GroupRole) error {
	if err := s.groupReady(ctx); err != nil {
		return err
	}
	return s.p.setRole(ids.UserID(s.acct), chat, user, role)
}

// AddMember implements gateway.GroupManager (admins only).
func (s *Session) AddMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	if err := s.groupReady(ctx); err != nil {
		return err
	}
	return s.p.addMember(ids.UserID(s.acct), chat, user)
}

// LeaveGroup implements gateway.GroupManager.
func (s *Session) LeaveGroup(ctx context.Context, chat ids.ChatID) error {
	if err := s.groupReady(ctx); err != nil {
		return err
	}
	return s.p.removeMember(ids.UserID(s.acct), chat, ids.UserID(s.acct))
}

// CreateGroup implements gateway.GroupManager.
func (s *Session) CreateGroup(ctx context.Context, name string, members []ids.UserID) (ids.ChatID, error) {
	if err := s.groupReady(ctx); err != nil {
		return "", err
	}
	return s.p.createGroup(ids.UserID(s.acct), name, members, false)
}

func (s *Session) groupReady(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.ready()
}

// sendGroup is SendMessage for a group chat.
func (s *Session) sendGroup(ctx context.Context, msg *event.Message) (ids.MessageID, error) {
	if msg.Account != "" && msg.Account != s.acct {
		return "", fmt.Errorf("sandbox: message for account %s given to the session of %s: %w", msg.Account, s.acct, gateway.ErrBadRequest)
	}
	if msg.Body == "" && len(msg.Attachments) == 0 {
		return "", fmt.Errorf("sandbox: empty message: %w", gateway.ErrBadRequest)
	}
	if err := checkBody(msg.Body); err != nil {
		return "", err
	}
	files, err := s.p.readAttachments(ctx, msg.Attachments)
	if err != nil {
		return "", err
	}
	return s.p.routeGroup(groupOutgoing{
		from: ids.UserID(s.acct), group: msg.Chat, body: msg.Body, files: files,
		replyTo: msg.ReplyTo, mentions: msg.Mentions, fromDevice: s.dev,
	})
}
