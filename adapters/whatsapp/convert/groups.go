package convert

import (
	"context"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// GroupChat is the ChatID of a group JID ("group-<id>").
func GroupChat(ctx context.Context, env Env, jid types.JID) ids.ChatID {
	return env.Users.ChatID(ctx, jid.ToNonAD(), types.EmptyJID)
}

// Participant is the UserID of a group participant: the same as in
// one-to-one chats (the phone number whenever WhatsApp or the LID map
// gives it).
func Participant(ctx context.Context, env Env, p types.GroupParticipant) ids.UserID {
	alt := p.PhoneNumber
	if p.JID.Server != types.HiddenUserServer {
		alt = p.LID
	}
	return env.Users.UserID(ctx, p.JID, alt)
}

// userOf is the UserID of jid with its alternative address alt (nil:
// none), or "" for an empty jid.
func userOf(ctx context.Context, env Env, jid types.JID, alt *types.JID) ids.UserID {
	if jid.IsEmpty() {
		return ""
	}
	a := types.EmptyJID
	if alt != nil {
		a = *alt
	}
	return env.Users.UserID(ctx, jid, a)
}

// Role is the gateway role of a participant.
func Role(p types.GroupParticipant) gateway.GroupRole {
	switch {
	case p.IsSuperAdmin:
		return gateway.RoleOwner
	case p.IsAdmin:
		return gateway.RoleAdmin
	}
	return gateway.RoleMember
}

// topic is the current description of a group ("" once deleted).
func topic(t types.GroupTopic) string {
	if t.TopicDeleted {
		return ""
	}
	return t.Topic
}

// GroupInfo converts WhatsApp's description of a group. Members are named
// from the device store (env.Name) when possible; TopicByAdminsOnly is
// WhatsApp's "locked" setting (only admins edit the group's info),
// ReadOnly its "announce" setting (only admins send messages).
func GroupInfo(ctx context.Context, env Env, gi *types.GroupInfo) gateway.GroupInfo {
	out := gateway.GroupInfo{
		Chat:              GroupChat(ctx, env, gi.JID),
		Name:              gi.Name,
		Topic:             topic(gi.GroupTopic),
		Self:              ids.UserID(env.Account),
		TopicByAdminsOnly: gi.IsLocked,
		ReadOnly:          gi.IsAnnounce,
	}
	seen := map[ids.UserID]bool{}
	for _, p := range gi.Participants {
		user := Participant(ctx, env, p)
		if user == "" || seen[user] {
			continue
		}
		seen[user] = true
		m := gateway.GroupMember{User: user, Role: Role(p)}
		if env.Name != nil && user != out.Self {
			m.Name = env.Name(ctx, p.JID)
			if m.Name == "" && !p.PhoneNumber.IsEmpty() && p.PhoneNumber != p.JID {
				m.Name = env.Name(ctx, p.PhoneNumber)
			}
		}
		if m.Name == "" && p.DisplayName != "" {
			m.Name = p.DisplayName
		}
		out.Members = append(out.Members, m)
	}
	return out
}

// GroupChange converts a change of a group (events.GroupInfo) into the
// events the hub shows: a ChatInfo for a new name or topic (carrying the
// whole picture: known holds the group's name and topic before the
// change, nil if unknown) and a MembershipChange per member who joined,
// left (by themselves: Left; removed by someone else: Kicked), was
// promoted or demoted. Changes the hub has no use for (settings, invite
// links, communities) give nothing.
func GroupChange(ctx context.Context, env Env, evt *events.GroupInfo, known *types.GroupInfo) []event.Event {
	chat := GroupChat(ctx, env, evt.JID)
	var actor ids.UserID
	if evt.Sender != nil {
		actor = userOf(ctx, env, *evt.Sender, evt.SenderPN)
	}
	own := ids.UserID(env.Account)
	meta := func() event.Meta {
		return event.Meta{Account: env.Account, Chat: chat, Sender: actor, FromMe: actor != "" && actor == own, Time: evt.Timestamp}
	}
	var out []event.Event
	if evt.Name != nil || evt.Topic != nil {
		ci := &event.ChatInfo{Meta: meta(), IsGroup: true}
		if known != nil {
			ci.Name, ci.Topic = known.Name, topic(known.GroupTopic)
		}
		if evt.Name != nil {
			ci.Name = evt.Name.Name
		}
		if evt.Topic != nil {
			ci.Topic = topic(*evt.Topic)
		}
		out = append(out, ci)
	}
	member := func(jids []types.JID, action func(ids.UserID) event.MembershipAction) {
		for _, j := range jids {
			user := env.Users.UserID(ctx, j, types.EmptyJID)
			if user == "" {
				continue
			}
			out = append(out, &event.MembershipChange{Meta: meta(), User: user, Action: action(user)})
		}
	}
	member(evt.Join, func(ids.UserID) event.MembershipAction { return event.Joined })
	member(evt.Leave, func(u ids.UserID) event.MembershipAction {
		if actor == "" || actor == u {
			return event.Left
		}
		return event.Kicked
	})
	member(evt.Promote, func(ids.UserID) event.MembershipAction { return event.Promoted })
	member(evt.Demote, func(ids.UserID) event.MembershipAction { return event.Demoted })
	if evt.Delete != nil && evt.Delete.Deleted {
		// The group is gone: for the owner it is as if they had left.
		out = append(out, &event.MembershipChange{Meta: meta(), User: own, Action: event.Left})
	}
	return out
}

// JoinedGroup converts the account being added to a group (or creating
// one) into a ChatInfo with the group's name, topic and members.
func JoinedGroup(ctx context.Context, env Env, evt *events.JoinedGroup) *event.ChatInfo {
	gi := GroupInfo(ctx, env, &evt.GroupInfo)
	var actor ids.UserID
	if evt.Sender != nil {
		actor = userOf(ctx, env, *evt.Sender, evt.SenderPN)
	}
	ci := &event.ChatInfo{
		Meta:    event.Meta{Account: env.Account, Chat: gi.Chat, Sender: actor, FromMe: actor == ids.UserID(env.Account), Time: evt.GroupCreated},
		Name:    gi.Name,
		Topic:   gi.Topic,
		IsGroup: true,
	}
	for _, m := range gi.Members {
		ci.Members = append(ci.Members, m.User)
	}
	return ci
}

// GroupPicture converts a group's picture being set or removed
// (events.Picture for a group JID) into a ChatInfo with the new picture
// id ("" removed) and the group's name and topic from known (its state
// before the change; nil if unknown), since a ChatInfo is the whole
// picture of the group.
func GroupPicture(ctx context.Context, env Env, evt *events.Picture, known *types.GroupInfo) *event.ChatInfo {
	actor := userOf(ctx, env, evt.Author, nil)
	id := evt.PictureID
	if evt.Remove {
		id = ""
	}
	ci := &event.ChatInfo{
		Meta:       event.Meta{Account: env.Account, Chat: GroupChat(ctx, env, evt.JID), Sender: actor, FromMe: actor != "" && actor == ids.UserID(env.Account), Time: evt.Timestamp},
		IsGroup:    true,
		AvatarHash: &id,
	}
	if known != nil {
		ci.Name, ci.Topic = known.Name, topic(known.GroupTopic)
	}
	return ci
}
