package telegramtest

import (
	"slices"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// Managing groups and channels: descriptions, members, admins, leaving,
// creating. As on Telegram, a basic group's creator and admins manage it,
// and a channel's admins; only creators promote.

// userOfLocked resolves an input user (self included).
func (s *Server) userOfLocked(self *account, in tg.InputUserClass) (*account, error) {
	switch u := in.(type) {
	case *tg.InputUserSelf:
		return self, nil
	case *tg.InputUser:
		a, ok := s.users[u.UserID]
		if !ok || a.user.AccessHash != u.AccessHash {
			return nil, tgerr.New(400, "USER_ID_INVALID")
		}
		return a, nil
	}
	return nil, tgerr.New(400, "USER_ID_INVALID")
}

func (g *group) isAdmin(user int64) bool { return user == g.creator || slices.Contains(g.admins, user) }

// groupOfLocked finds a basic group self belongs to.
func (s *Server) groupOfLocked(self *account, id int64) (*group, error) {
	g := s.groups[id]
	if g == nil || !slices.Contains(g.members, self.user.ID) {
		return nil, tgerr.New(400, "CHAT_ID_INVALID")
	}
	return g, nil
}

// groupAnswer is the answer to a change of basic group g that made the
// service message upd of self.
func (s *Server) groupAnswer(self *account, g *group, upd *tg.UpdateNewMessage) *tg.Updates {
	res := &tg.Updates{Users: s.usersLocked(g.members...), Chats: []tg.ChatClass{g.chat(self.user.ID)}, Date: int(s.srvNow())}
	if upd != nil {
		res.Updates = []tg.UpdateClass{upd}
	}
	return res
}

func (s *Server) editChatAbout(req *tgtest.Request, r *tg.MessagesEditChatAboutRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	switch p := r.Peer.(type) {
	case *tg.InputPeerChat:
		g, err := s.groupOfLocked(self, p.ChatID)
		if err != nil {
			return nil, err
		}
		if !g.isAdmin(self.user.ID) {
			return nil, tgerr.New(400, "CHAT_ADMIN_REQUIRED")
		}
		g.about = r.About
	case *tg.InputPeerChannel:
		c, err := s.channelLocked(self, &tg.InputChannel{ChannelID: p.ChannelID, AccessHash: p.AccessHash})
		if err != nil {
			return nil, err
		}
		if !c.isAdmin(self.user.ID) {
			return nil, tgerr.New(400, "CHAT_ADMIN_REQUIRED")
		}
		c.About = r.About
	default:
		return nil, tgerr.New(400, "PEER_ID_INVALID")
	}
	return &tg.BoolTrue{}, nil
}

func (s *Server) addChatUser(req *tgtest.Request, r *tg.MessagesAddChatUserRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	g, err := s.groupOfLocked(self, r.ChatID)
	if err != nil {
		return nil, err
	}
	user, err := s.userOfLocked(self, r.UserID)
	if err != nil {
		return nil, err
	}
	if slices.Contains(g.members, user.user.ID) {
		return nil, tgerr.New(400, "USER_ALREADY_PARTICIPANT")
	}
	g.members = append(g.members, user.user.ID)
	s.sending = &req.Session
	upd := s.serviceLocked(self.user.ID, g, &tg.MessageActionChatAddUser{Users: []int64{user.user.ID}}, user.user.ID)
	s.sending = nil
	return &tg.MessagesInvitedUsers{Updates: s.groupAnswer(self, g, upd)}, nil
}

func (s *Server) deleteChatUser(req *tgtest.Request, r *tg.MessagesDeleteChatUserRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	g, err := s.groupOfLocked(self, r.ChatID)
	if err != nil {
		return nil, err
	}
	user, err := s.userOfLocked(self, r.UserID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(g.members, user.user.ID) {
		return nil, tgerr.New(400, "USER_NOT_PARTICIPANT")
	}
	if user != self && !g.isAdmin(self.user.ID) {
		return nil, tgerr.New(400, "CHAT_ADMIN_REQUIRED")
	}
	s.sending = &req.Session
	upd := s.serviceLocked(self.user.ID, g, &tg.MessageActionChatDeleteUser{UserID: user.user.ID}, user.user.ID)
	s.sending = nil
	g.members = slices.DeleteFunc(g.members, func(m int64) bool { return m == user.user.ID })
	g.admins = slices.DeleteFunc(g.admins, func(m int64) bool { return m == user.user.ID })
	return s.groupAnswer(self, g, upd), nil
}

func (s *Server) editChatAdmin(req *tgtest.Request, r *tg.MessagesEditChatAdminRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	g, err := s.groupOfLocked(self, r.ChatID)
	if err != nil {
		return nil, err
	}
	user, err := s.userOfLocked(self, r.UserID)
	if err != nil {
		return nil, err
	}
	if g.creator != self.user.ID {
		return nil, tgerr.New(400, "CHAT_ADMIN_REQUIRED")
	}
	if !slices.Contains(g.members, user.user.ID) {
		return nil, tgerr.New(400, "USER_NOT_PARTICIPANT")
	}
	g.admins = slices.DeleteFunc(g.admins, func(m int64) bool { return m == user.user.ID })
	if r.IsAdmin {
		g.admins = append(g.admins, user.user.ID)
	}
	return &tg.BoolTrue{}, nil
}

func (s *Server) createChat(req *tgtest.Request, r *tg.MessagesCreateChatRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	var members []int64
	for _, in := range r.Users {
		u, err := s.userOfLocked(self, in)
		if err != nil {
			return nil, err
		}
		members = append(members, u.user.ID)
	}
	if s.groups == nil {
		s.groups = map[int64]*group{}
	}
	id := int64(500)
	for s.groups[id] != nil {
		id++
	}
	g := &group{id: id, title: r.Title, creator: self.user.ID, members: append([]int64{self.user.ID}, members...)}
	s.groups[id] = g
	s.sending = &req.Session
	upd := s.serviceLocked(self.user.ID, g, &tg.MessageActionChatCreate{Title: r.Title, Users: g.members}, members...)
	s.sending = nil
	return &tg.MessagesInvitedUsers{Updates: s.groupAnswer(self, g, upd)}, nil
}

// channelServiceLocked posts a service message of actor in channel c and
// returns the answer for actor.
func (s *Server) channelServiceLocked(req *tgtest.Request, c *channel, actor *account, action tg.MessageActionClass) *tg.Updates {
	c.lastID++
	m := &tg.MessageService{ID: c.lastID, FromID: &tg.PeerUser{UserID: actor.user.ID}, PeerID: &tg.PeerChannel{ChannelID: c.ID},
		Date: int(s.srvNow()), Action: action}
	m.SetFlags()
	s.sending = &req.Session
	s.pushChannelLocked(c, m, actor.user.ID, true)
	s.sending = nil
	return &tg.Updates{
		Updates: []tg.UpdateClass{&tg.UpdateNewChannelMessage{Message: copyOut(m, true), Pts: c.pts, PtsCount: 1}},
		Users:   s.usersLocked(actor.user.ID), Chats: []tg.ChatClass{c.info(actor.user.ID)}, Date: int(s.srvNow()),
	}
}

func (s *Server) inviteToChannel(req *tgtest.Request, r *tg.ChannelsInviteToChannelRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	c, err := s.channelLocked(self, r.Channel)
	if err != nil {
		return nil, err
	}
	if !c.isAdmin(self.user.ID) {
		return nil, tgerr.New(400, "CHAT_ADMIN_REQUIRED")
	}
	var added []int64
	for _, in := range r.Users {
		u, err := s.userOfLocked(self, in)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(c.Members, u.user.ID) {
			c.Members = append(c.Members, u.user.ID)
			added = append(added, u.user.ID)
		}
	}
	if len(added) == 0 {
		return nil, tgerr.New(400, "USER_ALREADY_PARTICIPANT")
	}
	return &tg.MessagesInvitedUsers{Updates: s.channelServiceLocked(req, c, self, &tg.MessageActionChatAddUser{Users: added})}, nil
}

func (s *Server) editBanned(req *tgtest.Request, r *tg.ChannelsEditBannedRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	c, err := s.channelLocked(self, r.Channel)
	if err != nil {
		return nil, err
	}
	p, ok := r.Participant.(*tg.InputPeerUser)
	if !ok {
		return nil, tgerr.New(400, "PARTICIPANT_ID_INVALID")
	}
	user, err := s.userOfLocked(self, &tg.InputUser{UserID: p.UserID, AccessHash: p.AccessHash})
	if err != nil {
		return nil, err
	}
	if !c.isAdmin(self.user.ID) || user.user.ID == c.Creator {
		return nil, tgerr.New(400, "CHAT_ADMIN_REQUIRED")
	}
	if !slices.Contains(c.Members, user.user.ID) {
		return nil, tgerr.New(400, "USER_NOT_PARTICIPANT")
	}
	res := s.channelServiceLocked(req, c, self, &tg.MessageActionChatDeleteUser{UserID: user.user.ID})
	c.Members = slices.DeleteFunc(c.Members, func(m int64) bool { return m == user.user.ID })
	c.Admins = slices.DeleteFunc(c.Admins, func(m int64) bool { return m == user.user.ID })
	return res, nil
}

func (s *Server) editAdmin(req *tgtest.Request, r *tg.ChannelsEditAdminRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	c, err := s.channelLocked(self, r.Channel)
	if err != nil {
		return nil, err
	}
	user, err := s.userOfLocked(self, r.UserID)
	if err != nil {
		return nil, err
	}
	if c.Creator != self.user.ID {
		return nil, tgerr.New(400, "RIGHT_FORBIDDEN")
	}
	if !slices.Contains(c.Members, user.user.ID) {
		return nil, tgerr.New(400, "USER_NOT_PARTICIPANT")
	}
	c.Admins = slices.DeleteFunc(c.Admins, func(m int64) bool { return m == user.user.ID })
	if !r.AdminRights.Zero() {
		c.Admins = append(c.Admins, user.user.ID)
	}
	return &tg.Updates{Chats: []tg.ChatClass{c.info(self.user.ID)}, Date: int(s.srvNow())}, nil
}

func (s *Server) leaveChannel(req *tgtest.Request, r *tg.ChannelsLeaveChannelRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	c, err := s.channelLocked(self, r.Channel)
	if err != nil {
		return nil, err
	}
	if c.Creator == self.user.ID {
		return nil, tgerr.New(400, "CHANNEL_CREATOR_LEAVE") // hand it over first, as Telegram asks
	}
	c.Members = slices.DeleteFunc(c.Members, func(m int64) bool { return m == self.user.ID })
	c.Admins = slices.DeleteFunc(c.Admins, func(m int64) bool { return m == self.user.ID })
	return &tg.Updates{Chats: []tg.ChatClass{c.info(self.user.ID)}, Date: int(s.srvNow())}, nil
}

// GroupAbout returns basic group id's description, and its admins.
func (s *Server) GroupAbout(id int64) (about string, admins []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[id]; g != nil {
		return g.about, slices.Clone(g.admins)
	}
	return "", nil
}

// GroupMembers returns basic group id's members (creator first).
func (s *Server) GroupMembers(id int64) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[id]; g != nil {
		return slices.Clone(g.members)
	}
	return nil
}

// ChannelState returns channel id's description, members and admins.
func (s *Server) ChannelState(id int64) (about string, members, admins []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[id]; c != nil {
		return c.About, slices.Clone(c.Members), slices.Clone(c.Admins)
	}
	return "", nil, nil
}
