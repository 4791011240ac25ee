package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Supergroups, broadcast channels and forums. Each has a message box of
// its own with its own update state (pts), kept per channel: a gap in a
// channel's pts, a channel Telegram says fell too far behind, and every
// catch-up after a reconnection fetch updates.getChannelDifference for
// it. Each forum topic is a room of its own (convert.TopicID).

// maxListedMembers is the largest group whose members are all listed;
// beyond it, a room lists the admins and the account only, and says how
// many members there are.
const maxListedMembers = 200

// chanMsg names a message of a channel.
type chanMsg struct {
	channel int64
	id      int
}

// learnChannels keeps the access hashes of channels (needed to reach
// them), in memory and in the KV.
func (s *Session) learnChannels(ctx context.Context, chats []tg.ChatClass) {
	for _, cc := range chats {
		ch, ok := cc.(*tg.Channel)
		if !ok || ch.Min {
			continue
		}
		s.cache.Lock()
		old, known := s.chanHashes[ch.ID]
		s.chanHashes[ch.ID] = ch.AccessHash
		s.cache.Unlock()
		if known && old == ch.AccessHash {
			continue
		}
		if err := setInt(ctx, s.kv, keyChanPrefix+strconv.FormatInt(ch.ID, 10), ch.AccessHash); err != nil {
			s.host.Logger().Warn("telegram: cannot store a channel's access hash", "account", s.acct, "err", err)
		}
	}
}

// inputChannel returns a channel with its access hash.
func (s *Session) inputChannel(ctx context.Context, id int64) (*tg.InputChannel, error) {
	s.cache.Lock()
	hash, ok := s.chanHashes[id]
	s.cache.Unlock()
	if !ok {
		h, err := getInt(ctx, s.kv, keyChanPrefix+strconv.FormatInt(id, 10))
		if err != nil {
			return nil, fmt.Errorf("telegram: access hash of channel %d: %w", id, err)
		}
		if h == 0 {
			return nil, fmt.Errorf("telegram: channel %d is not known to this account: %w", id, gateway.ErrUnknownChat)
		}
		hash = h
		s.cache.Lock()
		s.chanHashes[id] = h
		s.cache.Unlock()
	}
	return &tg.InputChannel{ChannelID: id, AccessHash: hash}, nil
}

// channelPtsLocked returns the channel's stored pts (0: none yet). The
// caller holds upd.
func (s *Session) channelPtsLocked(ctx context.Context, id int64) int {
	if pts, ok := s.chanPts[id]; ok {
		return pts
	}
	pts, err := getInt(ctx, s.kv, keyChanPtsPrefix+strconv.FormatInt(id, 10))
	if err != nil {
		s.host.Logger().Warn("telegram: cannot read a channel's update state", "account", s.acct, "channel", id, "err", err)
	}
	s.chanPts[id] = int(pts)
	return int(pts)
}

func (s *Session) setChannelPtsLocked(ctx context.Context, id int64, pts int) {
	if _, listed := s.chanPts[id]; !listed || s.chanPts[id] == 0 {
		s.chanPts[id] = pts
		s.storeChannelListLocked(ctx)
	}
	s.chanPts[id] = pts
	if err := setInt(ctx, s.kv, keyChanPtsPrefix+strconv.FormatInt(id, 10), int64(pts)); err != nil {
		s.host.Logger().Warn("telegram: cannot store a channel's update state", "account", s.acct, "channel", id, "err", err)
	}
}

// storeChannelListLocked keeps which channels have an update state, so
// that the next run catches up with each. The caller holds upd.
func (s *Session) storeChannelListLocked(ctx context.Context) {
	var list []string
	for id, pts := range s.chanPts {
		if pts != 0 {
			list = append(list, strconv.FormatInt(id, 10))
		}
	}
	if err := s.kv.Set(ctx, keyChannels, []byte(strings.Join(list, " "))); err != nil {
		s.host.Logger().Warn("telegram: cannot store the list of channels", "account", s.acct, "err", err)
	}
}

