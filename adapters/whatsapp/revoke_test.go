package whatsapp_test

import (
	"errors"
	"path/filepath"
	"testing"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestAdminRevoke: in a group where the owner is an admin, a retraction of
// another member's message is a revocation naming its author (golden
// protobuf, in the group's LID addressing); where the owner is not, it is
// refused as WhatsApp would, and nothing is sent.
func TestAdminRevoke(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	notAdmin := bookClub()
	notAdmin.JID = types.NewJID("120363000000000005", types.GroupServer)
	notAdmin.Participants[0].IsAdmin, notAdmin.Participants[0].IsSuperAdmin = false, false
	c.SetGroups(bookClub(), notAdmin)
	retract := func(chat ids.ChatID, target ids.MessageID) error {
		return s.RetractMessage(e.ctx, &event.Retract{Meta: event.Meta{Account: s.Account(), Chat: chat, FromMe: true}, Target: target})
	}
	dir := filepath.Join("testdata", "revoke")
	used := map[string]bool{}
	for _, tc := range []struct {
		name   string
		target ids.MessageID
	}{
		// Alice is known by her number; the group addresses her by LID.
		{"admin_revokes_alice", waid.MessageRef{ID: "G1", Participant: alicePhone}.MessageID()},
		// Bob is known only by his LID.
		{"admin_revokes_bob", waid.MessageRef{ID: "G2", Participant: "lid-900000002222"}.MessageID()},
		// The owner's own message, as before.
		{"own_message", waid.OwnMessage("3EB0OWN")},
	} {
		used[tc.name+".golden"] = true
		t.Run(tc.name, func(t *testing.T) {
			sb, ub := len(c.Sent()), len(c.Uploads())
			if err := retract(groupChat, tc.target); err != nil {
				t.Fatalf("RetractMessage: %v", err)
			}
			wt.Golden(t, filepath.Join(dir, tc.name+".golden"), outboundGolden(t, c, sb, ub, ""), *update)
		})
	}
	if !*update {
		wt.UnusedGoldens(t, dir, used)
	}

	before := len(c.Sent())
	for _, tc := range []struct {
		name   string
		chat   ids.ChatID
		target ids.MessageID
		want   error
	}{
		{"not an admin", ids.ChatID("group-" + notAdmin.JID.User), waid.MessageRef{ID: "G3", Participant: alicePhone}.MessageID(), gateway.ErrForbidden},
		{"one-to-one", aliceChat, "A1", gateway.ErrForbidden},
		{"unknown group", "group-120363999999999999", waid.MessageRef{ID: "G4", Participant: alicePhone}.MessageID(), gateway.ErrUnknownChat},
	} {
		if err := retract(tc.chat, tc.target); !errors.Is(err, tc.want) {
			t.Errorf("%s: RetractMessage = %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := len(c.Sent()) - before; n != 0 {
		t.Errorf("%d revocations sent after refusals", n)
	}
}
