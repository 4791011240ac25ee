package telegram_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestGroupReactionsFromOthers: in a basic group and in a supergroup the
// reactions other members make on Telegram reach the hub as each
// member's full set, a reaction taken away as an empty set, each change
// once; the owner's own reaction from XMPP does not come back.
func TestGroupReactionsFromOthers(t *testing.T) {
	f := newFixture(t)
	f.srv.AddUser(bobID, "+15550003333", "Bob", "")
	f.srv.AddGroup(42, "Book club", "", aliceID, nil, ownerID, bobID)
	f.srv.AddChannel(telegramtest.Channel{ID: 77, Title: "Gophers", Creator: aliceID, Members: []int64{bobID, ownerID}})
	acct, sess := f.connect(t)
	re := sess.(gateway.Reactor)
	num := func(id ids.MessageID) int { n, _ := strconv.Atoi(string(id)); return n }

	for _, tc := range []struct {
		chat  ids.ChatID
		post  func(text string) error
		react func(user int64, id ids.MessageID, emojis ...string) error
	}{
		{
			chat: "g42",
			post: func(text string) error { return f.srv.SendGroup(aliceID, 42, text) },
			react: func(user int64, id ids.MessageID, emojis ...string) error {
				cp, ok := f.srv.GroupCopy(ownerID, num(id), user)
				if !ok {
					t.Fatalf("user %d has no copy of message %s", user, id)
				}
				return f.srv.ReactInGroup(user, 42, cp, emojis...)
			},
		},
		{
			chat: "c77",
			post: func(text string) error { _, err := f.srv.Post(aliceID, 77, 0, text); return err },
			react: func(user int64, id ids.MessageID, emojis ...string) error {
				return f.srv.ReactInChannel(user, 77, num(id), emojis...)
			},
		},
	} {
		t.Run(string(tc.chat), func(t *testing.T) {
			if err := tc.post("react to this in " + string(tc.chat)); err != nil {
				t.Fatal(err)
			}
			target := f.host.WaitEvent(t, body("react to this in "+string(tc.chat))).(*event.Message)
			reaction := func(who int64, emojis ...string) func(event.Event) bool {
				return func(ev event.Event) bool {
					r, ok := ev.(*event.Reaction)
					return ok && r.Chat == tc.chat && r.Target == target.ID && r.Sender == ids.UserID(strconv.FormatInt(who, 10)) &&
						slices.Equal(r.Emojis, emojis) && r.Account == acct && r.Group && !r.FromMe
				}
			}
			steps := []struct {
				who    int64
				emojis []string
			}{{aliceID, []string{"👍"}}, {bobID, []string{"❤"}}, {aliceID, nil}}
			for _, st := range steps {
				if err := tc.react(st.who, target.ID, st.emojis...); err != nil {
					t.Fatalf("%d reacts %v: %v", st.who, st.emojis, err)
				}
				f.host.WaitEvent(t, reaction(st.who, st.emojis...))
			}
			if err := re.SendReaction(f.ctx, &event.Reaction{Meta: event.Meta{Account: acct, Chat: tc.chat}, Target: target.ID, Emojis: []string{"🔥"}}); err != nil {
				t.Fatalf("SendReaction: %v", err)
			}
			// Everything before a later message has arrived: each change
			// came once, and nothing of the owner's came back.
			if err := tc.post("after the reactions in " + string(tc.chat)); err != nil {
				t.Fatal(err)
			}
			f.host.WaitEvent(t, body("after the reactions in "+string(tc.chat)))
			var got []string
			for _, ev := range f.host.Events() {
				if r, ok := ev.(*event.Reaction); ok && r.Chat == tc.chat {
					got = append(got, string(r.Sender)+":"+strings.Join(r.Emojis, ""))
				}
			}
			want := []string{"2002:👍", "3003:❤", "2002:"}
			if !slices.Equal(got, want) {
				t.Errorf("reactions in %s = %q, want %q", tc.chat, got, want)
			}
		})
	}
}
