package main

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// The WhatsApp group of the group test: LID-addressed, created by Alice
// (its super-admin), with the linked account and Bob (a LID whose number
// WhatsApp hides) as members.
var (
	waGroupJID  = types.NewJID("120363000000000042", types.GroupServer)
	waGroupRoom = "#group-120363000000000042@" + e2eComponent
	waOwner     = "+15550000100"
	waOwnerLID  = wt.LID("900000000100")
	waAlice     = wt.PN("+15550001111")
	waAliceLID  = wt.LID("900000001111")
	waBobLID    = wt.LID("900000002222")
	waDave      = wt.PN("+15550004444")
)

func waGroup(extra ...types.GroupParticipant) *types.GroupInfo {
	gi := &types.GroupInfo{JID: waGroupJID, AddressingMode: types.AddressingModeLID,
		Participants: append([]types.GroupParticipant{
			{JID: waAliceLID, PhoneNumber: waAlice, LID: waAliceLID, IsAdmin: true, IsSuperAdmin: true},
			{JID: waOwnerLID, PhoneNumber: wt.PN(waOwner), LID: waOwnerLID},
			{JID: waBobLID, LID: waBobLID},
		}, extra...)}
	gi.Name, gi.Topic = "Book club", "Monthly picks"
	return gi
}

// linkWhatsApp links u's XMPP account to the WhatsApp account phone
// through the link command's QR flow and returns the fake client, once
// the account is connected. prepare runs on the client before the phone
// accepts the link (to script what WhatsApp knows).
func linkWhatsApp(t *testing.T, f *wt.Factory, u *user, phone string, prepare func(*wt.Client)) *wt.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	choice := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/>`)
	res := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='`+attr(choice.Raw, "sessionid")+`'><x xmlns='jabber:x:data' type='submit'><field var='flow'><value>qr</value></field></x></command>`)
	if !containsAll(res.Raw, `status="completed"`, "QR-CODE-1") {
		t.Fatalf("link command: %s", res.Raw)
	}
	c, err := f.Client(ctx, len(f.Clients())-1)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(c)
	}
	if err := c.PairSuccess(ctx, phone, waOwnerLID.User); err != nil {
		t.Fatal(err)
	}
	u.waitMessage(e2eComponent, "Connected to WhatsApp as "+phone)
	return c
}

