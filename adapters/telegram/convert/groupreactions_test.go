package convert_test

import (
	"testing"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

const bob = 3003

// peerReaction is one entry of a message's recent reactions.
func peerReaction(peer tg.PeerClass, emoji string, my bool) tg.MessagePeerReaction {
	r := tg.MessagePeerReaction{PeerID: peer, My: my, Date: int(when.Unix()), Reaction: &tg.ReactionEmoji{Emoticon: emoji}}
	r.SetFlags()
	return r
}

// reactionList is what Telegram sends: the recent reactions and the
// count of each emoji, of which the list may name only some (extra).
func reactionList(extra int, recent ...tg.MessagePeerReaction) tg.MessageReactions {
	out := tg.MessageReactions{CanSeeList: true, RecentReactions: recent}
	counts := map[string]int{}
	var order []string
	for _, r := range recent {
		e := r.Reaction.(*tg.ReactionEmoji).Emoticon
		if counts[e] == 0 {
			order = append(order, e)
		}
		counts[e]++
	}
	for i, e := range order {
		n := counts[e]
		if i == 0 {
			n += extra
		}
		out.Results = append(out.Results, tg.ReactionCount{Reaction: &tg.ReactionEmoji{Emoticon: e}, Count: n})
	}
	out.SetFlags()
	return out
}

// TestGroupReactionsGolden: updateMessageReactions in a basic group, a
// supergroup and a forum topic become the reactions of the members who
// changed theirs (never the account's own), removals included, and a
// list Telegram cut short removes nobody.
func TestGroupReactionsGolden(t *testing.T) {
	alicePeer, bobPeer, selfPeer := &tg.PeerUser{UserID: alice}, &tg.PeerUser{UserID: bob}, &tg.PeerUser{UserID: self}
	type result struct {
		Events   []*event.Reaction
		Remember convert.Reactors
	}
	for _, tc := range []struct {
		name string
		chat string
		u    *tg.UpdateMessageReactions
		prev convert.Reactors
	}{
		{"group-reaction", "g42", &tg.UpdateMessageReactions{Peer: &tg.PeerChat{ChatID: 42}, MsgID: 11, Reactions: reactionList(0,
			peerReaction(selfPeer, "🔥", true), peerReaction(alicePeer, "👍", false))}, nil},
		{"group-reaction-changed-and-removed", "g42", &tg.UpdateMessageReactions{Peer: &tg.PeerChat{ChatID: 42}, MsgID: 11, Reactions: reactionList(0,
			peerReaction(alicePeer, "🎉", false))}, convert.Reactors{"2002": {"👍"}, "3003": {"❤"}}},
		{"group-reaction-unchanged", "g42", &tg.UpdateMessageReactions{Peer: &tg.PeerChat{ChatID: 42}, MsgID: 11, Reactions: reactionList(0,
			peerReaction(alicePeer, "👍", false), peerReaction(bobPeer, "👍", false))}, convert.Reactors{"2002": {"👍"}}},
		{"supergroup-reaction-list-cut-short", "c77", &tg.UpdateMessageReactions{Peer: &tg.PeerChannel{ChannelID: 77}, MsgID: 5, Reactions: reactionList(1,
			peerReaction(alicePeer, "👍", false))}, convert.Reactors{"3003": {"👍"}}},
		{"topic-reaction-as-channel", "c80t5", &tg.UpdateMessageReactions{Peer: &tg.PeerChannel{ChannelID: 80}, MsgID: 9, TopMsgID: 5, Reactions: reactionList(0,
			peerReaction(&tg.PeerChannel{ChannelID: 81}, "👀", false))}, nil},
		{"group-reactions-all-taken-away", "g42", &tg.UpdateMessageReactions{Peer: &tg.PeerChat{ChatID: 42}, MsgID: 11},
			convert.Reactors{"2002": {"👍"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, next := convert.GroupReactions("1001", ids.ChatID(tc.chat), self, tc.u, tc.prev, when)
			golden(t, tc.name, result{evs, next})
		})
	}
}
