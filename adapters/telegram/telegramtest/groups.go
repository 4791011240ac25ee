package telegramtest

import (
	"maps"
	"slices"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// Basic groups ("chats"): each member has its own copy of every message
// (its own ids), with the chat as peer and the author in from_id.

// group is a basic group.
type group struct {
	id      int64
	title   string
	about   string
	creator int64
	admins  []int64
	members []int64 // creator included
	photo   int64   // the photo's file id; 0: none
}

// AddGroup creates a basic group whose creator and members are users
// added before.
func (s *Server) AddGroup(id int64, title, about string, creator int64, admins []int64, members ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups == nil {
		s.groups = map[int64]*group{}
	}
	s.groups[id] = &group{id: id, title: title, about: about, creator: creator, admins: admins,
		members: append([]int64{creator}, members...)}
}

// SendGroup makes user from write text in group id.
func (s *Server) SendGroup(from, id int64, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, a := s.groups[id], s.users[from]
	if g == nil || a == nil || !slices.Contains(g.members, from) {
		return errNoUser
	}
	s.deliverGroupLocked(a, g, text, 0)
	return nil
}

// deliverGroupLocked gives every member its copy and returns the
// sender's.
func (s *Server) deliverGroupLocked(from *account, g *group, text string, replyTo int) *tg.Message {
	var out *tg.Message
	var copies []msgRef
	if s.groupCopies == nil {
		s.groupCopies = map[msgRef][]msgRef{}
	}
	for _, uid := range g.members {
		member := s.users[uid]
		m := &tg.Message{
			ID: member.nextID(), Out: uid == from.user.ID, FromID: &tg.PeerUser{UserID: from.user.ID},
			PeerID: &tg.PeerChat{ChatID: g.id}, Date: int(s.srvNow()), Message: text,
		}
		if replyTo != 0 && uid == from.user.ID {
			m.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: replyTo}
		}
		m.Media = s.pendingMedia
		m.SetFlags()
		member.box[m.ID] = m
		copies = append(copies, msgRef{uid, m.ID})
		s.groupCopies[msgRef{uid, m.ID}] = copies
		var except *tgtest.Session
		if uid == from.user.ID {
			out, except = m, s.sending
		}
		s.pushExceptLocked(member, &tg.UpdateNewMessage{Message: m, PtsCount: 1}, except, from.user.ID)
	}
	for _, c := range copies {
		s.groupCopies[c] = copies
	}
	return out
}

func (g *group) chat(self int64) *tg.Chat {
	c := &tg.Chat{ID: g.id, Title: g.title, Photo: chatPhoto(g.photo), ParticipantsCount: len(g.members), Creator: g.creator == self, Version: 1}
	c.SetFlags()
	return c
}

// getDialogs lists the account's groups and channels only (one-to-one dialogs are not
// needed by the adapter), all on one page.
func (s *Server) getDialogs(req *tgtest.Request, _ *tg.MessagesGetDialogsRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	res := &tg.MessagesDialogs{}
	ids := make([]int64, 0, len(s.groups))
	for id := range s.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if g := s.groups[id]; slices.Contains(g.members, self.user.ID) {
			res.Chats = append(res.Chats, g.chat(self.user.ID))
			res.Dialogs = append(res.Dialogs, &tg.Dialog{Peer: &tg.PeerChat{ChatID: id}})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.channels)) {
		if c := s.channels[id]; slices.Contains(c.Members, self.user.ID) {
			res.Chats = append(res.Chats, c.info(self.user.ID))
			d := &tg.Dialog{Peer: &tg.PeerChannel{ChannelID: id}, Pts: c.pts}
			d.SetFlags()
			res.Dialogs = append(res.Dialogs, d)
		}
	}
	return res, nil
}

func (s *Server) getFullChat(req *tgtest.Request, r *tg.MessagesGetFullChatRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	g := s.groups[r.ChatID]
	if g == nil || !slices.Contains(g.members, self.user.ID) {
		return nil, tgerr.New(400, "CHAT_ID_INVALID")
	}
	parts := &tg.ChatParticipants{ChatID: g.id, Version: 1}
	for _, uid := range g.members {
		switch {
		case uid == g.creator:
			parts.Participants = append(parts.Participants, &tg.ChatParticipantCreator{UserID: uid})
		case slices.Contains(g.admins, uid):
			parts.Participants = append(parts.Participants, &tg.ChatParticipantAdmin{UserID: uid, InviterID: g.creator})
		default:
			parts.Participants = append(parts.Participants, &tg.ChatParticipant{UserID: uid, InviterID: g.creator})
		}
	}
	full := &tg.ChatFull{ID: g.id, About: g.about, Participants: parts}
	full.SetFlags()
	return &tg.MessagesChatFull{FullChat: full, Chats: []tg.ChatClass{g.chat(self.user.ID)}, Users: s.usersLocked(g.members...)}, nil
}

// AddToGroup makes actor add user to group id.
func (s *Server) AddToGroup(actor, id, user int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || s.users[actor] == nil || s.users[user] == nil {
		return errNoUser
	}
	if !slices.Contains(g.members, user) {
		g.members = append(g.members, user)
	}
	s.serviceLocked(actor, g, &tg.MessageActionChatAddUser{Users: []int64{user}}, user)
	return nil
}

// RemoveFromGroup makes actor remove user from group id (actor == user:
// the user leaves).
func (s *Server) RemoveFromGroup(actor, id, user int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || !slices.Contains(g.members, user) {
		return errNoUser
	}
	s.serviceLocked(actor, g, &tg.MessageActionChatDeleteUser{UserID: user}, user)
	g.members = slices.DeleteFunc(g.members, func(m int64) bool { return m == user })
	return nil
}

// serviceLocked delivers a service message of actor to every member and
// returns the actor's update (nil if the actor is not a member); the
// session whose request is being answered gets it in the answer only.
func (s *Server) serviceLocked(actor int64, g *group, action tg.MessageActionClass, users ...int64) *tg.UpdateNewMessage {
	var mine *tg.UpdateNewMessage
	for _, uid := range g.members {
		member := s.users[uid]
		m := &tg.MessageService{
			ID: member.nextID(), Out: uid == actor, FromID: &tg.PeerUser{UserID: actor},
			PeerID: &tg.PeerChat{ChatID: g.id}, Date: int(s.srvNow()), Action: action,
		}
		m.SetFlags()
		upd := &tg.UpdateNewMessage{Message: m, PtsCount: 1}
		var except *tgtest.Session
		if uid == actor {
			mine, except = upd, s.sending
		}
		s.pushExceptLocked(member, upd, except, append([]int64{actor}, users...)...)
	}
	return mine
}

// RenameGroup makes actor change group id's title.
func (s *Server) RenameGroup(actor, id int64, title string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || !slices.Contains(g.members, actor) {
		return errNoUser
	}
	g.title = title
	s.serviceLocked(actor, g, &tg.MessageActionChatEditTitle{Title: title})
	return nil
}
