package telegramtest

import (
	"maps"
	"slices"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// Channels: supergroups (Megagroup), broadcast channels and forums (a
// supergroup with topics). Unlike a basic group, a channel has one
// message box of its own: message ids and the update state (pts) are
// the channel's, the same for every member, and its updates
// (updateNewChannelMessage) are fetched again with
// updates.getChannelDifference, not updates.getDifference.

// Channel describes a channel for AddChannel.
type Channel struct {
	ID    int64
	Title string
	About string
	// Broadcast: a channel where only admins post; else a supergroup.
	Broadcast bool
	// Forum: a supergroup with topics.
	Forum   bool
	Creator int64
	Admins  []int64
	// Members are the members besides the creator.
	Members []int64
	// Hidden is how many more members the channel has that are not
	// listed (a very large group): channels.getParticipants lists only
	// the admins then, as Telegram does for huge groups.
	Hidden int
}

// channel is a channel's server-side state.
type channel struct {
	Channel
	hash   int64
	pts    int
	lastID int
	// log holds the channel's pts-carrying updates, for
	// updates.getChannelDifference.
	log []tg.UpdateClass
	// topics are a forum's topics: id (its creating message) → title.
	topics map[int]string
	photo  int64 // the photo's file id; 0: none
	// deleted are the ids of messages deleted for everyone.
	deleted map[int]bool
	// closed are the forum's closed topics (only admins post in them).
	closed map[int]bool
}

// AddChannel creates a channel whose users were added before.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channels == nil {
		s.channels = map[int64]*channel{}
	}
	c.Members = append([]int64{c.Creator}, c.Members...)
	ch := &channel{Channel: c, hash: c.ID*31 + 7, topics: map[int]string{}}
	if c.Forum {
		// Message 1 created the forum; it stands for the General topic,
		// so topics have ids above it.
		ch.lastID = 1
	}
	s.channels[c.ID] = ch
}

func (c *channel) size() int { return len(c.Members) + c.Hidden }

func (c *channel) isAdmin(user int64) bool {
	return user == c.Creator || slices.Contains(c.Admins, user)
}

// info is the channel as user self sees it.
func (c *channel) info(self int64) *tg.Channel {
	ch := &tg.Channel{
		ID: c.ID, AccessHash: c.hash, Title: c.Title, Photo: chatPhoto(c.photo),
		Broadcast: c.Broadcast, Megagroup: !c.Broadcast, Forum: c.Forum,
		Creator: c.Creator == self, ParticipantsCount: c.size(),
	}
	if c.isAdmin(self) && c.Creator != self {
		ch.AdminRights = tg.ChatAdminRights{PostMessages: true, ChangeInfo: true}
		ch.AdminRights.SetFlags()
	}
	ch.SetFlags()
	return ch
}

// AddTopic makes actor open a topic in forum id and returns the topic's
// id (that of its creating service message).
func (s *Server) AddTopic(actor, id int64, title string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil || !c.Forum || !slices.Contains(c.Members, actor) {
		return 0, errNoUser
	}
	c.lastID++
	m := &tg.MessageService{ID: c.lastID, FromID: &tg.PeerUser{UserID: actor}, PeerID: &tg.PeerChannel{ChannelID: id},
		Date: int(s.srvNow()), Action: &tg.MessageActionTopicCreate{Title: title}}
	m.SetFlags()
	c.topics[m.ID] = title
	s.pushChannelLocked(c, m, actor, true)
	return m.ID, nil
}

// CloseTopic makes actor (an admin) close or reopen a topic of forum id.
func (s *Server) CloseTopic(actor, id int64, topic int, closed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil || !c.isAdmin(actor) {
		return errNoUser
	}
	if _, ok := c.topics[topic]; !ok {
		return errNoUser
	}
	if c.closed == nil {
		c.closed = map[int]bool{}
	}
	c.closed[topic] = closed
	action := &tg.MessageActionTopicEdit{}
	action.SetClosed(closed)
	h := &tg.MessageReplyHeader{ForumTopic: true, ReplyToMsgID: topic}
	h.SetFlags()
	c.lastID++
	m := &tg.MessageService{ID: c.lastID, FromID: &tg.PeerUser{UserID: actor}, PeerID: &tg.PeerChannel{ChannelID: id},
		ReplyTo: h, Date: int(s.srvNow()), Action: action}
	m.SetFlags()
	s.pushChannelLocked(c, m, actor, true)
	return nil
}

