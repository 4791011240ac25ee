package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Addressing: a Telegram user is its numeric user id in decimal
// ("123456789"), so a contact is 123456789@<component>; a one-to-one chat
// is named by the other user's id, a basic group by "g" and its id (its
// room is #g42@<component>), a supergroup or channel by "c" and its id,
// a forum topic by the forum's and "t" and the topic's; a message by its
// id in the account's own message box (Telegram numbers these messages
// per account), or in a channel's (numbered per channel).

// UserID is the hub's id of a Telegram user.
func UserID(id int64) ids.UserID { return ids.UserID(strconv.FormatInt(id, 10)) }

// GroupID is the hub's id of a basic group ("g" and its id), so that it
// never collides with a user's.
func GroupID(chat int64) ids.ChatID { return ids.ChatID("g" + strconv.FormatInt(chat, 10)) }

// ParseGroup reads a basic group's id; ok is false for other chats.
func ParseGroup(chat ids.ChatID) (id int64, ok bool) {
	rest, found := strings.CutPrefix(string(chat), "g")
	if !found {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil && n > 0 && rest[0] != '+'
}

// ChannelID is the hub's id of a supergroup or broadcast channel ("c"
// and its id); in a forum, this is its General topic.
func ChannelID(channel int64) ids.ChatID { return ids.ChatID("c" + strconv.FormatInt(channel, 10)) }

// TopicID is the hub's id of a forum topic other than General: the
// forum's id, "t" and the topic's (its creating message's) id. Each
// topic is a room of its own (#c42t7@component).
func TopicID(channel int64, topic int) ids.ChatID {
	if topic <= 1 { // 1 is the General topic, whose messages carry none
		return ChannelID(channel)
	}
	return ids.ChatID("c" + strconv.FormatInt(channel, 10) + "t" + strconv.Itoa(topic))
}

// ParseChannel reads a channel's or topic's id (topic 0: the channel
// itself, or a forum's General topic); ok is false for other chats.
func ParseChannel(chat ids.ChatID) (channel int64, topic int, ok bool) {
	rest, found := strings.CutPrefix(string(chat), "c")
	if !found {
		return 0, 0, false
	}
	ch, tp, hasTopic := strings.Cut(rest, "t")
	n, err := strconv.ParseInt(ch, 10, 64)
	if err != nil || n <= 0 || ch[0] == '+' {
		return 0, 0, false
	}
	if hasTopic {
		t, err := strconv.Atoi(tp)
		if err != nil || t <= 1 || tp[0] == '+' {
			return 0, 0, false
		}
		return n, t, true
	}
	return n, 0, true
}

// ChatID is the hub's id of the one-to-one chat with a Telegram user.
func ChatID(user int64) ids.ChatID { return ids.ChatID(strconv.FormatInt(user, 10)) }

// AccountID is the hub's id of the linked account of a Telegram user.
func AccountID(user int64) ids.AccountID { return ids.AccountID(strconv.FormatInt(user, 10)) }

// MessageID is the hub's id of a message of the account's box.
func MessageID(id int) ids.MessageID { return ids.MessageID(strconv.Itoa(id)) }

// ParseUser reads a user (or one-to-one chat, or account) id.
func ParseUser[T ~string](id T) (int64, error) {
	n, err := strconv.ParseInt(string(id), 10, 64)
	if err != nil || n <= 0 || id[0] == '+' {
		return 0, fmt.Errorf("telegram: %q is not a Telegram user id", string(id))
	}
	return n, nil
}

// ParseMessage reads a message id.
func ParseMessage(id ids.MessageID) (int, error) {
	n, err := strconv.Atoi(string(id))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("telegram: %q is not a Telegram message id", string(id))
	}
	return n, nil
}
