package remote

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// The optional features the hub finds by type assertion, each a part a
// session's Go type embeds only when the adapter declared the feature.
type (
	groupsPart   struct{ s *session }
	avatarsPart  struct{ s *session }
	contactsPart struct{ s *session }
	resolverPart struct{ s *session }
)

// typed returns s as a value whose Go type implements exactly the
// optional interfaces the adapter declared (of groups, avatars, contacts,
// resolver).
func (s *session) typed() gateway.Session {
	g, av, c, r := groupsPart{s}, avatarsPart{s}, contactsPart{s}, resolverPart{s}
	mask := 0
	for i, f := range []adapterv1.Feature{adapterv1.Feature_FEATURE_GROUPS, adapterv1.Feature_FEATURE_AVATARS,
		adapterv1.Feature_FEATURE_CONTACTS, adapterv1.Feature_FEATURE_RESOLVER} {
		if s.has(f) {
			mask |= 1 << i
		}
	}
	switch mask {
	case 0b0000:
		return s
	case 0b0001:
		return struct {
			*session
			groupsPart
		}{s, g}
	case 0b0010:
		return struct {
			*session
			avatarsPart
		}{s, av}
	case 0b0011:
		return struct {
			*session
			groupsPart
			avatarsPart
		}{s, g, av}
	case 0b0100:
		return struct {
			*session
			contactsPart
		}{s, c}
	case 0b0101:
		return struct {
			*session
			groupsPart
			contactsPart
		}{s, g, c}
	case 0b0110:
		return struct {
			*session
			avatarsPart
			contactsPart
		}{s, av, c}
	case 0b0111:
		return struct {
			*session
			groupsPart
			avatarsPart
			contactsPart
		}{s, g, av, c}
	case 0b1000:
		return struct {
			*session
			resolverPart
		}{s, r}
	case 0b1001:
		return struct {
			*session
			groupsPart
			resolverPart
		}{s, g, r}
	case 0b1010:
		return struct {
			*session
			avatarsPart
			resolverPart
		}{s, av, r}
	case 0b1011:
		return struct {
			*session
			groupsPart
			avatarsPart
			resolverPart
		}{s, g, av, r}
	case 0b1100:
		return struct {
			*session
			contactsPart
			resolverPart
		}{s, c, r}
	case 0b1101:
		return struct {
			*session
			groupsPart
			contactsPart
			resolverPart
		}{s, g, c, r}
	case 0b1110:
		return struct {
			*session
			avatarsPart
			contactsPart
			resolverPart
		}{s, av, c, r}
	default:
		return struct {
			*session
			groupsPart
			avatarsPart
			contactsPart
			resolverPart
		}{s, g, av, c, r}
	}
}

// IsGroup implements gateway.GroupManager from the chat's kind.
func (p groupsPart) IsGroup(chat ids.ChatID) bool { return p.s.chat(chat).group }

func (p groupsPart) call(ctx context.Context, chat ids.ChatID, req *adapterv1.GroupRequest) (*adapterv1.GroupResponse, error) {
	req.Account, req.Chat, req.Session = string(p.s.acct), string(chat), p.s.id()
	r, err := p.s.a.client().Group(ctx, req)
	if err != nil {
		return nil, fromRPC(err)
	}
	return r, nil
}

// ListGroups implements gateway.GroupManager.
func (p groupsPart) ListGroups(ctx context.Context) ([]gateway.GroupInfo, error) {
	r, err := p.call(ctx, "", &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_List{List: &adapterv1.Empty{}}})
	if err != nil {
		return nil, err
	}
	out := make([]gateway.GroupInfo, 0, len(r.GetGroups()))
	for _, g := range r.GetGroups() {
		gi, err := groupFromProto(g)
		if err != nil {
			return nil, err
		}
		out = append(out, gi)
	}
	return out, nil
}

// GroupInfo implements gateway.GroupManager.
func (p groupsPart) GroupInfo(ctx context.Context, chat ids.ChatID) (gateway.GroupInfo, error) {
	r, err := p.call(ctx, chat, &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_Info{Info: &adapterv1.Empty{}}})
	if err != nil {
		return gateway.GroupInfo{}, err
	}
	if len(r.GetGroups()) != 1 {
		return gateway.GroupInfo{}, fmt.Errorf("group info with %d groups: %w", len(r.GetGroups()), errMalformed)
	}
	return groupFromProto(r.GetGroups()[0])
}