// Post makes user from write text in channel id, in a forum's topic
// (0: none, or the General topic), and returns the message's id.
func (s *Server) Post(from, id int64, topic int, text string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil || !slices.Contains(c.Members, from) {
		return 0, errNoUser
	}
	return s.postLocked(c, from, topic, 0, text, true), nil
}

// PostUnseen is Post whose update reaches no client: the next one
// leaves a gap in the channel's pts, as a lost push does.
func (s *Server) PostUnseen(from, id int64, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil || !slices.Contains(c.Members, from) {
		return errNoUser
	}
	s.postLocked(c, from, 0, 0, text, false)
	return nil
}

// postLocked stores a message of the channel and pushes it to the
// members when push is set.
func (s *Server) postLocked(c *channel, from int64, topic, replyTo int, text string, push bool) int {
	c.lastID++
	m := &tg.Message{ID: c.lastID, PeerID: &tg.PeerChannel{ChannelID: c.ID}, Date: int(s.srvNow()), Message: text, Media: s.pendingMedia}
	if !c.Broadcast {
		m.FromID = &tg.PeerUser{UserID: from} // broadcast posts are the channel's own
	}
	switch {
	case topic != 0 && replyTo != 0:
		m.ReplyTo = &tg.MessageReplyHeader{ForumTopic: true, ReplyToMsgID: replyTo, ReplyToTopID: topic}
	case topic != 0:
		m.ReplyTo = &tg.MessageReplyHeader{ForumTopic: true, ReplyToMsgID: topic}
	case replyTo != 0:
		m.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: replyTo}
	}
	if h, ok := m.ReplyTo.(*tg.MessageReplyHeader); ok {
		h.SetFlags()
	}
	m.SetFlags()
	s.pushChannelLocked(c, m, from, push)
	return m.ID
}

// pushChannelLocked gives a new channel message the channel's next pts,
// logs it and sends it to every member's live sessions (their own copy,
// Out set for its author), sparing the session being answered.
func (s *Server) pushChannelLocked(c *channel, m tg.MessageClass, from int64, push bool) {
	c.pts++
	c.log = append(c.log, &tg.UpdateNewChannelMessage{Message: m, Pts: c.pts, PtsCount: 1})
	s.notifyLocked()
	if !push {
		return
	}
	for _, uid := range c.Members {
		a := s.users[uid]
		if a == nil || a.offline {
			continue
		}
		cp := copyOut(m, uid == from)
		msg := &tg.Updates{
			Updates: []tg.UpdateClass{&tg.UpdateNewChannelMessage{Message: cp, Pts: c.pts, PtsCount: 1}},
			Users:   s.usersLocked(from), Chats: []tg.ChatClass{c.info(uid)}, Date: int(s.srvNow()),
		}
		for id, sess := range a.sessions {
			if uid == from && s.sending != nil && s.sending.ID == sess.ID {
				continue
			}
			if err := s.srv.Send(contextFor(), sess, tgtest.MessageFromServer, msg); err != nil {
				delete(a.sessions, id)
			}
		}
	}
}

// EditPost makes the author of message id of channel ch change its text.
func (s *Server) EditPost(ch int64, id int, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[ch]
	if c == nil {
		return errNoUser
	}
	for _, u := range c.log {
		if m, ok := u.(*tg.UpdateNewChannelMessage).Message.(*tg.Message); ok && m.ID == id {
			m.Message, m.EditDate = text, int(s.srvNow())
			m.SetFlags()
			c.pts++
			s.pushChannelUpdateLocked(c, &tg.UpdateEditChannelMessage{Message: m, Pts: c.pts, PtsCount: 1})
			return nil
		}
	}
	return errNoUser
}

// DeletePosts deletes messages of channel ch for everyone.
func (s *Server) DeletePosts(ch int64, ids ...int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[ch]
	if c == nil {
		return errNoUser
	}
	c.markDeleted(ids)
	c.pts += len(ids)
	s.pushChannelUpdateLocked(c, &tg.UpdateDeleteChannelMessages{ChannelID: ch, Messages: ids, Pts: c.pts, PtsCount: len(ids)})
	return nil
}

