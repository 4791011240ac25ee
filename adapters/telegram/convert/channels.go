package convert

import (
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// ChannelInfo is what a room needs of a supergroup, broadcast channel or
// forum topic.
type ChannelInfo struct {
	Channel *tg.Channel
	// About is the channel's description (the room's topic).
	About string
	// Count is how many members the channel has.
	Count int
	// Participants are the members the account could list: everyone in
	// a group small enough, the admins only in a very large one or in a
	// broadcast channel whose subscribers only admins see.
	Participants []tg.ChannelParticipantClass
	Users        []tg.UserClass
	// Topic and TopicTitle name a forum topic (0: the channel itself, or
	// the General topic).
	Topic      int
	TopicTitle string
	// TopicClosed: the topic is closed (only admins write in it).
	TopicClosed bool
}

// Channel converts a supergroup or broadcast channel, or one topic of a
// forum, as account self sees it. A broadcast channel is read-only for
// the members who are not admins, and its posts come from the channel
// itself, which is a member (owner) named after it. When the list of
// participants is partial, MemberCount says how many there are.
func Channel(ci ChannelInfo, self int64) gateway.GroupInfo {
	ch := ci.Channel
	gi := gateway.GroupInfo{
		Chat: TopicID(ch.ID, ci.Topic), Name: ch.Title, Topic: ci.About, Self: UserID(self),
		ReadOnly: ch.Broadcast, TopicByAdminsOnly: true, AvatarHash: ChatPhotoHash(ch.Photo),
	}
	if ci.Topic > 1 {
		gi.Name = ch.Title + " / " + ci.TopicTitle
		gi.ReadOnly = gi.ReadOnly || ci.TopicClosed
	}
	names := map[int64]string{}
	for _, uc := range ci.Users {
		if u, ok := uc.(*tg.User); ok {
			names[u.ID] = Contact("", u, time.Time{}).Name
		}
	}
	listed := map[int64]bool{}
	for _, p := range ci.Participants {
		uid, role := int64(0), gateway.RoleMember
		switch p := p.(type) {
		case *tg.ChannelParticipantCreator:
			uid, role = p.UserID, gateway.RoleOwner
		case *tg.ChannelParticipantAdmin:
			uid, role = p.UserID, gateway.RoleAdmin
		case *tg.ChannelParticipant:
			uid = p.UserID
		case *tg.ChannelParticipantSelf:
			uid = p.UserID
		default:
			continue // banned or left: not members
		}
		if listed[uid] {
			continue
		}
		listed[uid] = true
		gi.Members = append(gi.Members, gateway.GroupMember{User: UserID(uid), Name: names[uid], Role: role})
	}
	if !listed[self] {
		role := gateway.RoleMember
		switch {
		case ch.Creator:
			role = gateway.RoleOwner
		case !ch.AdminRights.Zero():
			role = gateway.RoleAdmin
		}
		gi.Members = append(gi.Members, gateway.GroupMember{User: UserID(self), Role: role})
	}
	if ch.Broadcast {
		gi.Members = append(gi.Members, gateway.GroupMember{User: ChannelSender(ch.ID), Name: ch.Title, Role: gateway.RoleOwner})
	}
	if n := ci.Count; n > len(listed) {
		gi.MemberCount = n
		if ch.Broadcast {
			gi.MemberCount++ // the channel itself
		}
	}
	return gi
}

// ChannelService converts a service message of a supergroup into
// membership changes (users added, joining, leaving, removed); other
// actions give nothing.
func ChannelService(account ids.AccountID, m *tg.MessageService) []event.Event {
	p, ok := m.PeerID.(*tg.PeerChannel)
	if !ok {
		return nil
	}
	cp := *m
	cp.PeerID = &tg.PeerChat{ChatID: p.ChannelID}
	evs := Service(account, &cp)
	for _, ev := range evs {
		ev.EventMeta().Chat = TopicID(p.ChannelID, topicOf(m.ReplyTo))
	}
	return evs
}
