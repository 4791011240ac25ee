package telegram

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// handle receives every update push of the client. gotd hands pushes over
// concurrently and in any order; they are handled one at a time, and an
// update whose pts leaves a gap is not applied: the session fetches the
// difference instead, which contains it. An update that could not be
// handled does not advance pts, so the next catch-up offers it again. The
// error is logged, not returned: gotd halts the connection on one.
func (s *Session) handle(ctx context.Context, u tg.UpdatesClass) error {
	if err := s.handleUpdates(ctx, u); err != nil {
		s.host.Logger().Warn("telegram update not handled; it is fetched again on the next catch-up", "account", s.acct, "err", err)
	}
	return nil
}

func (s *Session) handleUpdates(ctx context.Context, u tg.UpdatesClass) error {
	s.upd.Lock()
	defer s.upd.Unlock()
	var updates []tg.UpdateClass
	seqStart, seq, date := 0, 0, 0
	switch u := u.(type) {
	case *tg.Updates:
		seqStart, seq, date = u.Seq, u.Seq, u.Date
		if s.seqSeenLocked(seqStart, seq) {
			return nil
		}
		if s.seqGapLocked(seqStart) {
			return s.differenceLocked(ctx)
		}
		s.learnUsersLocked(ctx, u.Users)
		s.learnChannels(ctx, u.Chats)
		updates = u.Updates
	case *tg.UpdatesCombined:
		seqStart, seq, date = u.SeqStart, u.Seq, u.Date
		if s.seqSeenLocked(seqStart, seq) {
			return nil
		}
		if s.seqGapLocked(seqStart) {
			return s.differenceLocked(ctx)
		}
		s.learnUsersLocked(ctx, u.Users)
		s.learnChannels(ctx, u.Chats)
		updates = u.Updates
	case *tg.UpdateShort:
		updates = []tg.UpdateClass{u.Update}
	case *tg.UpdateShortMessage:
		m := &tg.Message{
			ID: u.ID, Out: u.Out, PeerID: &tg.PeerUser{UserID: u.UserID}, Date: u.Date,
			Message: u.Message, Entities: u.Entities,
		}
		if !u.Out {
			m.FromID = &tg.PeerUser{UserID: u.UserID}
		}
		if h, ok := u.ReplyTo.(*tg.MessageReplyHeader); ok {
			m.ReplyTo = h
		}
		updates = []tg.UpdateClass{&tg.UpdateNewMessage{Message: m, Pts: u.Pts, PtsCount: u.PtsCount}}
	case *tg.UpdatesTooLong:
		return s.differenceLocked(ctx)
	}
	for _, upd := range updates {
		if err := s.applyLocked(ctx, upd, false); err != nil {
			return err
		}
	}
	if seq != 0 {
		s.setSeqLocked(ctx, seq, date)
	}
	return nil
}

// Sequenced containers (updates, updatesCombined with seq ≠ 0) follow
// each other: one whose seq_start is the next after the last applied is
// applied; one already applied is skipped; one past the next leaves a
// gap, and the difference (which holds what was missed) is fetched
// instead. seq 0 carries no order. Before the session knows any seq, the
// first container sets it.

// seqSeenLocked reports whether a container was applied already.
func (s *Session) seqSeenLocked(seqStart, seq int) bool {
	return seq != 0 && s.seq != 0 && seq <= s.seq && seqStart <= s.seq
}

// seqGapLocked reports whether a container leaves a gap after the last
// one applied.
func (s *Session) seqGapLocked(seqStart int) bool {
	if seqStart != 0 && s.seq != 0 && seqStart > s.seq+1 {
		s.host.Logger().Info("telegram update sequence gap; fetching the difference", "account", s.acct, "have", s.seq, "got", seqStart)
		return true
	}
	return false
}

// setSeqLocked records the seq and date of the update state.
func (s *Session) setSeqLocked(ctx context.Context, seq, date int) {
	if seq == s.seq && date <= s.date {
		return
	}
	s.seq = seq
	s.date = max(s.date, date)
	err := setInt(ctx, s.kv, keySeq, int64(seq))
	if err == nil {
		err = setInt(ctx, s.kv, keyDate, int64(s.date))
	}
	if err != nil {
		s.host.Logger().Warn("telegram: cannot store the update sequence", "account", s.acct, "err", err)
	}
}