// pushChannelUpdateLocked sends an update of the channel's box (its pts
// already given) to every member's live sessions. Only new messages are
// kept for updates.getChannelDifference.
func (s *Server) pushChannelUpdateLocked(c *channel, upd tg.UpdateClass) {
	s.notifyLocked()
	for _, uid := range c.Members {
		a := s.users[uid]
		if a == nil || a.offline {
			continue
		}
		msg := &tg.Updates{Updates: []tg.UpdateClass{upd}, Chats: []tg.ChatClass{c.info(uid)}, Date: int(s.srvNow())}
		for id, sess := range a.sessions {
			if s.sending != nil && s.sending.ID == sess.ID {
				continue // the answer to its request tells it
			}
			if err := s.srv.Send(contextFor(), sess, tgtest.MessageFromServer, msg); err != nil {
				delete(a.sessions, id)
			}
		}
	}
}

// copyOut is m as one member sees it: out when they wrote it.
func copyOut(m tg.MessageClass, out bool) tg.MessageClass {
	switch m := m.(type) {
	case *tg.Message:
		cp := *m
		cp.Out = out
		cp.SetFlags()
		return &cp
	case *tg.MessageService:
		cp := *m
		cp.Out = out
		cp.SetFlags()
		return &cp
	}
	return m
}

// channelLocked finds the channel an input names, checking its access
// hash and that self is a member.
func (s *Server) channelLocked(self *account, in tg.InputChannelClass) (*channel, error) {
	ic, ok := in.(*tg.InputChannel)
	if !ok {
		return nil, tgerr.New(400, "CHANNEL_INVALID")
	}
	c := s.channels[ic.ChannelID]
	if c == nil || c.hash != ic.AccessHash {
		return nil, tgerr.New(400, "CHANNEL_INVALID")
	}
	if !slices.Contains(c.Members, self.user.ID) {
		return nil, tgerr.New(400, "CHANNEL_PRIVATE")
	}
	return c, nil
}

func (s *Server) getFullChannel(req *tgtest.Request, r *tg.ChannelsGetFullChannelRequest) (bin.Encoder, error) {
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
	full := &tg.ChannelFull{ID: c.ID, About: c.About, ParticipantsCount: c.size(), ChatPhoto: &tg.PhotoEmpty{}, Pts: c.pts,
		CanViewParticipants: !c.Broadcast || c.isAdmin(self.user.ID)}
	full.SetFlags()
	return &tg.MessagesChatFull{FullChat: full, Chats: []tg.ChatClass{c.info(self.user.ID)}}, nil
}

// getParticipants lists members with their standing. In a broadcast
// channel only admins may list the subscribers; in a group with hidden
// members (a very large one) only the admins are listed.
func (s *Server) getParticipants(req *tgtest.Request, r *tg.ChannelsGetParticipantsRequest) (bin.Encoder, error) {
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
	_, adminsOnly := r.Filter.(*tg.ChannelParticipantsAdmins)
	if !adminsOnly && (c.Hidden > 0 || c.Broadcast && !c.isAdmin(self.user.ID)) {
		return nil, tgerr.New(400, "CHAT_ADMIN_REQUIRED")
	}
	res := &tg.ChannelsChannelParticipants{Count: c.size()}
	var users []int64
	for _, uid := range c.Members {
		var p tg.ChannelParticipantClass
		switch {
		case uid == c.Creator:
			p = &tg.ChannelParticipantCreator{UserID: uid}
		case slices.Contains(c.Admins, uid):
			p = &tg.ChannelParticipantAdmin{UserID: uid, PromotedBy: c.Creator}
		case adminsOnly:
			continue
		default:
			p = &tg.ChannelParticipant{UserID: uid}
		}
		res.Participants = append(res.Participants, p)
		users = append(users, uid)
	}
	if adminsOnly {
		res.Count = len(res.Participants)
	}
	res.Users = s.usersLocked(users...)
	return res, nil
}

