package gateway

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// groups returns owner's session as a GroupManager, ErrNotSupported if the
// platform has no groups.
func (g *Gateway) groups(owner ids.Owner, platform ids.PlatformID) (*linked, GroupManager, error) {
	l, err := g.session(owner, platform)
	if err != nil {
		return nil, nil, err
	}
	gm, ok := l.session.(GroupManager)
	if !ok {
		return nil, nil, fmt.Errorf("group chats: %w", ErrNotSupported)
	}
	return l, gm, nil
}

// HasGroups reports whether owner's account is on a platform with groups
// (its session is a GroupManager).
func (g *Gateway) HasGroups(owner ids.Owner, platform ids.PlatformID) bool {
	_, _, err := g.groups(owner, platform)
	return err == nil
}

// IsGroup reports whether chat is a group of owner's platform account. It
// does no I/O; false when owner has no session or the platform no groups.
func (g *Gateway) IsGroup(owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) bool {
	_, gm, err := g.groups(owner, platform)
	return err == nil && gm.IsGroup(chat)
}

// Groups lists the groups owner's account belongs to.
func (g *Gateway) Groups(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (_ []GroupInfo, err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "groups", t0, err) }(time.Now())
	_, gm, err := g.groups(owner, platform)
	if err != nil {
		return nil, err
	}
	gs, err := gm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return gs, nil
}

// GroupInfo returns a group as owner's account sees it: ErrUnknownChat for
// a chat that is not a group, ErrForbidden when the account is not (or no
// longer) a member.
func (g *Gateway) GroupInfo(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) (_ GroupInfo, err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "groupinfo", t0, err) }(time.Now())
	_, gm, err := g.groups(owner, platform)
	if err != nil {
		return GroupInfo{}, err
	}
	if !gm.IsGroup(chat) {
		return GroupInfo{}, fmt.Errorf("%s is not a group: %w", chat, ErrUnknownChat)
	}
	gi, err := gm.GroupInfo(ctx, chat)
	if err != nil {
		return GroupInfo{}, fmt.Errorf("group %s: %w", chat, err)
	}
	if _, ok := gi.Member(gi.Self); !ok {
		return GroupInfo{}, fmt.Errorf("you are not a member of the group %q: %w", gi.Name, ErrForbidden)
	}
	return gi, nil
}

// adminAction runs do after checking that owner's account is an admin of
// chat (or, for topics of groups open to everyone, a member).
func (g *Gateway) adminAction(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, what string, adminOnly func(GroupInfo) bool, do func(GroupManager) error) (err error) {
	defer func(t0 time.Time) {
		g.observe(platform, ToPlatform, "group-"+strings.ReplaceAll(what, " ", "-"), t0, err)
	}(time.Now())
	gi, err := g.GroupInfo(ctx, owner, platform, chat)
	if err != nil {
		return err
	}
	self, _ := gi.Member(gi.Self)
	if adminOnly(gi) && !self.Role.IsAdmin() {
		return fmt.Errorf("only admins of %q may %s: %w", gi.Name, what, ErrForbidden)
	}
	_, gm, err := g.groups(owner, platform)
	if err != nil {
		return err
	}
	if err := do(gm); err != nil {
		return fmt.Errorf("%s in %s: %w", what, chat, err)
	}
	return nil
}

func always(GroupInfo) bool { return true }

// SetGroupTopic changes a group's topic; ErrForbidden when only admins may
// and owner's account is not one.
func (g *Gateway) SetGroupTopic(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, topic string) error {
	return g.adminAction(ctx, owner, platform, chat, "change the topic",
		func(gi GroupInfo) bool { return gi.TopicByAdminsOnly },
		func(gm GroupManager) error { return gm.SetGroupTopic(ctx, chat, topic) })
}

// KickMember removes user from a group; owner's account must be an admin.
func (g *Gateway) KickMember(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, user ids.UserID) error {
	return g.adminAction(ctx, owner, platform, chat, "remove members", always,
		func(gm GroupManager) error { return gm.RemoveMember(ctx, chat, user) })
}

// SetMemberRole promotes or demotes a member; owner's account must be an
// admin.
func (g *Gateway) SetMemberRole(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, user ids.UserID, role GroupRole) error {
	if role != RoleAdmin && role != RoleMember {
		return fmt.Errorf("role %s cannot be granted: %w", role, ErrNotSupported)
	}
	return g.adminAction(ctx, owner, platform, chat, "change roles", always,
		func(gm GroupManager) error { return gm.SetMemberRole(ctx, chat, user, role) })
}

// InviteMember adds user to a group; owner's account must be an admin.
func (g *Gateway) InviteMember(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, user ids.UserID) error {
	return g.adminAction(ctx, owner, platform, chat, "add members", always,
		func(gm GroupManager) error { return gm.AddMember(ctx, chat, user) })
}

// LeaveGroup makes owner's account leave a group on the platform.
func (g *Gateway) LeaveGroup(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) error {
	return g.adminAction(ctx, owner, platform, chat, "leave", func(GroupInfo) bool { return false },
		func(gm GroupManager) error { return gm.LeaveGroup(ctx, chat) })
}

// CreateGroup creates a group with owner's account as its owner.
func (g *Gateway) CreateGroup(ctx context.Context, owner ids.Owner, platform ids.PlatformID, name string, members []ids.UserID) (_ ids.ChatID, err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "group-create", t0, err) }(time.Now())
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("a group needs a name: %w", ErrBadRequest)
	}
	_, gm, err := g.groups(owner, platform)
	if err != nil {
		return "", err
	}
	chat, err := gm.CreateGroup(ctx, strings.TrimSpace(name), members)
	if err != nil {
		return "", fmt.Errorf("create group %q: %w", name, err)
	}
	return chat, nil
}
