package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// groupCap bounds the groups whose name and topic a session remembers.
const groupCap = 10_000

// groupState is what a session remembers of a group between WhatsApp's
// notifications, which carry only what changed: its name and topic, and
// how it addresses its members (mentions.go).
type groupState struct {
	name, topic string
	addressing  types.AddressingMode
	// picture is the id of the group's picture ("" none), once known
	// (groupavatar.go).
	picture      string
	pictureKnown bool
}

// IsGroup implements gateway.GroupManager: a group's ChatID is
// "group-<id>" (a JID on g.us).
func (s *Session) IsGroup(chat ids.ChatID) bool { return waid.IsGroup(chat) }

// groupJID checks that chat names a group and returns its JID.
func (s *Session) groupJID(chat ids.ChatID) (types.JID, error) {
	if !waid.IsGroup(chat) {
		return types.EmptyJID, fmt.Errorf("whatsapp: %q is not a group: %w", chat, gateway.ErrUnknownChat)
	}
	jid, err := waid.JID(string(chat))
	if err != nil || jid.Server != types.GroupServer {
		return types.EmptyJID, fmt.Errorf("whatsapp: %q is not a group: %w", chat, gateway.ErrUnknownChat)
	}
	return jid, nil
}

// memberJIDs reads the UserIDs of group members.
func memberJIDs(users []ids.UserID) ([]types.JID, error) {
	out := make([]types.JID, 0, len(users))
	for _, u := range users {
		jid, err := waid.JID(string(u))
		if err != nil || (jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer) {
			return nil, fmt.Errorf("whatsapp: %q is not a WhatsApp user: %w", u, gateway.ErrUnknownChat)
		}
		out = append(out, jid)
	}
	return out, nil
}

// groupErr maps a whatsmeow group error to the hub's sentinels: an
// unknown group (or one the account is not in) ErrUnknownChat, a refusal
// (not an admin) ErrForbidden, a request WhatsApp rejects ErrNotAcceptable.
func groupErr(what string, err error) error {
	code := 0
	var iqe *whatsmeow.IQError
	if errors.As(err, &iqe) {
		code = iqe.Code
	}
	switch {
	case errors.Is(err, whatsmeow.ErrGroupNotFound), errors.Is(err, whatsmeow.ErrNotInGroup), code == 404:
		return fmt.Errorf("whatsapp: %s: %w: %w", what, err, gateway.ErrUnknownChat)
	case code == 401, code == 403:
		return fmt.Errorf("whatsapp: %s: %w: %w", what, err, gateway.ErrForbidden)
	case code == 400, code == 406:
		return fmt.Errorf("whatsapp: %s: %w: %w", what, err, gateway.ErrNotAcceptable)
	}
	return sendErr(what, err)
}

// ListGroups implements gateway.GroupManager: the groups WhatsApp says
// the account belongs to, with their members. Communities (their parent
// "groups") are left out: nobody writes in them. A group's AvatarHash is
// there only once the session knows it (from GroupInfo or an
// events.Picture): asking WhatsApp for every group's picture, one request
// each, would hold up the listing the XMPP side invites with; GroupInfo,
// which a room's join, disco and vCard read, asks.
func (s *Session) ListGroups(ctx context.Context) ([]gateway.GroupInfo, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	groups, err := s.c.client.GetJoinedGroups(ctx)
	if err != nil {
		return nil, groupErr("listing groups", err)
	}
	out := make([]gateway.GroupInfo, 0, len(groups))
	for _, g := range groups {
		if g == nil || g.IsParent {
			continue
		}
		s.rememberGroup(g)
		s.noteGroupTimer(ctx, g)
		gi := convert.GroupInfo(ctx, s.env(), g)
		gi.AvatarHash = s.knownGroupPicture(g.JID)
		out = append(out, gi)
	}
	return out, nil
}

