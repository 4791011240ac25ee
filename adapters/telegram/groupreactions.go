package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// keyReactPrefix + a message record's key (keyMsgPrefix or
// keyChanMsgPrefix) is who has reacted to that group message with what
// (JSON, convert.Reactors): Telegram's updates list everyone's reactions
// without naming who changed theirs, so the session compares with this.
const keyReactPrefix = "react:"

// groupReactions turns an updateMessageReactions of a basic group's,
// supergroup's or channel's message into the reactions of the members
// who changed theirs. The room is the one the message was recorded in
// (a forum topic's), else the one the update names.
func (s *Session) groupReactions(ctx context.Context, u *tg.UpdateMessageReactions, now time.Time) error {
	var key string
	var chat ids.ChatID
	switch p := u.Peer.(type) {
	case *tg.PeerChat:
		key, chat = keyMsgPrefix+strconv.Itoa(u.MsgID), convert.GroupID(p.ChatID)
	case *tg.PeerChannel:
		key, chat = chanMsgKey(p.ChannelID, u.MsgID), convert.TopicID(p.ChannelID, u.TopMsgID)
	default:
		return fmt.Errorf("telegram: reactions in an unknown kind of chat %T", u.Peer)
	}
	if recorded, _, _, ok := s.recordOf(ctx, key); ok {
		chat = recorded
	}
	prev := convert.Reactors{}
	switch b, err := s.kv.Get(ctx, keyReactPrefix+key); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("telegram: read the reactions of %s: %w", key, err)
	default:
		if err := json.Unmarshal(b, &prev); err != nil {
			return fmt.Errorf("telegram: read the reactions of %s: %w", key, err)
		}
	}
	evs, next := convert.GroupReactions(s.acct, chat, s.self, u, prev, now)
	for _, ev := range evs {
		if err := s.emit(ctx, ev); err != nil {
			return err
		}
	}
	if len(next) == 0 {
		if err := s.kv.Delete(ctx, keyReactPrefix+key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("telegram: forget the reactions of %s: %w", key, err)
		}
		return nil
	}
	b, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("telegram: keep the reactions of %s: %w", key, err)
	}
	if err := s.kv.Set(ctx, keyReactPrefix+key, b); err != nil {
		return fmt.Errorf("telegram: keep the reactions of %s: %w", key, err)
	}
	return nil
}
