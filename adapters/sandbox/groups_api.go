package sandbox

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// This file is the Platform API for groups, for tests and the demo. Every
// call acts as a platform user (actor) and is refused as the platform would
// refuse it: gateway.ErrForbidden for a non-member or, where admins are
// needed, a non-admin; gateway.ErrUnknownChat for an unknown group or user.

// CreateGroup makes actor create a group named name with members, and
// returns its id. Member accounts get an event.ChatInfo.
func (p *Platform) CreateGroup(actor ids.UserID, name string, members ...ids.UserID) (ids.ChatID, error) {
	return p.createGroup(actor, name, members, false)
}

// CreateChannel is CreateGroup for a read-only group: only its admins
// (actor, the owner, at first) post; the other members read.
func (p *Platform) CreateChannel(actor ids.UserID, name string, members ...ids.UserID) (ids.ChatID, error) {
	return p.createGroup(actor, name, members, true)
}

// AddMember makes actor (an admin) add user to the group.
func (p *Platform) AddMember(actor ids.UserID, group ids.ChatID, user ids.UserID) error {
	return p.addMember(actor, group, user)
}

// Kick makes actor (an admin) remove user from the group.
func (p *Platform) Kick(actor ids.UserID, group ids.ChatID, user ids.UserID) error {
	return p.removeMember(actor, group, user)
}

// Leave makes user leave the group.
func (p *Platform) Leave(user ids.UserID, group ids.ChatID) error {
	return p.removeMember(user, group, user)
}

// Promote makes actor (an admin) make user an admin.
func (p *Platform) Promote(actor ids.UserID, group ids.ChatID, user ids.UserID) error {
	return p.setRole(actor, group, user, gateway.RoleAdmin)
}

// Demote makes actor (an admin) make user an ordinary member.
func (p *Platform) Demote(actor ids.UserID, group ids.ChatID, user ids.UserID) error {
	return p.setRole(actor, group, user, gateway.RoleMember)
}

// SetTopic makes actor (an admin) change the group's topic.
func (p *Platform) SetTopic(actor ids.UserID, group ids.ChatID, topic string) error {
	return p.setTopic(actor, group, topic)
}

// RenameGroup makes actor (an admin) change the group's name.
func (p *Platform) RenameGroup(actor ids.UserID, group ids.ChatID, name string) error {
	return p.rename(actor, group, name)
}

// SendGroupAs makes member from write body in the group.
func (p *Platform) SendGroupAs(ctx context.Context, from ids.UserID, group ids.ChatID, body string) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if body == "" {
		return "", fmt.Errorf("sandbox: empty message from %s: %w", from, gateway.ErrBadRequest)
	}
	return p.routeGroup(groupOutgoing{from: from, group: group, body: body})
}

// Group returns the group as its member self sees it.
func (p *Platform) Group(group ids.ChatID, self ids.UserID) (gateway.GroupInfo, error) {
	return p.groupInfo(group, self)
}

// GroupMessages returns the messages written in the group, in order.
func (p *Platform) GroupMessages(group ids.ChatID) []Message {
	return p.messages(func(m *Message) bool { return m.Group == group })
}
