package telegramtest

import (
	"sort"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// reactions of one message, by user: the emojis each has put on it. Both
// copies of a message share one map.
type reactions map[int64][]string

func (s *Server) sendReaction(req *tgtest.Request, r *tg.MessagesSendReactionRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	var emojis []string
	for _, rc := range r.Reaction {
		e, ok := rc.(*tg.ReactionEmoji)
		if !ok {
			return nil, tgerr.New(400, "REACTION_INVALID")
		}
		emojis = append(emojis, e.Emoticon)
	}
	if len(emojis) > 1 {
		return nil, tgerr.New(400, "REACTIONS_TOO_MANY")
	}
	switch p := r.Peer.(type) {
	case *tg.InputPeerChat:
		return s.reactGroupLocked(self, p.ChatID, r.MsgID, emojis)
	case *tg.InputPeerChannel:
		return s.reactChannelLocked(self, p, r.MsgID, emojis)
	}
	peer, err := s.peerLocked(self, r.Peer)
	if err != nil {
		return nil, err
	}
	upd, err := s.reactLocked(self, peer, r.MsgID, emojis)
	if err != nil {
		return nil, err
	}
	return &tg.Updates{Updates: []tg.UpdateClass{upd}, Users: s.usersLocked(self.user.ID, peer.user.ID), Date: int(s.srvNow())}, nil
}

// React makes user set its reactions on its message id (of its box) in
// the chat with peer.
func (s *Server) React(user, peer int64, id int, emojis ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.reactLocked(s.users[user], s.users[peer], id, emojis)
	return err
}

// reactLocked records self's reactions on its message id and tells peer;
// it returns the update for self.
func (s *Server) reactLocked(self, peer *account, id int, emojis []string) (*tg.UpdateMessageReactions, error) {
	_, ok := self.box[id]
	twin, hasTwin := self.twins[id]
	if !ok || !hasTwin || twin.user != peer.user.ID {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	if s.reactions == nil {
		s.reactions = map[msgRef]reactions{}
	}
	key := msgRef{self.user.ID, id}
	if twin.user < self.user.ID {
		key = twin
	}
	rs := s.reactions[key]
	if rs == nil {
		rs = reactions{}
		s.reactions[key] = rs
	}
	if len(emojis) == 0 {
		delete(rs, self.user.ID)
	} else {
		rs[self.user.ID] = emojis
	}
	mine := &tg.UpdateMessageReactions{Peer: &tg.PeerUser{UserID: peer.user.ID}, MsgID: id, Reactions: rs.view(self.user.ID)}
	theirs := &tg.UpdateMessageReactions{Peer: &tg.PeerUser{UserID: self.user.ID}, MsgID: twin.id, Reactions: rs.view(peer.user.ID)}
	s.pushLocked(peer, theirs, self.user.ID)
	return mine, nil
}

// view is the reactions as viewer sees them.
func (rs reactions) view(viewer int64) tg.MessageReactions {
	out := tg.MessageReactions{CanSeeList: true}
	counts := map[string]int{}
	users := make([]int64, 0, len(rs))
	for u := range rs {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i] < users[j] })
	for _, u := range users {
		for _, e := range rs[u] {
			counts[e]++
			pr := tg.MessagePeerReaction{My: u == viewer, PeerID: &tg.PeerUser{UserID: u}, Date: int(time.Now().Unix()), Reaction: &tg.ReactionEmoji{Emoticon: e}}
			pr.SetFlags()
			out.RecentReactions = append(out.RecentReactions, pr)
		}
	}
	emojis := make([]string, 0, len(counts))
	for e := range counts {
		emojis = append(emojis, e)
	}
	sort.Strings(emojis)
	for _, e := range emojis {
		out.Results = append(out.Results, tg.ReactionCount{Reaction: &tg.ReactionEmoji{Emoticon: e}, Count: counts[e]})
	}
	out.SetFlags()
	return out
}
