package whatsapp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	gwstore "github.com/drawbridge-im/drawbridge/gateway/store"
)

// Polls: WhatsApp encrypts each vote with a secret of the poll's message
// (whatsmeow keeps it in the device store and decrypts with
// DecryptPollVote); a vote names the options it picks by the SHA-256 of
// their names, and replaces the voter's earlier vote. The session keeps
// each poll it saw created (its options and the votes so far, in the
// account's KV) and shows every vote as a correction (XEP-0308) of the
// poll's message carrying the tally.

// kvPollPrefix prefixes the KV key of a poll's state.
const kvPollPrefix = "poll:"

// pollCap bounds the polls kept in memory (the KV keeps all).
const pollCap = 1000

// pollState is a poll and its votes.
type pollState struct {
	// Message is the hub's id of the poll's message; Chat, Sender and
	// FromMe are those of its Meta.
	Message ids.MessageID `json:"message"`
	Chat    ids.ChatID    `json:"chat"`
	Sender  ids.UserID    `json:"sender"`
	FromMe  bool          `json:"from_me,omitempty"`
	// Poll is the poll's text (convert.Poll).
	Poll    string   `json:"poll"`
	Options []string `json:"options"`
	// Votes are the options each voter picked, by voter name.
	Votes map[string][]string `json:"votes,omitempty"`
}

// polls are the polls of a session, by WhatsApp message id.
type polls struct {
	mu sync.Mutex
	m  map[types.MessageID]*pollState
}

// onPoll remembers a poll being created and turns a vote into a tally
// update. A vote is handled here; everything else goes on.
func (s *Session) onPoll(ctx context.Context, e *events.Message) (handled, ok bool) {
	if p := pollOf(e.Message); p != nil {
		s.rememberPoll(ctx, e, p)
		return false, true
	}
	if e.Message.GetPollUpdateMessage() == nil {
		return false, true
	}
	return true, s.onPollVote(ctx, e)
}

// pollOf returns the poll a message creates, of any version.
func pollOf(msg *waE2E.Message) *waE2E.PollCreationMessage {
	for _, p := range []*waE2E.PollCreationMessage{
		msg.GetPollCreationMessage(), msg.GetPollCreationMessageV2(),
		msg.GetPollCreationMessageV3(), msg.GetPollCreationMessageV5(),
	} {
		if p != nil {
			return p
		}
	}
	if inner := msg.GetPollCreationMessageV4().GetMessage(); inner != nil {
		return pollOf(inner)
	}
	return nil
}

// rememberPoll records a poll created in a chat.
func (s *Session) rememberPoll(ctx context.Context, e *events.Message, p *waE2E.PollCreationMessage) {
	chat, sender, err := convert.Chat(ctx, s.env(), e.Info.MessageSource)
	if err != nil {
		return
	}
	ref := waid.MessageRef{ID: e.Info.ID, FromMe: e.Info.IsFromMe}
	if e.Info.IsGroup && !e.Info.IsFromMe {
		ref.Participant = sender
	}
	st := &pollState{Message: ref.MessageID(), Chat: chat, Sender: sender, FromMe: e.Info.IsFromMe, Poll: convert.Poll(p)}
	for _, o := range p.GetOptions() {
		st.Options = append(st.Options, o.GetOptionName())
	}
	s.storePoll(ctx, e.Info.ID, st)
}

// storePoll keeps a poll's state in memory and in the KV.
func (s *Session) storePoll(ctx context.Context, id types.MessageID, st *pollState) {
	s.polls.mu.Lock()
	if s.polls.m == nil || len(s.polls.m) >= pollCap {
		s.polls.m = map[types.MessageID]*pollState{}
	}
	s.polls.m[id] = st
	s.polls.mu.Unlock()
	data, err := json.Marshal(st)
	if err == nil {
		err = s.host.KV(s.acct).Set(ctx, kvPollPrefix+id, data)
	}
	if err != nil {
		s.log.Warn("whatsapp: cannot store a poll", "id", id, "err", err)
	}
}

// poll returns a poll's state, from memory or the KV; nil if unknown.
func (s *Session) poll(ctx context.Context, id types.MessageID) *pollState {
	s.polls.mu.Lock()
	st, ok := s.polls.m[id]
	s.polls.mu.Unlock()
	if ok {
		return st
	}
	raw, err := s.host.KV(s.acct).Get(ctx, kvPollPrefix+id)
	if err != nil {
		if !errors.Is(err, gwstore.ErrNotFound) {
			s.log.Warn("whatsapp: cannot read a poll", "id", id, "err", err)
		}
		return nil
	}
	st = &pollState{}
	if err := json.Unmarshal(raw, st); err != nil {
		s.log.Warn("whatsapp: a stored poll is unreadable", "id", id, "err", err)
		return nil
	}
	return st
}

// onPollVote decrypts a vote, records it and shows the new tally.
func (s *Session) onPollVote(ctx context.Context, e *events.Message) bool {
	key := e.Message.GetPollUpdateMessage().GetPollCreationMessageKey()
	st := s.poll(ctx, key.GetID())
	if st == nil {
		s.log.Debug("whatsapp: vote on a poll created before the account was linked", "poll", key.GetID())
		return true
	}
	vote, err := s.c.client.DecryptPollVote(ctx, e)
	if err != nil {
		s.log.Warn("whatsapp: cannot decrypt a poll vote", "poll", key.GetID(), "err", err)
		return true
	}
	byHash := map[[sha256.Size]byte]string{}
	for _, o := range st.Options {
		byHash[sha256.Sum256([]byte(o))] = o
	}
	var picked []string
	for _, h := range vote.GetSelectedOptions() {
		if len(h) == sha256.Size {
			if o, ok := byHash[[sha256.Size]byte(h)]; ok {
				picked = append(picked, o)
			}
		}
	}
	voter := "You"
	if !e.Info.IsFromMe {
		voter = s.name(ctx, e.Info.Sender)
		if voter == "" {
			voter = string(s.users.UserID(ctx, e.Info.Sender, e.Info.SenderAlt))
		}
	}
	next := *st
	next.Votes = map[string][]string{}
	for k, v := range st.Votes {
		next.Votes[k] = v
	}
	if len(picked) == 0 {
		delete(next.Votes, voter)
	} else {
		next.Votes[voter] = picked
	}
	s.storePoll(ctx, key.GetID(), &next)
	at := e.Info.Timestamp
	if at.IsZero() {
		at = s.a.now()
	}
	return s.emit(ctx, &event.Edit{
		Meta:   event.Meta{Account: s.acct, Chat: next.Chat, Sender: next.Sender, FromMe: next.FromMe, Time: at},
		Target: next.Message,
		Body:   pollTally(&next),
	})
}

// pollTally is a poll's text with the votes so far under each option.
func pollTally(st *pollState) string {
	var b strings.Builder
	head, _, _ := strings.Cut(st.Poll, "\n")
	b.WriteString(head)
	b.WriteString("\n")
	for i, o := range st.Options {
		var who []string
		for voter, picked := range st.Votes {
			if slices.Contains(picked, o) {
				who = append(who, voter)
			}
		}
		slices.Sort(who)
		fmt.Fprintf(&b, "%d. %s — %d", i+1, o, len(who))
		if len(who) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(who, ", "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "(%d voters so far; vote on your phone.)", len(st.Votes))
	return b.String()
}
