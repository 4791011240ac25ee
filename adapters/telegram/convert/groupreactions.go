package convert

import (
	"slices"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Reactors is who has reacted to a group message with what, by the hub's
// id of the reactor: what a session remembers between two
// updateMessageReactions of the message.
type Reactors map[ids.UserID][]string

// GroupReactions converts an updateMessageReactions of a message in a
// basic group, supergroup or channel (chat: its room) into the reactions
// that changed since prev: one event.Reaction per member whose set is new
// (the full set, as XEP-0444 wants), and an empty set for a member who
// took theirs away. Telegram sends the whole list each time without
// naming who acted, so the change is found by comparing with prev; it
// also returns the list to remember. The account's own reactions (self,
// or marked My) are left out: they come from XMPP. A member missing from
// a list that Telegram cut short (the counts add up to more than it
// names) is not taken as a removal: their last set is kept.
// A reaction sent as a channel is the channel's (ChannelSender); custom
// emoji and paid reactions have no Unicode text and are not part of a
// set (as in one-to-one chats).
func GroupReactions(account ids.AccountID, chat ids.ChatID, self int64, u *tg.UpdateMessageReactions, prev Reactors, when time.Time) ([]*event.Reaction, Reactors) {
	own := UserID(self)
	next := Reactors{}
	total := 0
	for _, c := range u.Reactions.Results {
		total += c.Count
	}
	complete := total <= len(u.Reactions.RecentReactions)
	for _, r := range u.Reactions.RecentReactions {
		var who ids.UserID
		switch p := r.PeerID.(type) {
		case *tg.PeerUser:
			who = UserID(p.UserID)
		case *tg.PeerChannel:
			who = ChannelSender(p.ChannelID)
		}
		if who == "" || who == own || r.My {
			continue
		}
		if e, ok := r.Reaction.(*tg.ReactionEmoji); ok {
			next[who] = append(next[who], e.Emoticon)
		}
	}
	var out []*event.Reaction
	emit := func(who ids.UserID, emojis []string) {
		out = append(out, &event.Reaction{
			Meta:   event.Meta{Account: account, Chat: chat, Group: true, Sender: who, Time: when},
			Target: MessageID(u.MsgID),
			Emojis: emojis,
		})
	}
	for _, who := range sortedKeys(next) {
		if old, had := prev[who]; !had || !slices.Equal(old, next[who]) {
			emit(who, next[who])
		}
	}
	for _, who := range sortedKeys(prev) {
		if _, still := next[who]; still {
			continue
		}
		if !complete {
			next[who] = prev[who]
			continue
		}
		if len(prev[who]) > 0 {
			emit(who, []string{})
		}
	}
	return out, next
}

func sortedKeys(m Reactors) []ids.UserID {
	keys := make([]ids.UserID, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
