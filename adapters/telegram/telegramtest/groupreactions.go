package telegramtest

import (
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// ReactInGroup makes user set its reactions (none: take them away) on
// its copy id of a basic group's message, as messages.sendReaction does:
// every other member gets an updateMessageReactions with the full list.
func (s *Server) ReactInGroup(user, chat int64, id int, emojis ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	self := s.users[user]
	if self == nil {
		return tgerr.New(400, "USER_ID_INVALID")
	}
	_, err := s.reactGroupLocked(self, chat, id, emojis)
	return err
}

// ReactInChannel makes user set its reactions (none: take them away) on
// message id of a supergroup or channel; every other member is told.
func (s *Server) ReactInChannel(user, channel int64, id int, emojis ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, c := s.users[user], s.channels[channel]
	if self == nil || c == nil {
		return tgerr.New(400, "PEER_ID_INVALID")
	}
	_, err := s.reactChannelLocked(self, &tg.InputPeerChannel{ChannelID: channel, AccessHash: c.hash}, id, emojis)
	return err
}