// getChannelDifference answers the channel's updates after the client's
// pts.
func (s *Server) getChannelDifference(req *tgtest.Request, r *tg.UpdatesGetChannelDifferenceRequest) (bin.Encoder, error) {
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
	if r.Pts >= c.pts {
		return &tg.UpdatesChannelDifferenceEmpty{Final: true, Pts: c.pts}, nil
	}
	diff := &tg.UpdatesChannelDifference{Final: true, Pts: c.pts, Chats: []tg.ChatClass{c.info(self.user.ID)}}
	users := map[int64]bool{}
	for _, upd := range c.log {
		if u, ok := upd.(*tg.UpdateNewChannelMessage); ok && u.Pts > r.Pts {
			out := false
			if m, ok := u.Message.(*tg.Message); ok {
				if f, ok := m.FromID.(*tg.PeerUser); ok {
					out, users[f.UserID] = f.UserID == self.user.ID, true
				}
			}
			diff.NewMessages = append(diff.NewMessages, copyOut(u.Message, out))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(users)) {
		diff.Users = append(diff.Users, s.usersLocked(id)...)
	}
	diff.SetFlags()
	return diff, nil
}

// getForumTopics lists a forum's topics, all on one page.
func (s *Server) getForumTopics(req *tgtest.Request, r *tg.MessagesGetForumTopicsRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	ip, ok := r.Peer.(*tg.InputPeerChannel)
	if !ok {
		return nil, tgerr.New(400, "PEER_ID_INVALID")
	}
	c, err := s.channelLocked(self, &tg.InputChannel{ChannelID: ip.ChannelID, AccessHash: ip.AccessHash})
	if err != nil {
		return nil, err
	}
	if !c.Forum {
		return nil, tgerr.New(400, "CHANNEL_FORUM_MISSING")
	}
	res := &tg.MessagesForumTopics{Pts: c.pts, Chats: []tg.ChatClass{c.info(self.user.ID)}}
	for _, id := range slices.Sorted(maps.Keys(c.topics)) {
		t := &tg.ForumTopic{ID: id, Title: c.topics[id], Peer: &tg.PeerChannel{ChannelID: c.ID}, FromID: &tg.PeerUser{UserID: c.Creator}, Date: int(s.srvNow()), TopMessage: id,
			Closed: c.closed[id]}
		t.SetFlags()
		res.Topics = append(res.Topics, t)
	}
	res.Count = len(res.Topics)
	return res, nil
}

// sendChannelLocked posts a message of self to a channel; in a broadcast
// channel only admins may.
func (s *Server) sendChannelLocked(req *tgtest.Request, self *account, p *tg.InputPeerChannel, r *tg.MessagesSendMessageRequest) (bin.Encoder, error) {
	c, err := s.channelLocked(self, &tg.InputChannel{ChannelID: p.ChannelID, AccessHash: p.AccessHash})
	if err != nil {
		return nil, err
	}
	if c.Broadcast && !c.isAdmin(self.user.ID) {
		return nil, tgerr.New(403, "CHAT_WRITE_FORBIDDEN")
	}
	topic, replyTo := 0, 0
	if rt, ok := r.ReplyTo.(*tg.InputReplyToMessage); ok {
		replyTo = rt.ReplyToMsgID
		if _, isTopic := c.topics[rt.TopMsgID]; isTopic {
			topic = rt.TopMsgID
		} else if _, isTopic := c.topics[replyTo]; isTopic {
			topic, replyTo = replyTo, 0
		}
	}
	if c.closed[topic] && !c.isAdmin(self.user.ID) {
		return nil, tgerr.New(400, "TOPIC_CLOSED")
	}
	s.sending = &req.Session
	id := s.postLocked(c, self.user.ID, topic, replyTo, r.Message, true)
	s.sending = nil
	return s.postedLocked(c, self, id, r.RandomID), nil
}

// postedLocked is the answer to a post of self in channel c.
func (s *Server) postedLocked(c *channel, self *account, id int, randomID int64) *tg.Updates {
	last := c.log[len(c.log)-1].(*tg.UpdateNewChannelMessage)
	return &tg.Updates{
		Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: id, RandomID: randomID},
			&tg.UpdateNewChannelMessage{Message: copyOut(last.Message, true), Pts: last.Pts, PtsCount: 1},
		},
		Users: s.usersLocked(self.user.ID), Chats: []tg.ChatClass{c.info(self.user.ID)}, Date: int(s.srvNow()),
	}
}

// ChannelMessages returns channel id's messages, oldest first.
func (s *Server) ChannelMessages(id int64) []*tg.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return nil
	}
	var out []*tg.Message
	for _, u := range c.log {
		if m, ok := u.(*tg.UpdateNewChannelMessage).Message.(*tg.Message); ok && !c.deleted[m.ID] {
			out = append(out, m)
		}
	}
	return out
}
