package telegram_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestGroupWrites: in a basic group and in a supergroup the owner's
// edits, deletions, reactions and files from XMPP reach Telegram (what
// Alice sees), and none of them comes back as news; the capabilities say
// so.
func TestGroupWrites(t *testing.T) {
	f := newFixture(t)
	f.srv.AddGroup(42, "Book club", "", aliceID, nil, ownerID)
	f.srv.AddChannel(telegramtest.Channel{ID: 77, Title: "Gophers", Creator: aliceID, Members: []int64{ownerID}})
	acct, sess := f.connect(t)
	ed, rt, re := sess.(gateway.Editor), sess.(gateway.Retracter), sess.(gateway.Reactor)
	jpeg := []byte("\xff\xd8\xff\xe0 a JPEG for the group")
	photo := event.Attachment{Name: "cat.jpg", MIMEType: "image/jpeg", Size: int64(len(jpeg)), Kind: event.KindImage,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(jpeg)), nil }}

	// seen returns what Alice has of the owner's message id: its text, its
	// photo's bytes, and whether it is there at all.
	type seenFn func(id ids.MessageID) (text string, file []byte, ok bool)
	num := func(id ids.MessageID) int { n, _ := strconv.Atoi(string(id)); return n }
	for _, tc := range []struct {
		chat      ids.ChatID
		post      func(text string) error
		seen      seenFn
		reactions func(id ids.MessageID) map[int64][]string
	}{
		{
			chat: "g42",
			post: func(text string) error { return f.srv.SendGroup(aliceID, 42, text) },
			seen: func(id ids.MessageID) (string, []byte, bool) {
				cp, ok := f.srv.GroupCopy(ownerID, num(id), aliceID)
				if !ok {
					return "", nil, false
				}
				m, _ := f.srv.GroupMessage(aliceID, cp)
				file, _ := f.srv.File(m)
				return m.Message, file, true
			},
			reactions: func(id ids.MessageID) map[int64][]string { return f.srv.GroupReactions(ownerID, num(id)) },
		},
		{
			chat: "c77",
			post: func(text string) error { _, err := f.srv.Post(aliceID, 77, 0, text); return err },
			seen: func(id ids.MessageID) (string, []byte, bool) {
				i := slices.IndexFunc(f.srv.ChannelMessages(77), func(m *tg.Message) bool { return m.ID == num(id) })
				if i < 0 {
					return "", nil, false
				}
				m := f.srv.ChannelMessages(77)[i]
				file, _ := f.srv.File(*m)
				return m.Message, file, true
			},
			reactions: func(id ids.MessageID) map[int64][]string { return f.srv.ChannelReactions(77, num(id)) },
		},
	} {
		t.Run(string(tc.chat), func(t *testing.T) {
			caps := sess.Capabilities(tc.chat)
			if !caps.Edits || !caps.Retractions || !caps.Reactions || caps.MaxReactionsPerUser != 1 || caps.MaxFileSize == 0 || !caps.Replies {
				t.Errorf("capabilities = %+v, want edits, deletions, one reaction, files and replies", caps)
			}
			meta := event.Meta{Account: acct, Chat: tc.chat}
			if err := tc.post("hello from Alice in " + string(tc.chat)); err != nil {
				t.Fatal(err)
			}
			theirs := f.host.WaitEvent(t, body("hello from Alice in "+string(tc.chat))).(*event.Message)

			id, err := sess.SendMessage(f.ctx, &event.Message{Meta: meta, Body: "tpyo"})
			if err != nil {
				t.Fatalf("SendMessage: %v", err)
			}
			if err := ed.EditMessage(f.ctx, &event.Edit{Meta: meta, Target: id, Body: "typo fixed"}); err != nil {
				t.Fatalf("EditMessage: %v", err)
			}
			if text, _, _ := tc.seen(id); text != "typo fixed" {
				t.Errorf("after the edit Alice sees %q", text)
			}
			if err := re.SendReaction(f.ctx, &event.Reaction{Meta: meta, Target: theirs.ID, Emojis: []string{"👍"}}); err != nil {
				t.Fatalf("SendReaction: %v", err)
			}
			if got := tc.reactions(theirs.ID); !slices.Equal(got[ownerID], []string{"👍"}) {
				t.Errorf("reactions on Alice's message = %v, want the owner's 👍", got)
			}
			fileID, err := sess.SendMessage(f.ctx, &event.Message{Meta: meta, Body: "look", Attachments: []event.Attachment{photo}})
			if err != nil {
				t.Fatalf("SendMessage(photo): %v", err)
			}
			if text, file, _ := tc.seen(fileID); text != "look" || !bytes.Equal(file, jpeg) {
				t.Errorf("the photo reached Alice as %q with %d bytes", text, len(file))
			}
			if err := rt.RetractMessage(f.ctx, &event.Retract{Meta: meta, Target: id}); err != nil {
				t.Fatalf("RetractMessage: %v", err)
			}
			if _, _, ok := tc.seen(id); ok {
				t.Error("after the deletion Alice still has the message")
			}
			if err := rt.RetractMessage(f.ctx, &event.Retract{Meta: meta, Target: id}); err == nil {
				t.Error("deleting a deleted message: no error")
			}
			// A later message arrives once, and nothing of the owner's came back.
			if err := tc.post("bye from Alice in " + string(tc.chat)); err != nil {
				t.Fatal(err)
			}
			f.host.WaitEvent(t, body("bye from Alice in "+string(tc.chat)))
			for _, ev := range f.host.Events() {
				m := ev.EventMeta()
				if m.Chat == tc.chat && m.FromMe {
					t.Errorf("echo of the owner's own action: %T %+v", ev, ev)
				}
			}
		})
	}
}