// loadChannelsLocked reads the update state of the channels the account
// followed in an earlier run. The caller holds upd.
func (s *Session) loadChannelsLocked(ctx context.Context) error {
	b, err := s.kv.Get(ctx, keyChannels)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("telegram: stored channels: %w", err)
	}
	for _, f := range strings.Fields(string(b)) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return fmt.Errorf("telegram: stored channel %q: %w", f, err)
		}
		delete(s.chanPts, id)
		s.channelPtsLocked(ctx, id)
	}
	return nil
}

// channelPtsOf returns the channel, pts and pts_count of an update of a
// channel's box, or ok false.
func channelPtsOf(u tg.UpdateClass) (channel int64, pts, count int, ok bool) {
	switch u := u.(type) {
	case *tg.UpdateNewChannelMessage:
		return channelOfMessage(u.Message), u.Pts, u.PtsCount, true
	case *tg.UpdateEditChannelMessage:
		return channelOfMessage(u.Message), u.Pts, u.PtsCount, true
	case *tg.UpdateDeleteChannelMessages:
		return u.ChannelID, u.Pts, u.PtsCount, true
	}
	return 0, 0, 0, false
}

func channelOfMessage(m tg.MessageClass) int64 {
	var peer tg.PeerClass
	switch m := m.(type) {
	case *tg.Message:
		peer = m.PeerID
	case *tg.MessageService:
		peer = m.PeerID
	}
	if p, ok := peer.(*tg.PeerChannel); ok {
		return p.ChannelID
	}
	return 0
}

// applyChannelLocked applies a live update of a channel's box: a
// duplicate is skipped, a gap fetches the channel's difference (which
// holds the update), the first update of a channel never seen starts its
// state. The caller holds upd.
func (s *Session) applyChannelLocked(ctx context.Context, u tg.UpdateClass, channel int64, pts, count int) error {
	have := s.channelPtsLocked(ctx, channel)
	switch {
	case have == 0:
	case have+count > pts:
		return nil
	case have+count < pts:
		s.host.Logger().Info("telegram channel update gap; fetching the channel's difference", "account", s.acct, "channel", channel, "have", have, "got", pts)
		return s.channelDifferenceLocked(ctx, channel)
	}
	if err := s.emitLocked(ctx, u); err != nil {
		return err
	}
	s.setChannelPtsLocked(ctx, channel, pts)
	return nil
}

// channelDifferenceLocked catches up with a channel from its stored pts.
// The caller holds upd.
func (s *Session) channelDifferenceLocked(ctx context.Context, channel int64) error {
	s.mu.Lock()
	api := s.api
	s.mu.Unlock()
	if api == nil {
		return nil
	}
	in, err := s.inputChannel(ctx, channel)
	if err != nil {
		return err
	}
	for {
		pts := s.channelPtsLocked(ctx, channel)
		if pts == 0 {
			return nil // never seen: nothing to catch up with
		}
		res, err := api.UpdatesGetChannelDifference(ctx, &tg.UpdatesGetChannelDifferenceRequest{
			Channel: in, Filter: &tg.ChannelMessagesFilterEmpty{}, Pts: pts, Limit: 100,
		})
		if err != nil {
			return fmt.Errorf("telegram: get difference of channel %d from pts %d: %w", channel, pts, err)
		}
		switch d := res.(type) {
		case *tg.UpdatesChannelDifferenceEmpty:
			s.setChannelPtsLocked(ctx, channel, d.Pts)
			return nil
		case *tg.UpdatesChannelDifferenceTooLong:
			s.host.Logger().Warn("telegram: too much happened in a channel while away; older messages are skipped", "account", s.acct, "channel", channel)
			if dl, ok := d.Dialog.(*tg.Dialog); ok && dl.Pts != 0 {
				s.setChannelPtsLocked(ctx, channel, dl.Pts)
			}
			return nil
		case *tg.UpdatesChannelDifference:
			s.learnUsersLocked(ctx, d.Users)
			s.learnChannels(ctx, d.Chats)
			for _, m := range d.NewMessages {
				if err := s.emitLocked(ctx, &tg.UpdateNewChannelMessage{Message: m}); err != nil {
					return err
				}
			}
			for _, u := range d.OtherUpdates {
				if _, _, _, ok := channelPtsOf(u); ok {
					if err := s.emitLocked(ctx, u); err != nil {
						return err
					}
				}
			}
			s.setChannelPtsLocked(ctx, channel, d.Pts)
			if d.Final {
				return nil
			}
		}
	}
}

