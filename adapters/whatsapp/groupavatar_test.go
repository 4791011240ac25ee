package whatsapp_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// TestGroupAvatar: a group's picture is the room's avatar: its id in
// GroupInfo (asked once, then kept, and from then on in ListGroups too),
// the picture from GetGroupAvatar, and
// a picture set or removed on WhatsApp as a ChatInfo with the new id that
// keeps the group's name and topic.
func TestGroupAvatar(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	c.SetGroups(bookClub())
	c.SetPicture(groupJID, &types.ProfilePictureInfo{ID: "1700000100", URL: "https://pps.whatsapp.net/club.jpg"})
	pictureCalls := func() int { return strings.Count(strings.Join(c.Calls(), ","), "GetProfilePictureInfo") }

	// The listing does not ask for pictures (one request per group).
	list, err := s.ListGroups(e.ctx)
	if err != nil || len(list) != 1 || list[0].AvatarHash != "" || pictureCalls() != 0 {
		t.Fatalf("ListGroups = %+v, %v after %d picture requests; want no request yet", list, err, pictureCalls())
	}
	gi, err := s.GroupInfo(e.ctx, groupChat)
	if err != nil || gi.AvatarHash != "1700000100" {
		t.Fatalf("GroupInfo = %+v, %v; want AvatarHash 1700000100", gi, err)
	}
	list, err = s.ListGroups(e.ctx)
	if err != nil || len(list) != 1 || list[0].AvatarHash != "1700000100" {
		t.Fatalf("ListGroups = %+v, %v", list, err)
	}
	if n := pictureCalls(); n != 1 {
		t.Errorf("the group's picture was asked for %d times, want once", n)
	}
	av, err := s.GetGroupAvatar(e.ctx, groupChat)
	if err != nil || av.Hash != "1700000100" || av.MIMEType != "image/jpeg" || !bytes.Contains(av.Data, []byte("club.jpg")) {
		t.Errorf("GetGroupAvatar = %+v, %v", av, err)
	}

	before := len(e.h.Events())
	c.SetPicture(groupJID, &types.ProfilePictureInfo{ID: "1700000200", URL: "https://pps.whatsapp.net/club2.jpg"})
	if !c.Dispatch(&events.Picture{JID: groupJID, Author: aliceLID, Timestamp: when, PictureID: "1700000200"}) {
		t.Fatal("picture set not acknowledged")
	}
	c.SetPicture(groupJID, nil)
	if !c.Dispatch(&events.Picture{JID: groupJID, Author: aliceLID, Timestamp: when, Remove: true}) {
		t.Fatal("picture removal not acknowledged")
	}
	got := e.h.Events()[before:]
	if len(got) != 2 {
		t.Fatalf("%d events, want 2:\n%s", len(got), e.h.Dump())
	}
	for i, want := range []string{"1700000200", ""} {
		ci, ok := got[i].(*event.ChatInfo)
		if !ok || !ci.IsGroup || ci.Chat != groupChat || ci.AvatarHash == nil || *ci.AvatarHash != want ||
			ci.Name != "Book club" || ci.Topic != "Monthly picks" || ci.Sender != alicePhone || !ci.Time.Equal(when) {
			t.Errorf("event %d = %+v, want a ChatInfo of the book club with avatar %q by Alice", i, got[i], want)
		}
	}
	calls := pictureCalls()
	if gi, err := s.GroupInfo(e.ctx, groupChat); err != nil || gi.AvatarHash != "" {
		t.Errorf("GroupInfo after removal = %+v, %v; want no avatar", gi, err)
	}
	if n := pictureCalls(); n != calls {
		t.Errorf("GroupInfo asked for the picture again (%d calls) although the event said it", n-calls)
	}
	if av, err := s.GetGroupAvatar(e.ctx, groupChat); err != nil || av.Hash != "" || av.Data != nil {
		t.Errorf("GetGroupAvatar(no picture) = %+v, %v; want a zero Avatar", av, err)
	}
	if _, err := s.GetGroupAvatar(e.ctx, aliceChat); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("GetGroupAvatar(one-to-one chat) = %v, want ErrUnknownChat", err)
	}
}