// GroupInfo implements gateway.GroupManager.
func (s *Session) GroupInfo(ctx context.Context, chat ids.ChatID) (gateway.GroupInfo, error) {
	jid, err := s.groupJID(chat)
	if err != nil {
		return gateway.GroupInfo{}, err
	}
	if err := s.ready(); err != nil {
		return gateway.GroupInfo{}, err
	}
	g, err := s.c.client.GetGroupInfo(ctx, jid)
	if err != nil {
		return gateway.GroupInfo{}, groupErr("reading group "+string(chat), err)
	}
	if g == nil {
		return gateway.GroupInfo{}, fmt.Errorf("whatsapp: group %s: %w", chat, gateway.ErrUnknownChat)
	}
	s.rememberGroup(g)
	s.noteGroupTimer(ctx, g)
	gi := convert.GroupInfo(ctx, s.env(), g)
	gi.AvatarHash = s.groupPicture(ctx, g.JID)
	return gi, nil
}

// SetGroupTopic implements gateway.GroupManager: it sets the group's
// description (an empty topic deletes it).
func (s *Session) SetGroupTopic(ctx context.Context, chat ids.ChatID, topic string) error {
	jid, err := s.groupJID(chat)
	if err != nil {
		return err
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.c.client.SetGroupTopic(ctx, jid, "", "", strings.TrimSpace(topic)); err != nil {
		return groupErr("setting the topic of "+string(chat), err)
	}
	return nil
}

// updateParticipant adds, removes, promotes or demotes one member.
func (s *Session) updateParticipant(ctx context.Context, chat ids.ChatID, user ids.UserID, action whatsmeow.ParticipantChange, what string) error {
	jid, err := s.groupJID(chat)
	if err != nil {
		return err
	}
	users, err := memberJIDs([]ids.UserID{user})
	if err != nil {
		return err
	}
	if err := s.ready(); err != nil {
		return err
	}
	res, err := s.c.client.UpdateGroupParticipants(ctx, jid, users, action)
	if err != nil {
		return groupErr(what+" "+string(user), err)
	}
	for _, p := range res {
		if err := participantErr(p.Error); err != nil {
			return fmt.Errorf("whatsapp: %s %s: WhatsApp answered %d: %w", what, user, p.Error, err)
		}
	}
	return nil
}

// participantErr maps the error code WhatsApp gives for one participant
// of a change (0: none).
func participantErr(code int) error {
	switch code {
	case 0, 200:
		return nil
	case 401, 403:
		return gateway.ErrForbidden
	case 404:
		return gateway.ErrUnknownChat
	case 408, 409:
		// 408: the user left recently and cannot be re-added yet; 409:
		// already a member.
		return gateway.ErrNotAcceptable
	}
	return gateway.ErrNotAcceptable
}

// RemoveMember implements gateway.GroupManager.
func (s *Session) RemoveMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	if user == ids.UserID(s.acct) {
		return s.LeaveGroup(ctx, chat)
	}
	return s.updateParticipant(ctx, chat, user, whatsmeow.ParticipantChangeRemove, "removing")
}

// SetMemberRole implements gateway.GroupManager: RoleAdmin promotes,
// RoleMember demotes. WhatsApp has no way to make someone the owner.
func (s *Session) SetMemberRole(ctx context.Context, chat ids.ChatID, user ids.UserID, role gateway.GroupRole) error {
	switch role {
	case gateway.RoleAdmin:
		return s.updateParticipant(ctx, chat, user, whatsmeow.ParticipantChangePromote, "promoting")
	case gateway.RoleMember:
		return s.updateParticipant(ctx, chat, user, whatsmeow.ParticipantChangeDemote, "demoting")
	}
	return fmt.Errorf("whatsapp: a member cannot be made %s: %w", role, gateway.ErrNotSupported)
}

// AddMember implements gateway.GroupManager. A user whose privacy
// settings forbid being added gets an error (WhatsApp would want an
// invitation link sent instead).
func (s *Session) AddMember(ctx context.Context, chat ids.ChatID, user ids.UserID) error {
	return s.updateParticipant(ctx, chat, user, whatsmeow.ParticipantChangeAdd, "adding")
}

// LeaveGroup implements gateway.GroupManager.
func (s *Session) LeaveGroup(ctx context.Context, chat ids.ChatID) error {
	jid, err := s.groupJID(chat)
	if err != nil {
		return err
	}
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.c.client.LeaveGroup(ctx, jid); err != nil {
		return groupErr("leaving "+string(chat), err)
	}
	return nil
}