// channelsDifferenceLocked catches up with every channel the account has
// state of (after a reconnection: channel updates are not in
// updates.getDifference). The caller holds upd.
func (s *Session) channelsDifferenceLocked(ctx context.Context) error {
	for id := range s.chanPts {
		if err := s.channelDifferenceLocked(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// channelInfo reads what a room needs of a channel (or one forum topic).
func (s *Session) channelInfo(ctx context.Context, api *tg.Client, id int64, topic int) (gateway.GroupInfo, error) {
	chat := convert.TopicID(id, topic)
	in, err := s.inputChannel(ctx, id)
	if err != nil {
		return gateway.GroupInfo{}, err
	}
	full, err := api.ChannelsGetFullChannel(ctx, in)
	if tgErrIs(err, "CHANNEL_INVALID", "CHANNEL_PRIVATE") {
		return gateway.GroupInfo{}, fmt.Errorf("telegram: channel %s: %w", chat, gateway.ErrUnknownChat)
	}
	if err != nil {
		return gateway.GroupInfo{}, s.sendError("channel info", err)
	}
	s.learnChannels(ctx, full.Chats)
	ci := convert.ChannelInfo{}
	for _, c := range full.Chats {
		if c, ok := c.(*tg.Channel); ok && c.ID == id {
			ci.Channel = c
		}
	}
	cf, ok := full.FullChat.(*tg.ChannelFull)
	if ci.Channel == nil || !ok {
		return gateway.GroupInfo{}, fmt.Errorf("telegram: Telegram's description of channel %d names no channel", id)
	}
	ci.About, ci.Count, ci.Topic = cf.About, cf.ParticipantsCount, topic
	// Everyone in a group small enough; the admins otherwise, and in a
	// broadcast channel whose subscribers the account may not see.
	var filter tg.ChannelParticipantsFilterClass = &tg.ChannelParticipantsRecent{}
	if ci.Count > maxListedMembers || !cf.CanViewParticipants {
		filter = &tg.ChannelParticipantsAdmins{}
	}
	parts, err := api.ChannelsGetParticipants(ctx, &tg.ChannelsGetParticipantsRequest{Channel: in, Filter: filter, Limit: maxListedMembers})
	if err != nil {
		return gateway.GroupInfo{}, s.sendError("channel members", err)
	}
	if p, ok := parts.(*tg.ChannelsChannelParticipants); ok {
		ci.Participants, ci.Users = p.Participants, p.Users
		s.learnUsers(ctx, p.Users)
	}
	if topic > 1 {
		t, err := s.forumTopic(ctx, api, in, topic)
		if err != nil {
			return gateway.GroupInfo{}, err
		}
		ci.TopicTitle, ci.TopicClosed = t.Title, t.Closed
	}
	return convert.Channel(ci, s.self), nil
}

// forumTopics lists a forum's topics (General excluded: it is the
// forum's own room).
func (s *Session) forumTopics(ctx context.Context, api *tg.Client, in *tg.InputChannel) ([]*tg.ForumTopic, error) {
	res, err := api.MessagesGetForumTopics(ctx, &tg.MessagesGetForumTopicsRequest{
		Peer: &tg.InputPeerChannel{ChannelID: in.ChannelID, AccessHash: in.AccessHash}, Limit: 100,
	})
	if err != nil {
		return nil, s.sendError("forum topics", err)
	}
	var out []*tg.ForumTopic
	for _, t := range res.Topics {
		if t, ok := t.(*tg.ForumTopic); ok && t.ID > 1 {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *Session) forumTopic(ctx context.Context, api *tg.Client, in *tg.InputChannel, topic int) (*tg.ForumTopic, error) {
	topics, err := s.forumTopics(ctx, api, in)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		if t.ID == topic {
			return t, nil
		}
	}
	return nil, fmt.Errorf("telegram: forum %d has no topic %d: %w", in.ChannelID, topic, gateway.ErrUnknownChat)
}

// channelGroups lists a channel's rooms: itself, and each topic of a
// forum.
func (s *Session) channelGroups(ctx context.Context, api *tg.Client, ch *tg.Channel) ([]gateway.GroupInfo, error) {
	gi, err := s.channelInfo(ctx, api, ch.ID, 0)
	if err != nil {
		return nil, err
	}
	out := []gateway.GroupInfo{gi}
	if !ch.Forum {
		return out, nil
	}
	topics, err := s.forumTopics(ctx, api, &tg.InputChannel{ChannelID: ch.ID, AccessHash: ch.AccessHash})
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		tgi := gi
		tgi.Chat, tgi.Name = convert.TopicID(ch.ID, t.ID), ch.Title+" / "+t.Title
		tgi.ReadOnly = gi.ReadOnly || t.Closed
		out = append(out, tgi)
	}
	return out, nil
}

// channelPeer returns the peer and the topic of a channel's (or topic's)
// chat.
func (s *Session) channelPeer(ctx context.Context, id int64) (tg.InputPeerClass, error) {
	in, err := s.inputChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	return &tg.InputPeerChannel{ChannelID: in.ChannelID, AccessHash: in.AccessHash}, nil
}

// inTopic makes a send's reply header put the message in a forum topic
// (topic 0: none), still answering replyTo if set.
func inTopic(replyTo tg.InputReplyToClass, topic int) tg.InputReplyToClass {
	if topic == 0 {
		return replyTo
	}
	r := &tg.InputReplyToMessage{ReplyToMsgID: topic}
	if m, ok := replyTo.(*tg.InputReplyToMessage); ok && m.ReplyToMsgID != 0 {
		r.ReplyToMsgID, r.TopMsgID = m.ReplyToMsgID, topic
	}
	r.SetFlags()
	return r
}

// startChannels learns the account's channels from its dialogs and
// starts the update state of each channel not followed yet at the
// dialog's pts, so that a later catch-up has a point to start from.
func (s *Session) startChannels(ctx context.Context, api *tg.Client) error {
	res, err := api.MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 100})
	if err != nil {
		return fmt.Errorf("telegram: list dialogs: %w", err)
	}
	var chats []tg.ChatClass
	var dialogs []tg.DialogClass
	switch d := res.(type) {
	case *tg.MessagesDialogs:
		chats, dialogs = d.Chats, d.Dialogs
	case *tg.MessagesDialogsSlice:
		chats, dialogs = d.Chats, d.Dialogs
	}
	s.learnChannels(ctx, chats)
	s.upd.Lock()
	defer s.upd.Unlock()
	for _, dc := range dialogs {
		d, ok := dc.(*tg.Dialog)
		if !ok || d.Pts == 0 {
			continue
		}
		if p, ok := d.Peer.(*tg.PeerChannel); ok && s.channelPtsLocked(ctx, p.ChannelID) == 0 {
			s.setChannelPtsLocked(ctx, p.ChannelID, d.Pts)
		}
	}
	return nil
}

// advanceChannelLocked moves a channel's pts over an update of ours
// that follows it directly. The caller holds upd.
func (s *Session) advanceChannelLocked(ctx context.Context, channel int64, pts, count int) {
	if channel != 0 && pts != 0 && s.channelPtsLocked(ctx, channel)+count == pts {
		s.setChannelPtsLocked(ctx, channel, pts)
	}
}

// retractChannel deletes a message of a supergroup or channel for
// everyone (channels.deleteMessages: a channel's messages are its own).
func (s *Session) retractChannel(ctx context.Context, api *tg.Client, channel int64, id int, target ids.MessageID) error {
	in, err := s.inputChannel(ctx, channel)
	if err != nil {
		return err
	}
	res, err := api.ChannelsDeleteMessages(ctx, &tg.ChannelsDeleteMessagesRequest{Channel: in, ID: []int{id}})
	if err != nil {
		return s.sendError("delete", err)
	}
	if res.PtsCount == 0 {
		return fmt.Errorf("telegram: message %s: %w", target, gateway.ErrTargetNotFound)
	}
	s.upd.Lock()
	s.advanceChannelLocked(ctx, channel, res.Pts, res.PtsCount)
	s.upd.Unlock()
	return nil
}
