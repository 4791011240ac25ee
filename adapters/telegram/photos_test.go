package telegram_test

import (
	"bytes"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// avatarOf matches a ChatInfo of chat that changes its picture, and
// returns it.
func avatarOf(chat ids.ChatID) func(event.Event) bool {
	return func(e event.Event) bool {
		ci, ok := e.(*event.ChatInfo)
		return ok && ci.Chat == chat && ci.AvatarHash != nil
	}
}

// TestGroupPhotos: a group's and a channel's photo is the room's avatar
// (GroupInfo.AvatarHash, GetGroupAvatar); a new photo or its removal on
// Telegram arrives as a ChatInfo with the new hash. In process and out
// of process (the adapter protocol carries the hash and the picture).
func TestGroupPhotos(t *testing.T) {
	t.Run("in process", func(t *testing.T) { testGroupPhotos(t, newFixture(t)) })
	t.Run("remote", func(t *testing.T) { testGroupPhotos(t, newRemoteFixture(t)) })
}

func testGroupPhotos(t *testing.T, f *fixture) {
	f.srv.AddUser(bobID, "+15550003333", "Bob", "")
	f.srv.AddGroup(42, "Book club", "", aliceID, nil, ownerID)
	f.srv.AddChannel(telegramtest.Channel{ID: 77, Title: "Gophers", Creator: aliceID, Members: []int64{ownerID}})
	_, sess := f.connect(t)
	gm := sess.(gateway.GroupManager)
	ag := sess.(gateway.GroupAvatarGetter)

	if a, err := ag.GetGroupAvatar(f.ctx, "g42"); err != nil || len(a.Data) != 0 {
		t.Fatalf("GetGroupAvatar before any photo = %+v, %v; want none", a, err)
	}
	for _, tc := range []struct {
		chat ids.ChatID
		set  func(jpeg []byte) error
	}{
		{"g42", func(jpeg []byte) error { return f.srv.SetGroupPhoto(aliceID, 42, jpeg) }},
		{"c77", func(jpeg []byte) error { return f.srv.SetChannelPhoto(aliceID, 77, jpeg) }},
	} {
		jpeg := []byte("\xff\xd8 photo of " + string(tc.chat))
		if err := tc.set(jpeg); err != nil {
			t.Fatal(err)
		}
		ci := f.host.WaitEvent(t, avatarOf(tc.chat)).(*event.ChatInfo)
		if *ci.AvatarHash == "" || !ci.Group || ci.Sender != "2002" {
			t.Errorf("%s: photo change = %+v (hash %q)", tc.chat, ci, *ci.AvatarHash)
		}
		gi, err := gm.GroupInfo(f.ctx, tc.chat)
		if err != nil || gi.AvatarHash != *ci.AvatarHash {
			t.Errorf("%s: GroupInfo.AvatarHash = %q, %v; want %q", tc.chat, gi.AvatarHash, err, *ci.AvatarHash)
		}
		a, err := ag.GetGroupAvatar(f.ctx, tc.chat)
		if err != nil || !bytes.Equal(a.Data, jpeg) || a.Hash != gi.AvatarHash || a.MIMEType != "image/jpeg" {
			t.Errorf("%s: GetGroupAvatar = %q %q, %v", tc.chat, a.Hash, a.Data, err)
		}
	}
	// Removed: a ChatInfo with an empty hash, and no picture.
	if err := f.srv.SetGroupPhoto(aliceID, 42, nil); err != nil {
		t.Fatal(err)
	}
	removed := f.host.WaitEvents(t, 2, avatarOf("g42"))[1].(*event.ChatInfo)
	if *removed.AvatarHash != "" {
		t.Errorf("photo removed: hash %q, want empty", *removed.AvatarHash)
	}
	if a, err := ag.GetGroupAvatar(f.ctx, "g42"); err != nil || len(a.Data) != 0 {
		t.Errorf("GetGroupAvatar after removal = %+v, %v; want none", a, err)
	}
	if _, err := ag.GetGroupAvatar(f.ctx, "g99"); err == nil {
		t.Error("GetGroupAvatar(unknown group) = nil error")
	}
}
