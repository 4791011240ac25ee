package whatsapp_test

import (
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// TestOTPNoticeThroughClient: a one-time code WhatsApp masks on linked
// devices reaches the owner as a notice under the message's id instead of
// vanishing, and an album's header message shows nothing (its photos
// follow) while being acknowledged.
func TestOTPNoticeThroughClient(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	otp := &waE2E.Message{PlaceholderMessage: &waE2E.PlaceholderMessage{Type: waE2E.PlaceholderMessage_MASK_LINKED_DEVICES.Enum()}}
	if !c.Dispatch(wt.Msg{Chat: alice, ID: "OTP1", Time: when}.Event(otp)) {
		t.Fatal("the OTP placeholder was not acknowledged")
	}
	album := &waE2E.Message{AlbumMessage: &waE2E.AlbumMessage{ExpectedImageCount: new(uint32)}}
	if !c.Dispatch(wt.Msg{Chat: alice, ID: "ALB1", Time: when}.Event(album)) {
		t.Fatal("the album header was not acknowledged")
	}
	c.Dispatch(wt.Msg{Chat: alice, ID: "A9", Time: when}.Event(textMsg("after")))
	var got []string
	for _, ev := range e.h.Events() {
		if m, ok := ev.(*event.Message); ok && m.Account == s.Account() {
			got = append(got, string(m.ID)+"="+m.Body)
		}
	}
	want := []string{"OTP1=" + convert.OTPNotice, "A9=after"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("messages = %q, want %q", got, want)
	}
}
