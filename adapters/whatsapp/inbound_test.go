package whatsapp_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waSyncAction"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

var when = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// TestInboundRouting sends one event of each kind through the fake client
// and checks what reaches the hub (the conversions themselves have golden
// tests in package convert).
func TestInboundRouting(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	// The first app-state sync: the account sends its presence, which
	// WhatsApp needs before presence subscriptions.
	c.Dispatch(&events.AppStateSyncComplete{Name: appstate.WAPatchCriticalBlock})
	acct := s.Account()
	before := len(e.h.Events())
	msg := wt.Msg{Chat: alice, ID: "A1", Time: when}
	evts := []any{
		msg.Event(textMsg("hello")),
		&events.UndecryptableMessage{Info: wt.Msg{Chat: alice, ID: "A2", Time: when}.Info()},
		&events.Receipt{MessageSource: msg.Source(), MessageIDs: []types.MessageID{"3EB0X"}, Timestamp: when, Type: types.ReceiptTypeRead},
		&events.ChatPresence{MessageSource: msg.Source(), State: types.ChatPresenceComposing},
		&events.Presence{From: alice, LastSeen: when},
		&events.CallOffer{BasicCallMeta: types.BasicCallMeta{From: alice, CallCreator: alice, CallID: "C1", Timestamp: when}},
		&events.CallOfferNotice{BasicCallMeta: types.BasicCallMeta{From: alice, CallCreator: alice, CallID: "C2", Timestamp: when}, Media: "video"},
		wt.Msg{Chat: types.NewJID("120363000000000001", types.GroupServer), Sender: alice, ID: "G1", Time: when}.Event(textMsg("group")),
		&events.HistorySync{},
	}
	for i, evt := range evts {
		if !c.Dispatch(evt) {
			t.Errorf("event %d (%T) not acknowledged", i, evt)
		}
	}
	var got []string
	for _, ev := range e.h.Events()[before:] {
		if ev.EventMeta().Account != acct {
			t.Errorf("event of another account: %s", gatewaytest.Describe(ev))
		}
		got = append(got, strings.TrimPrefix(strings.Fields(gatewaytest.Describe(ev))[0], "*event."))
	}
	want := "Message Message Receipt ChatState Presence Message Message Message"
	if strings.Join(got, " ") != want {
		t.Errorf("emitted %v, want %s\n%s", got, want, e.h.Dump())
	}
	// A contact who writes gets a presence subscription.
	if err := c.WaitCall(e.ctx, "SubscribePresence", 1); err != nil {
		t.Error(err)
	}
}

// TestInboundNotAcknowledged: a message the hub could not take is not
// acknowledged, so WhatsApp delivers it again; a permanent refusal is.
func TestInboundNotAcknowledged(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.connected()
	e.h.EmitHook = func(context.Context, event.Event) error { return errors.New("queue full") }
	if c.Dispatch(wt.Msg{Chat: alice, ID: "A1", Time: when}.Event(textMsg("x"))) {
		t.Error("a message the hub refused was acknowledged")
	}
	e.h.EmitHook = func(context.Context, event.Event) error { return gateway.ErrNotLinked }
	if !c.Dispatch(wt.Msg{Chat: alice, ID: "A2", Time: when}.Event(textMsg("x"))) {
		t.Error("a permanently refused message was not acknowledged (WhatsApp would resend it forever)")
	}
}

// TestInboundFromPhone: what the owner sends from the phone arrives with
// FromMe and counts as the phone being online.
func TestInboundFromPhone(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	e.clock.Add(2 * time.Hour)
	c.Dispatch(wt.Msg{Chat: alice, Sender: wt.PN(ownerPhone), FromMe: true, ID: "P1", Time: e.clock.Now()}.Event(textMsg("from phone")))
	ev := e.h.WaitEvent(t, gatewaytest.Is[*event.Message])
	m := ev.(*event.Message)
	if !m.FromMe || m.Sender != "+15550000100" || m.Chat != aliceChat || m.ID != "me:P1" {
		t.Errorf("message = %+v", m.Meta)
	}
	seen, _ := e.h.KV(s.Account()).Get(e.ctx, "phone_last_seen")
	if !strings.HasPrefix(string(seen), e.clock.Now().UTC().Format("2006-01-02T15")) {
		t.Errorf("phone_last_seen = %s", seen)
	}
}