// SetGroupTopic implements gateway.GroupManager.
func (p groupsPart) SetGroupTopic(ctx context.Context, chat ids.ChatID, topic string) error {
	_, err := p.call(ctx, chat, &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_SetTopic{SetTopic: topic}})
	return err
}

// RemoveMember implements gateway.GroupManager.
func (p groupsPart) RemoveMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	_, err := p.call(ctx, chat, &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_RemoveMember{RemoveMember: string(user)}})
	return err
}

// SetMemberRole implements gateway.GroupManager.
func (p groupsPart) SetMemberRole(ctx context.Context, chat ids.ChatID, user ids.UserID, role gateway.GroupRole) error {
	_, err := p.call(ctx, chat, &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_SetRole{SetRole: &adapterv1.SetMemberRole{User: string(user), Role: adapterv1.GroupRole(role)}}})
	return err
}

// AddMember implements gateway.GroupManager.
func (p groupsPart) AddMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	_, err := p.call(ctx, chat, &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_AddMember{AddMember: string(user)}})
	return err
}

// LeaveGroup implements gateway.GroupManager.
func (p groupsPart) LeaveGroup(ctx context.Context, chat ids.ChatID) error {
	_, err := p.call(ctx, chat, &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_Leave{Leave: &adapterv1.Empty{}}})
	return err
}

// CreateGroup implements gateway.GroupManager.
func (p groupsPart) CreateGroup(ctx context.Context, name string, members []ids.UserID) (ids.ChatID, error) {
	r, err := p.call(ctx, "", &adapterv1.GroupRequest{Call: &adapterv1.GroupRequest_Create{Create: &adapterv1.CreateGroup{Name: name, Members: strs(members)}}})
	if err != nil {
		return "", err
	}
	if r.GetChat() == "" {
		return "", fmt.Errorf("CreateGroup returned no chat: %w", errMalformed)
	}
	return ids.ChatID(r.GetChat()), nil
}

// GetGroupAvatar implements gateway.GroupAvatarGetter: an adapter
// without group pictures answers it as not supported.
func (p groupsPart) GetGroupAvatar(ctx context.Context, chat ids.ChatID) (gateway.Avatar, error) {
	r, err := p.s.a.client().GetAvatar(ctx, &adapterv1.UserRequest{Account: string(p.s.acct), Group: string(chat), Session: p.s.id()})
	if err != nil {
		return gateway.Avatar{}, fromRPC(err)
	}
	return gateway.Avatar{Hash: r.GetHash(), MIMEType: r.GetMimeType(), Data: r.GetData()}, nil
}

// GetAvatar implements gateway.AvatarGetter.
func (p avatarsPart) GetAvatar(ctx context.Context, user ids.UserID) (gateway.Avatar, error) {
	r, err := p.s.a.client().GetAvatar(ctx, &adapterv1.UserRequest{Account: string(p.s.acct), User: string(user), Session: p.s.id()})
	if err != nil {
		return gateway.Avatar{}, fromRPC(err)
	}
	return gateway.Avatar{Hash: r.GetHash(), MIMEType: r.GetMimeType(), Data: r.GetData()}, nil
}

// ListContacts implements gateway.ContactLister.
func (p contactsPart) ListContacts(ctx context.Context) ([]*event.ContactInfo, error) {
	r, err := p.s.a.client().ListContacts(ctx, p.s.req())
	if err != nil {
		return nil, fromRPC(err)
	}
	out := make([]*event.ContactInfo, 0, len(r.GetContacts()))
	for _, pe := range r.GetContacts() {
		ev, err := eventFromProto(pe, nil)
		if err != nil {
			return nil, err
		}
		ci, ok := ev.(*event.ContactInfo)
		if !ok || ci.Account != p.s.acct {
			return nil, fmt.Errorf("contact list with a %T of account %s: %w", ev, ev.EventMeta().Account, errMalformed)
		}
		out = append(out, ci)
	}
	return out, nil
}

// ResolveUser implements gateway.UserResolver.
func (p resolverPart) ResolveUser(ctx context.Context, input string) (ids.UserID, error) {
	r, err := p.s.a.client().ResolveUser(ctx, &adapterv1.ResolveUserRequest{Account: string(p.s.acct), Input: input, Session: p.s.id()})
	if err != nil {
		return "", fromRPC(err)
	}
	return ids.UserID(r.GetUser()), nil
}