// MaxGroupNameLength is the longest group name WhatsApp takes, in
// characters.
const MaxGroupNameLength = 100

// CreateGroup implements gateway.GroupManager.
func (s *Session) CreateGroup(ctx context.Context, name string, members []ids.UserID) (ids.ChatID, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("whatsapp: a group needs a name: %w", gateway.ErrBadRequest)
	}
	if len([]rune(name)) > MaxGroupNameLength {
		return "", fmt.Errorf("whatsapp: group names have at most %d characters: %w", MaxGroupNameLength, gateway.ErrNotAcceptable)
	}
	others := make([]ids.UserID, 0, len(members))
	for _, m := range members {
		if m != ids.UserID(s.acct) {
			others = append(others, m)
		}
	}
	jids, err := memberJIDs(others)
	if err != nil {
		return "", err
	}
	if err := s.ready(); err != nil {
		return "", err
	}
	g, err := s.c.client.CreateGroup(ctx, whatsmeow.ReqCreateGroup{Name: name, Participants: jids})
	if err != nil {
		return "", groupErr("creating group "+name, err)
	}
	if g == nil || g.JID.IsEmpty() {
		return "", fmt.Errorf("whatsapp: creating group %s: no group in WhatsApp's answer", name)
	}
	s.rememberGroup(g)
	return convert.GroupChat(ctx, s.env(), g.JID), nil
}

// rememberGroup records a group's name and topic.
func (s *Session) rememberGroup(g *types.GroupInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups == nil || len(s.groups) >= groupCap {
		s.groups = map[types.JID]groupState{}
	}
	topic := g.Topic
	if g.TopicDeleted {
		topic = ""
	}
	prev, had := s.groups[g.JID.ToNonAD()]
	addressing := g.AddressingMode
	if addressing == "" {
		addressing = prev.addressing
	}
	s.groups[g.JID.ToNonAD()] = groupState{name: g.Name, topic: topic, addressing: addressing,
		picture: prev.picture, pictureKnown: had && prev.pictureKnown}
}

// knownGroup returns what the session knows of a group before a change:
// remembered, or else asked from WhatsApp; nil if neither.
func (s *Session) knownGroup(ctx context.Context, jid types.JID) *types.GroupInfo {
	s.mu.Lock()
	st, ok := s.groups[jid.ToNonAD()]
	s.mu.Unlock()
	if ok && (st.name != "" || st.topic != "") {
		gi := &types.GroupInfo{JID: jid}
		gi.Name, gi.Topic = st.name, st.topic
		return gi
	}
	g, err := s.c.client.GetGroupInfo(ctx, jid)
	if err != nil || g == nil {
		s.log.Debug("whatsapp: cannot read a changed group", "group", jid, "err", err)
		return nil
	}
	return g
}

// onGroupInfo handles a change of a group: its name, topic or members.
func (s *Session) onGroupInfo(ctx context.Context, e *events.GroupInfo) bool {
	if e.Ephemeral != nil && !s.onGroupTimer(ctx, e) { // disappearing.go
		return false
	}
	var known *types.GroupInfo
	if e.Name != nil || e.Topic != nil {
		known = s.knownGroup(ctx, e.JID)
		next := &types.GroupInfo{JID: e.JID}
		if known != nil {
			next.Name, next.GroupTopic = known.Name, known.GroupTopic
		}
		if e.Name != nil {
			next.Name = e.Name.Name
		}
		if e.Topic != nil {
			next.GroupTopic = *e.Topic
		}
		s.rememberGroup(next)
	}
	for _, ev := range convert.GroupChange(ctx, s.env(), e, known) {
		if !s.emit(ctx, ev) {
			return false
		}
	}
	return true
}

// onJoinedGroup handles the account being added to a group.
func (s *Session) onJoinedGroup(ctx context.Context, e *events.JoinedGroup) bool {
	if e.IsParent {
		return true
	}
	s.rememberGroup(&e.GroupInfo)
	s.noteGroupTimer(ctx, &e.GroupInfo)
	ci := convert.JoinedGroup(ctx, s.env(), e)
	if ci.Time.IsZero() {
		ci.Time = s.a.now()
	}
	return s.emit(ctx, ci)
}