// TestWhatsAppGroupEndToEnd: a WhatsApp group becomes a room. The linked
// user is invited when the account connects, joins and sees the members
// with their roles, gets a group message from a member, and their
// groupchat message (and a reaction) reaches WhatsApp addressed to the
// group; a new topic, a new member and a new group picture (the room's
// avatar) show in the room, and a group the account is added to brings
// an invitation.
func TestWhatsAppGroupEndToEnd(t *testing.T) {
	e, f := startWhatsAppE2E(t, config.BackendSQLite)
	u := e.user("romeo")
	c := linkWhatsApp(t, f, u, waOwner, func(c *wt.Client) { c.SetGroups(waGroup()) })

	// Invited on connect, the user joins: members as occupants (the
	// creator as owner), then the user's own presence and the topic.
	u.waitRaw("a direct invitation", "jabber:x:conference", `jid="`+waGroupRoom+`"`)
	u.raw(`<presence to='` + waGroupRoom + `/romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	u.waitRaw("Alice, the group's creator", `from="`+waGroupRoom+`/+15550001111"`, `affiliation="owner"`)
	u.waitRaw("Bob, known by his LID", `from="`+waGroupRoom+`/lid-900000002222"`, `affiliation="member"`)
	u.waitRaw("the self-presence, under the nick chosen", `from="`+waGroupRoom+`/romeo"`, `code="110"`)
	u.waitRaw("the topic", `from="`+waGroupRoom+`"`, "<subject>Monthly picks</subject>")

	// WhatsApp → room: Alice writes (LID-addressed, her number along).
	c.Dispatch(wt.Msg{Chat: waGroupJID, Sender: waAliceLID, SenderAlt: waAlice, ID: "3AG0001", Time: time.Now(), PushName: "Alice"}.
		Event(&waE2E.Message{Conversation: proto.String("hello book club")}))
	in := u.waitRaw("Alice's message in the room", `type="groupchat"`, `from="`+waGroupRoom+`/+15550001111"`, "hello book club")
	if !containsAll(in.Raw, `id="+15550001111:3AG0001"`) {
		t.Errorf("the room message does not carry the WhatsApp id with its author: %s", in.Raw)
	}

	// Room → WhatsApp: a groupchat message goes to the group's JID.
	u.raw(`<message type='groupchat' to='` + waGroupRoom + `' id='wg1'><body>hi from XMPP</body></message>`)
	var sent wt.Sent
	waitFor(t, "the group message on WhatsApp", func() bool {
		for _, s := range c.Sent() {
			if s.Message.GetConversation() == "hi from XMPP" {
				sent = s
				return true
			}
		}
		return false
	})
	if sent.To != waGroupJID || sent.ID == "" {
		t.Errorf("sent to %s with id %q, want the group %s", sent.To, sent.ID, waGroupJID)
	}
	u.waitRaw("the reflection", `id="wg1"`, `from="`+waGroupRoom+`/romeo"`, "hi from XMPP")

	// A reaction from XMPP to Alice's message names her as WhatsApp
	// addressed her (her LID).
	u.raw(`<message type='groupchat' to='` + waGroupRoom + `' id='wg2'><reactions xmlns='urn:xmpp:reactions:0' id='+15550001111:3AG0001'><reaction>👍</reaction></reactions></message>`)
	waitFor(t, "the reaction on WhatsApp", func() bool {
		for _, s := range c.Sent() {
			if r := s.Message.GetReactionMessage(); r != nil {
				k := r.GetKey()
				if s.To != waGroupJID || k.GetID() != "3AG0001" || k.GetParticipant() != waAliceLID.String() || k.GetFromMe() || r.GetText() != "👍" {
					t.Errorf("reaction %v to %s", r, s.To)
				}
				return true
			}
		}
		return false
	})

	// Alice changes the topic and adds Dave.
	by := waAliceLID
	c.Dispatch(&events.GroupInfo{JID: waGroupJID, Sender: &by, Timestamp: time.Now(), Topic: &types.GroupTopic{Topic: "Next: Dune"}})
	u.waitRaw("the new topic", `from="`+waGroupRoom+`/+15550001111"`, "<subject>Next: Dune</subject>")
	c.SetGroups(waGroup(types.GroupParticipant{JID: waDave}))
	c.Dispatch(&events.GroupInfo{JID: waGroupJID, Sender: &by, Timestamp: time.Now(), Join: []types.JID{waDave}})
	u.waitRaw("Dave joining", `from="`+waGroupRoom+`/+15550004444"`, `affiliation="member"`)

	// Alice sets the group's picture (served from loopback, downloaded by
	// the adapter's real HTTP fetch): the room announces its new avatar
	// hash (XEP-0486) and its vCard carries the picture.
	picture := []byte("\xff\xd8\xff\xe0 the book club's picture")
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(picture) }))
	t.Cleanup(cdn.Close)
	c.SetPicture(waGroupJID, &types.ProfilePictureInfo{ID: "1700000500", URL: cdn.URL + "/club.jpg"})
	c.Dispatch(&events.Picture{JID: waGroupJID, Author: waAliceLID, Timestamp: time.Now(), PictureID: "1700000500"})
	sum := sha1.Sum(picture)
	u.waitRaw("the room's new avatar", `from="`+waGroupRoom+`"`, "vcard-temp:x:update", hex.EncodeToString(sum[:]))
	if card := u.iq("get", waGroupRoom, `<vCard xmlns='vcard-temp'/>`); !containsAll(card.Raw, base64.StdEncoding.EncodeToString(picture)) {
		t.Errorf("the room's vCard = %s, want the picture", card.Raw)
	}

	// Alice adds the account to a new group: an invitation to its room.
	trip := types.GroupInfo{JID: types.NewJID("120363000000000043", types.GroupServer),
		Participants: []types.GroupParticipant{{JID: waAliceLID, IsSuperAdmin: true, IsAdmin: true}, {JID: waOwnerLID}}}
	trip.Name = "Trip"
	c.SetGroups(waGroup(types.GroupParticipant{JID: waDave}), &trip)
	c.Dispatch(&events.JoinedGroup{Type: "new", Sender: &by, GroupInfo: trip})
	u.waitRaw("an invitation to the new group, from its room", `from="#group-120363000000000043@`+e2eComponent+`"`, `<invite from="`, "jabber:x:conference", `jid="#group-120363000000000043@`+e2eComponent+`"`)
}
