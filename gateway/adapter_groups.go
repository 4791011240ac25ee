package gateway

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// GroupRole is a member's standing in a platform group.
type GroupRole int

const (
	// RoleMember is an ordinary member.
	RoleMember GroupRole = iota + 1
	// RoleAdmin may change the topic, remove members and promote others.
	RoleAdmin
	// RoleOwner created the group (an admin who cannot be demoted).
	RoleOwner
)

// String names the role: "member", "admin" or "owner".
func (r GroupRole) String() string {
	switch r {
	case RoleMember:
		return "member"
	case RoleAdmin:
		return "admin"
	case RoleOwner:
		return "owner"
	}
	return "unknown"
}

// IsAdmin reports whether the role may administer the group.
func (r GroupRole) IsAdmin() bool { return r == RoleAdmin || r == RoleOwner }

// GroupMember is one member of a platform group.
type GroupMember struct {
	User ids.UserID
	// Name is how the platform shows the member (a push name, a contact
	// name); empty: unknown.
	Name string
	Role GroupRole
}

// GroupInfo describes a platform group as one account sees it.
type GroupInfo struct {
	Chat  ids.ChatID
	Name  string
	Topic string
	// Self is the account's own user id in the group (a member of Members
	// while the account belongs to the group).
	Self ids.UserID
	// Members lists everyone in the group, the account included.
	Members []GroupMember
	// TopicByAdminsOnly: only admins may change the topic.
	TopicByAdminsOnly bool
	// ReadOnly: only admins (and owners) may write; the other members
	// read (a broadcast channel, an announcement group). The XMPP side
	// makes them visitors of the room and refuses their messages with
	// forbidden.
	ReadOnly bool
	// MemberCount is how many members the group has when Members lists
	// only some of them (very large groups whose platform gives no full
	// member list: Members then holds the admins and the account); 0:
	// Members is complete.
	MemberCount int
	// AvatarHash is the platform's id of the group's picture: it changes
	// whenever the picture does; empty: the group has none. A session
	// that sets it implements GroupAvatarGetter.
	AvatarHash string
}

// Size is how many members the group has: MemberCount when the list is
// partial, else the length of Members.
func (gi GroupInfo) Size() int {
	if gi.MemberCount > len(gi.Members) {
		return gi.MemberCount
	}
	return len(gi.Members)
}

// MayWrite reports whether the account may send messages to the group.
func (gi GroupInfo) MayWrite() bool {
	if !gi.ReadOnly {
		return true
	}
	self, ok := gi.Member(gi.Self)
	return ok && self.Role.IsAdmin()
}

// Member returns the member with the given id.
func (gi GroupInfo) Member(user ids.UserID) (GroupMember, bool) {
	for _, m := range gi.Members {
		if m.User == user {
			return m, true
		}
	}
	return GroupMember{}, false
}

// GroupManager is optional: a Session whose platform has group chats.
// Messages, corrections, retractions and reactions in a group go through
// the ordinary Session, Editor, Retracter and Reactor methods with the
// group's ChatID as Meta.Chat; events from a group carry the group as
// Meta.Chat and the member who acted as Meta.Sender, and membership,
// name and topic changes arrive as event.MembershipChange and
// event.ChatInfo (IsGroup set). Without GroupManager the hub refuses every
// group request with ErrNotSupported, and the XMPP side hosts no rooms
// (joins are refused with feature-not-implemented).
//
// A method the platform cannot do returns an error wrapping
// ErrNotSupported; one the account may not do (not an admin) ErrForbidden;
// an unknown group or user ErrUnknownChat.
type GroupManager interface {
	// IsGroup reports, without I/O, whether chat names a group (WhatsApp:
	// a JID on g.us). The hub asks it to route events to rooms.
	IsGroup(chat ids.ChatID) bool
	// ListGroups returns the groups the account belongs to.
	ListGroups(ctx context.Context) ([]GroupInfo, error)
	// GroupInfo returns one group with its members and their roles.
	GroupInfo(ctx context.Context, chat ids.ChatID) (GroupInfo, error)
	// SetGroupTopic changes the group's topic (description).
	SetGroupTopic(ctx context.Context, chat ids.ChatID, topic string) error
	// RemoveMember removes user from the group.
	RemoveMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error
	// SetMemberRole promotes user to RoleAdmin or demotes them to
	// RoleMember.
	SetMemberRole(ctx context.Context, chat ids.ChatID, user ids.UserID, role GroupRole) error
	// AddMember adds (or invites) user to the group.
	AddMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error
	// LeaveGroup makes the account leave the group.
	LeaveGroup(ctx context.Context, chat ids.ChatID) error
	// CreateGroup creates a group named name with the account as its
	// owner and members as the other members, and returns its ChatID.
	CreateGroup(ctx context.Context, name string, members []ids.UserID) (ids.ChatID, error)
}

// GroupAvatarGetter is optional: a GroupManager that can fetch a group's
// picture (the room's avatar on the XMPP side). Without it rooms have no
// avatar.
type GroupAvatarGetter interface {
	// GetGroupAvatar returns ErrUnknownChat for an unknown group and a
	// zero Avatar for a group without a picture.
	GetGroupAvatar(ctx context.Context, chat ids.ChatID) (Avatar, error)
}