// ptsOf returns the pts and pts_count of an update of the account's
// common message box, or ok false.
func ptsOf(u tg.UpdateClass) (pts, count int, ok bool) {
	switch u := u.(type) {
	case *tg.UpdateNewMessage:
		return u.Pts, u.PtsCount, true
	case *tg.UpdateEditMessage:
		return u.Pts, u.PtsCount, true
	case *tg.UpdateDeleteMessages:
		return u.Pts, u.PtsCount, true
	case *tg.UpdateReadHistoryOutbox:
		return u.Pts, u.PtsCount, true
	case *tg.UpdateReadHistoryInbox:
		return u.Pts, u.PtsCount, true
	}
	return 0, 0, false
}

// applyLocked emits one update. Live updates (fromDiff false) are checked
// against pts first: a duplicate is skipped, a gap fetches the difference.
func (s *Session) applyLocked(ctx context.Context, u tg.UpdateClass, fromDiff bool) error {
	if ch, pts, count, ok := channelPtsOf(u); ok && ch != 0 && !fromDiff {
		return s.applyChannelLocked(ctx, u, ch, pts, count)
	}
	if tl, ok := u.(*tg.UpdateChannelTooLong); ok {
		return s.channelDifferenceLocked(ctx, tl.ChannelID)
	}
	pts, count, hasPts := ptsOf(u)
	if hasPts && !fromDiff && pts != 0 {
		switch {
		case s.pts+count > pts:
			return nil // had it already
		case s.pts+count < pts:
			s.host.Logger().Info("telegram update gap; fetching the difference", "account", s.acct, "have", s.pts, "got", pts, "count", count)
			return s.differenceLocked(ctx)
		}
	}
	if err := s.emitLocked(ctx, u); err != nil {
		return err
	}
	if hasPts && !fromDiff && pts != 0 {
		s.setPtsLocked(ctx, pts)
	}
	return nil
}