// TestInboundMediaDownload: an attachment's Open downloads the file
// through the client (to a temporary file deleted on Close).
func TestInboundMediaDownload(t *testing.T) {
	e := newEnv(t, nil)
	e.f.Configure = func(c *wt.Client) { c.Media = map[string][]byte{"/v/photo": []byte("JPEG BYTES")} }
	_, c := e.connected()
	img := &waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/v/photo"), MediaKey: []byte("k"),
		FileEncSHA256: []byte("e"), FileSHA256: []byte("s"), Mimetype: proto.String("image/jpeg"), FileLength: proto.Uint64(10)}}
	c.Dispatch(wt.Msg{Chat: alice, ID: "A1", Time: when}.Event(img))
	gone := &waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/v/expired"), Mimetype: proto.String("image/jpeg")}}
	c.Dispatch(wt.Msg{Chat: alice, ID: "A2", Time: when}.Event(gone))
	evs := e.h.WaitEvents(t, 2, gatewaytest.Is[*event.Message])
	a := evs[0].(*event.Message).Attachments[0]
	for range 2 { // Open may be called more than once
		r, err := a.Open(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(r)
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if string(data) != "JPEG BYTES" {
			t.Errorf("content = %q", data)
		}
	}
	_, err := evs[1].(*event.Message).Attachments[0].Open(e.ctx)
	if err == nil || !strings.Contains(err.Error(), "no longer on WhatsApp's servers") {
		t.Errorf("Open of expired media = %v", err)
	}
}

// TestContactInfoGolden: push names, address-book names and profile
// pictures become ContactInfo with the best name and the avatar id.
func TestContactInfoGolden(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	ctx := e.ctx
	carol, carolLID := wt.PN("+15550003333"), wt.LID("900000003333")
	dave := wt.PN("+15550004444")
	if _, _, err := c.Device.Contacts.PutPushName(ctx, alice, "Ally"); err != nil {
		t.Fatal(err)
	}
	if err := c.Device.LIDs.PutLIDMapping(ctx, carolLID, carol); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Device.Contacts.PutPushName(ctx, carolLID, "Carol"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		evt  any
		prep func()
	}{
		{"push_name", &events.PushName{JID: alice, NewPushName: "Ally"}, nil},
		{"push_name_lid", &events.PushName{JID: carolLID, NewPushName: "Carol"}, nil},
		{"contact_address_book", &events.Contact{JID: alice, Timestamp: when, Action: &waSyncAction.ContactAction{FullName: proto.String("Alice Liddell")}},
			func() { _ = c.Device.Contacts.PutContactName(ctx, alice, "Alice", "Alice Liddell") }},
		{"picture_set", &events.Picture{JID: alice, Author: alice, Timestamp: when, PictureID: "1700000001"}, nil},
		{"picture_removed", &events.Picture{JID: alice, Author: alice, Timestamp: when, Remove: true}, nil},
		{"picture_unknown_name", &events.Picture{JID: dave, Author: dave, Timestamp: when, PictureID: "1700000002"}, nil},
	}
	used := map[string]bool{}
	dir := filepath.Join("testdata", "contact")
	for _, tc := range cases {
		used[tc.name+".golden"] = true
		t.Run(tc.name, func(t *testing.T) {
			if tc.prep != nil {
				tc.prep()
			}
			before := len(e.h.Events())
			if !c.Dispatch(tc.evt) {
				t.Fatal("not acknowledged")
			}
			evs := e.h.Events()[before:]
			if len(evs) != 1 {
				t.Fatalf("emitted %d events:\n%s", len(evs), e.h.Dump())
			}
			ci := evs[0].(*event.ContactInfo)
			ci.Time = when
			got, err := wt.EventJSON(ctx, ci)
			if err != nil {
				t.Fatal(err)
			}
			wt.Golden(t, filepath.Join(dir, tc.name+".golden"), got, *update)
		})
	}
	if !*update {
		wt.UnusedGoldens(t, dir, used)
	}
	// Nothing is emitted about the owner, or about a contact with neither
	// name nor picture.
	before := len(e.h.Events())
	c.Dispatch(&events.PushName{JID: wt.PN(ownerPhone), NewPushName: "Me"})
	c.Dispatch(&events.PushName{JID: wt.PN("+15550005555")})
	if n := len(e.h.Events()) - before; n != 0 {
		t.Errorf("%d events about the owner or a nameless contact", n)
	}
	_ = s
}
