package telegramtest

import (
	"maps"
	"slices"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// Edits, deletions and reactions in basic groups and channels. A basic
// group's message has a copy per member (groupCopies links them); a
// channel's message is one, in the channel's box.

// editGroupLocked changes the text of self's message in basic group id,
// in every member's copy.
func (s *Server) editGroupLocked(self *account, id int64, r *tg.MessagesEditMessageRequest) (bin.Encoder, error) {
	g := s.groups[id]
	if g == nil || !slices.Contains(g.members, self.user.ID) {
		return nil, tgerr.New(400, "CHAT_ID_INVALID")
	}
	m, ok := self.box[r.ID]
	if !ok || !m.Out {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	if m.Message == r.Message {
		return nil, tgerr.New(400, "MESSAGE_NOT_MODIFIED")
	}
	date := int(s.srvNow())
	var mine *tg.UpdateEditMessage
	for _, c := range s.groupCopies[msgRef{self.user.ID, r.ID}] {
		cm := s.users[c.user].box[c.id]
		if cm == nil {
			continue
		}
		cm.Message, cm.Entities, cm.EditDate = r.Message, r.Entities, date
		cm.SetFlags()
		if c.user == self.user.ID {
			self.pts++
			mine = &tg.UpdateEditMessage{Message: cm, Pts: self.pts, PtsCount: 1}
			self.log = append(self.log, mine)
			continue
		}
		s.pushLocked(s.users[c.user], &tg.UpdateEditMessage{Message: cm, PtsCount: 1}, self.user.ID)
	}
	return &tg.Updates{Updates: []tg.UpdateClass{mine}, Users: s.usersLocked(g.members...), Chats: []tg.ChatClass{g.chat(self.user.ID)}, Date: date}, nil
}

// message returns message id of channel c, unless deleted.
func (c *channel) message(id int) *tg.Message {
	if c.deleted[id] {
		return nil
	}
	for _, u := range c.log {
		if m, ok := u.(*tg.UpdateNewChannelMessage).Message.(*tg.Message); ok && m.ID == id {
			return m
		}
	}
	return nil
}

// mayChange reports whether user may edit or delete message m of c: its
// author, or in a broadcast channel an admin.
func (c *channel) mayChange(user int64, m *tg.Message) bool {
	if from, ok := m.FromID.(*tg.PeerUser); ok {
		return from.UserID == user
	}
	return c.Broadcast && c.isAdmin(user)
}

func (c *channel) markDeleted(ids []int) {
	if c.deleted == nil {
		c.deleted = map[int]bool{}
	}
	for _, id := range ids {
		c.deleted[id] = true
	}
}

// editChannelLocked changes the text of self's message in a channel.
func (s *Server) editChannelLocked(req *tgtest.Request, self *account, p *tg.InputPeerChannel, r *tg.MessagesEditMessageRequest) (bin.Encoder, error) {
	c, err := s.channelLocked(self, &tg.InputChannel{ChannelID: p.ChannelID, AccessHash: p.AccessHash})
	if err != nil {
		return nil, err
	}
	m := c.message(r.ID)
	if m == nil || !c.mayChange(self.user.ID, m) {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	if m.Message == r.Message {
		return nil, tgerr.New(400, "MESSAGE_NOT_MODIFIED")
	}
	m.Message, m.Entities, m.EditDate = r.Message, r.Entities, int(s.srvNow())
	m.SetFlags()
	c.pts++
	upd := &tg.UpdateEditChannelMessage{Message: m, Pts: c.pts, PtsCount: 1}
	s.sending = &req.Session
	s.pushChannelUpdateLocked(c, upd)
	s.sending = nil
	return &tg.Updates{Updates: []tg.UpdateClass{&tg.UpdateEditChannelMessage{Message: copyOut(m, true), Pts: c.pts, PtsCount: 1}},
		Chats: []tg.ChatClass{c.info(self.user.ID)}, Date: int(s.srvNow())}, nil
}

// deleteChannelMessages deletes messages of a channel for everyone.
func (s *Server) deleteChannelMessages(req *tgtest.Request, r *tg.ChannelsDeleteMessagesRequest) (bin.Encoder, error) {
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
	var gone []int
	for _, id := range r.ID {
		m := c.message(id)
		if m == nil {
			continue
		}
		if !c.mayChange(self.user.ID, m) && !c.isAdmin(self.user.ID) {
			return nil, tgerr.New(403, "MESSAGE_DELETE_FORBIDDEN")
		}
		gone = append(gone, id)
	}
	if len(gone) == 0 {
		return &tg.MessagesAffectedMessages{Pts: c.pts}, nil
	}
	c.markDeleted(gone)
	c.pts += len(gone)
	s.sending = &req.Session
	s.pushChannelUpdateLocked(c, &tg.UpdateDeleteChannelMessages{ChannelID: c.ID, Messages: gone, Pts: c.pts, PtsCount: len(gone)})
	s.sending = nil
	return &tg.MessagesAffectedMessages{Pts: c.pts, PtsCount: len(gone)}, nil
}

// reactGroupLocked sets self's reactions on its copy id of a basic
// group's message; the other members are told.
func (s *Server) reactGroupLocked(self *account, chat int64, id int, emojis []string) (bin.Encoder, error) {
	g := s.groups[chat]
	copies := s.groupCopies[msgRef{self.user.ID, id}]
	if g == nil || len(copies) == 0 {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	rs := s.reactionsOf(&s.reactions, copies[0])
	rs.set(self.user.ID, emojis)
	var mine tg.UpdateClass
	for _, c := range copies {
		upd := &tg.UpdateMessageReactions{Peer: &tg.PeerChat{ChatID: chat}, MsgID: c.id, Reactions: rs.view(c.user)}
		if c.user == self.user.ID {
			mine = upd
			continue
		}
		s.pushLocked(s.users[c.user], upd, self.user.ID)
	}
	return &tg.Updates{Updates: []tg.UpdateClass{mine}, Users: s.usersLocked(self.user.ID), Date: int(s.srvNow())}, nil
}

// reactChannelLocked sets self's reactions on a channel's message.
func (s *Server) reactChannelLocked(self *account, p *tg.InputPeerChannel, id int, emojis []string) (bin.Encoder, error) {
	c, err := s.channelLocked(self, &tg.InputChannel{ChannelID: p.ChannelID, AccessHash: p.AccessHash})
	if err != nil {
		return nil, err
	}
	if c.message(id) == nil {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	rs := s.reactionsOf(&s.chanReactions, msgRef{c.ID, id})
	rs.set(self.user.ID, emojis)
	var mine tg.UpdateClass
	for _, uid := range c.Members {
		upd := &tg.UpdateMessageReactions{Peer: &tg.PeerChannel{ChannelID: c.ID}, MsgID: id, Reactions: rs.view(uid)}
		if uid == self.user.ID {
			mine = upd
			continue
		}
		s.pushLocked(s.users[uid], upd, self.user.ID)
	}
	return &tg.Updates{Updates: []tg.UpdateClass{mine}, Users: s.usersLocked(self.user.ID), Chats: []tg.ChatClass{c.info(self.user.ID)}, Date: int(s.srvNow())}, nil
}

func (s *Server) reactionsOf(m *map[msgRef]reactions, key msgRef) reactions {
	if *m == nil {
		*m = map[msgRef]reactions{}
	}
	rs := (*m)[key]
	if rs == nil {
		rs = reactions{}
		(*m)[key] = rs
	}
	return rs
}

func (rs reactions) set(user int64, emojis []string) {
	if len(emojis) == 0 {
		delete(rs, user)
		return
	}
	rs[user] = emojis
}

// GroupReactions returns the reactions on user's copy id of a basic
// group's message, by who put them.
func (s *Server) GroupReactions(user int64, id int) map[int64][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	copies := s.groupCopies[msgRef{user, id}]
	if len(copies) == 0 {
		return nil
	}
	return maps.Clone(s.reactions[copies[0]])
}

// ChannelReactions returns the reactions on message id of channel ch, by
// who put them.
func (s *Server) ChannelReactions(ch int64, id int) map[int64][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.chanReactions[msgRef{ch, id}])
}

// GroupMessage returns user's copy id of a basic group's message.
func (s *Server) GroupMessage(user int64, id int) (tg.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.users[user]
	if a == nil || a.box[id] == nil {
		return tg.Message{}, false
	}
	return *a.box[id], true
}

// GroupCopy returns the id of member's copy of the basic group message
// that user has as id.
func (s *Server) GroupCopy(user int64, id int, member int64) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.groupCopies[msgRef{user, id}] {
		if c.user == member {
			_, ok := s.users[member].box[c.id]
			return c.id, ok
		}
	}
	return 0, false
}