// emitLocked hands the hub the event of one update.
func (s *Session) emitLocked(ctx context.Context, u tg.UpdateClass) error {
	now := time.Now().UTC()
	log := s.host.Logger().With("account", s.acct)
	switch u := u.(type) {
	case *tg.UpdateNewMessage:
		if sm, ok := u.Message.(*tg.MessageService); ok {
			if convert.ChangesInfo(sm.Action) {
				return s.groupChanged(ctx, sm)
			}
			evs := convert.Service(s.acct, sm)
			if len(evs) == 0 {
				log.Debug("telegram service message not bridged", "action", fmt.Sprintf("%T", sm.Action))
			}
			for _, ev := range evs {
				if err := s.emit(ctx, ev); err != nil {
					return err
				}
			}
			return nil
		}
		m, ok := u.Message.(*tg.Message)
		if !ok {
			return nil
		}
		if convert.ChatOf(m) == "" {
			log.Info("telegram supergroup or channel message not bridged yet", "peer", fmt.Sprintf("%T", m.PeerID), "id", m.ID)
			return nil
		}
		if m.Out && s.sent[m.ID] {
			return nil // sent through the gateway: the owner's client has it
		}
		ev := convert.Message(s.acct, s.self, m, s.fetch)
		if err := s.kv.Set(ctx, keyMsgPrefix+strconv.Itoa(m.ID), msgRecord(ev.Chat, ev.Sender, m.Out)); err != nil {
			return fmt.Errorf("telegram: record message %d: %w", m.ID, err)
		}
		return s.emit(ctx, ev)
	case *tg.UpdateNewChannelMessage:
		return s.channelMessage(ctx, u.Message)
	case *tg.UpdateEditMessage:
		m, ok := u.Message.(*tg.Message)
		if !ok || convert.ChatOf(m) == "" {
			return nil
		}
		return s.emit(ctx, convert.Edit(s.acct, s.self, m))
	case *tg.UpdateEditChannelMessage:
		if m, ok := u.Message.(*tg.Message); ok {
			return s.emit(ctx, convert.Edit(s.acct, s.self, m))
		}
		return nil
	case *tg.UpdateDeleteChannelMessages:
		for _, id := range u.Messages {
			chat, sender, out, ok := s.recordOf(ctx, chanMsgKey(u.ChannelID, id))
			if !ok {
				log.Info("telegram deleted a channel message the gateway never saw", "channel", u.ChannelID, "id", id)
				continue
			}
			ev := convert.Retract(s.acct, chat, sender, id, now)
			ev.Group, ev.FromMe = true, out
			if err := s.emit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	case *tg.UpdateDeleteMessages:
		for _, id := range u.Messages {
			chat, sender, out, ok := s.messageChat(ctx, id)
			if !ok {
				log.Info("telegram deleted a message the gateway never saw", "id", id)
				continue
			}
			ev := convert.Retract(s.acct, chat, sender, id, now)
			ev.FromMe = out
			if err := s.emit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	case *tg.UpdateReadHistoryOutbox:
		if convert.PeerUser(u.Peer) == 0 {
			return nil
		}
		return s.emit(ctx, convert.ReadOutbox(s.acct, u, now))
	case *tg.UpdateUserTyping:
		return s.emit(ctx, convert.ChatState(s.acct, u, now))
	case *tg.UpdateUserStatus:
		return s.emit(ctx, convert.Presence(s.acct, u.UserID, u.Status, now))
	case *tg.UpdateMessageReactions:
		peer := convert.PeerUser(u.Peer)
		if peer == 0 {
			return s.groupReactions(ctx, u, now) // groupreactions.go
		}
		// The contact's full set; the owner's own reactions come from XMPP.
		return s.emit(ctx, convert.Reaction(s.acct, u, peer, now))
	}
	log.Debug("telegram update not bridged", "type", fmt.Sprintf("%T", u))
	return nil
}

func (s *Session) emit(ctx context.Context, ev event.Event) error {
	if err := s.host.Emit(ctx, ev); err != nil {
		return fmt.Errorf("telegram: emit %T: %w", ev, err)
	}
	return nil
}

// msgRecord is what the KV keeps of a message: its chat, "o" or "i"
// (sent by the account or not) and its author.
func msgRecord(chat ids.ChatID, sender ids.UserID, out bool) []byte {
	dir := "i"
	if out {
		dir = "o"
	}
	return []byte(string(chat) + " " + dir + " " + string(sender))
}

// messageChat returns the chat and author of a message of the account,
// and whether the account sent it.
func (s *Session) messageChat(ctx context.Context, id int) (chat ids.ChatID, sender ids.UserID, out, ok bool) {
	return s.recordOf(ctx, keyMsgPrefix+strconv.Itoa(id))
}

// chanMsgKey is the KV key of a channel message's record.
func chanMsgKey(channel int64, id int) string {
	return keyChanMsgPrefix + strconv.FormatInt(channel, 10) + ":" + strconv.Itoa(id)
}

// recordOf reads a message record (msgRecord) stored under key.
func (s *Session) recordOf(ctx context.Context, key string) (chat ids.ChatID, sender ids.UserID, out, ok bool) {
	b, err := s.kv.Get(ctx, key)
	if err != nil {
		return "", "", false, false
	}
	parts := strings.Fields(string(b))
	if len(parts) != 3 {
		return "", "", false, false
	}
	return ids.ChatID(parts[0]), ids.UserID(parts[2]), parts[1] == "o", true
}

// learnUsersLocked keeps the access hashes of users (needed to write to
// them) and tells the hub the names of users seen for the first time.
// The caller holds upd, which keeps the announcements in order.
func (s *Session) learnUsersLocked(ctx context.Context, users []tg.UserClass) {
	for _, u := range s.learnUsers(ctx, users) {
		if err := s.host.Emit(ctx, convert.Contact(s.acct, u, time.Now().UTC())); err != nil {
			s.host.Logger().Warn("telegram: cannot announce a contact", "account", s.acct, "user", u.ID, "err", err)
		}
		if u.Status != nil {
			if err := s.host.Emit(ctx, convert.Presence(s.acct, u.ID, u.Status, time.Now().UTC())); err != nil {
				s.host.Logger().Warn("telegram: cannot announce a presence", "account", s.acct, "user", u.ID, "err", err)
			}
		}
	}
}

// learnUsers keeps the access hashes and avatar hashes of users, without
// telling the hub (safe while the hub is handling one of the session's
// events), and returns the users new or changed.
func (s *Session) learnUsers(ctx context.Context, users []tg.UserClass) []*tg.User {
	var changed []*tg.User
	for _, uc := range users {
		u, ok := uc.(*tg.User)
		if !ok || u.ID == s.self || u.Min {
			continue
		}
		photo := convert.AvatarHash(u)
		s.cache.Lock()
		old, known := s.hashes[u.ID]
		same := known && old == u.AccessHash && s.photos[u.ID] == photo
		s.photos[u.ID], s.hashes[u.ID] = photo, u.AccessHash
		s.cache.Unlock()
		if same {
			continue
		}
		if err := setInt(ctx, s.kv, keyPeerPrefix+strconv.FormatInt(u.ID, 10), u.AccessHash); err != nil {
			s.host.Logger().Warn("telegram: cannot store an access hash", "account", s.acct, "err", err)
		}
		changed = append(changed, u)
	}
	return changed
}

// difference catches up with what happened since the stored pts, in the
// account's box and then in each channel's.
func (s *Session) difference(ctx context.Context) error {
	s.upd.Lock()
	defer s.upd.Unlock()
	if err := s.differenceLocked(ctx); err != nil {
		return err
	}
	return s.channelsDifferenceLocked(ctx)
}

func (s *Session) differenceLocked(ctx context.Context) error {
	s.mu.Lock()
	api := s.api
	s.mu.Unlock()
	if api == nil {
		return nil // the next connection catches up
	}
	for {
		date := s.date
		if date == 0 {
			date = int(time.Now().Unix()) // no state yet: from now on
		}
		res, err := api.UpdatesGetDifference(ctx, &tg.UpdatesGetDifferenceRequest{Pts: s.pts, Date: date})
		if err != nil {
			return fmt.Errorf("telegram: get difference from pts %d: %w", s.pts, err)
		}
		var (
			msgs  []tg.MessageClass
			other []tg.UpdateClass
			users []tg.UserClass
			state tg.UpdatesState
			more  bool
		)
		switch d := res.(type) {
		case *tg.UpdatesDifferenceEmpty:
			s.setSeqLocked(ctx, d.Seq, d.Date)
			return nil
		case *tg.UpdatesDifference:
			msgs, other, users, state = d.NewMessages, d.OtherUpdates, d.Users, d.State
		case *tg.UpdatesDifferenceSlice:
			msgs, other, users, state, more = d.NewMessages, d.OtherUpdates, d.Users, d.IntermediateState, true
		case *tg.UpdatesDifferenceTooLong:
			s.host.Logger().Warn("telegram: too much happened while away; older updates are skipped", "account", s.acct, "from", s.pts, "to", d.Pts)
			s.setPtsLocked(ctx, d.Pts)
			s.seq = 0 // the next sequenced container sets it again
			return nil
		}
		s.learnUsersLocked(ctx, users)
		for _, m := range msgs {
			if err := s.applyLocked(ctx, &tg.UpdateNewMessage{Message: m}, true); err != nil {
				return err
			}
		}
		for _, u := range other {
			if err := s.applyLocked(ctx, u, true); err != nil {
				return err
			}
		}
		s.setPtsLocked(ctx, state.Pts)
		s.setSeqLocked(ctx, state.Seq, state.Date)
		if !more {
			return nil
		}
	}
}

// fetch downloads a file of a message, streamed while it comes.
func (s *Session) fetch(ctx context.Context, loc tg.InputFileLocationClass) (io.ReadCloser, error) {
	s.mu.Lock()
	api := s.api
	s.mu.Unlock()
	if api == nil {
		return nil, fmt.Errorf("telegram: account %s is not connected to fetch a file: %w", s.acct, gateway.ErrUnavailable)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := downloader.NewDownloader().Download(api, loc).Stream(ctx, pw)
		if err != nil {
			err = fmt.Errorf("telegram: download: %w", err)
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// groupChanged tells the hub a group's (or channel's) new name or photo,
// a forum's new topic (a new room) or a topic renamed, closed or
// reopened, with the rest of what the room is now (the room takes name
// and topic together).
func (s *Session) groupChanged(ctx context.Context, sm *tg.MessageService) error {
	chat := convert.ServiceRoom(sm)
	if chat == "" {
		return nil
	}
	gi, err := s.GroupInfo(ctx, chat)
	if err != nil {
		return fmt.Errorf("telegram: group %s changed: %w", chat, err)
	}
	return s.emit(ctx, convert.GroupChange(s.acct, gi, sm))
}

// channelMessage emits a new message (or membership change) of a
// supergroup, channel or forum topic, and records its room for
// deletions.
func (s *Session) channelMessage(ctx context.Context, mc tg.MessageClass) error {
	channel := channelOfMessage(mc)
	switch m := mc.(type) {
	case *tg.MessageService:
		if convert.ChangesInfo(m.Action) {
			return s.groupChanged(ctx, m)
		}
		for _, ev := range convert.ChannelService(s.acct, m) {
			if err := s.emit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	case *tg.Message:
		if m.Out && s.sentChan[chanMsg{channel, m.ID}] {
			return nil // sent through the gateway
		}
		ev := convert.Message(s.acct, s.self, m, s.fetch)
		if err := s.kv.Set(ctx, chanMsgKey(channel, m.ID), msgRecord(ev.Chat, ev.Sender, m.Out)); err != nil {
			return fmt.Errorf("telegram: record channel message %d: %w", m.ID, err)
		}
		return s.emit(ctx, ev)
	}
	return nil
}
