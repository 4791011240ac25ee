package whatsapp_test

import (
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// TestUndecryptableCorrected: the notice of a message that could not be
// decrypted has the message's own id; when whatsmeow gets the message
// again (from the sender or the phone), the notice is corrected into its
// text (XEP-0308), and files follow as a message of their own. A message
// without a notice is emitted as usual.
func TestUndecryptableCorrected(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	before := len(e.h.Events())
	for _, id := range []string{"A40", "A41"} {
		c.Dispatch(&events.UndecryptableMessage{Info: wt.Msg{Chat: alice, ID: id, Time: when}.Info()})
	}
	c.Dispatch(wt.Msg{Chat: alice, ID: "A40", Time: when}.Event(textMsg("hello again")))
	c.Dispatch(wt.Msg{Chat: alice, ID: "A41", Time: when}.Event(imageMsg("our cat")))
	c.Dispatch(wt.Msg{Chat: alice, ID: "A42", Time: when}.Event(textMsg("plain")))
	var got []string
	for _, ev := range e.h.Events()[before:] {
		if ev.EventMeta().Account != s.Account() {
			continue
		}
		switch x := ev.(type) {
		case *event.Message:
			got = append(got, "message "+string(x.ID)+" files="+string(rune('0'+len(x.Attachments)))+" "+x.Body)
		case *event.Edit:
			got = append(got, "edit "+string(x.Target)+" "+x.Body)
		default:
			got = append(got, gatewaytest.Describe(ev))
		}
	}
	notice := "[A message could not be decrypted. WhatsApp has been asked to send it again; if it does not arrive, read it on your phone.]"
	want := []string{
		"message A40 files=0 " + notice,
		"message A41 files=0 " + notice,
		"edit A40 hello again",
		"edit A41 our cat",
		"message  files=1 ",
		"message A42 files=0 plain",
	}
	if len(got) != len(want) {
		t.Fatalf("events:\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func imageMsg(caption string) *waE2E.Message {
	return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/v/photo"), MediaKey: []byte("k"),
		Mimetype: proto.String("image/jpeg"), FileLength: proto.Uint64(4), Caption: proto.String(caption)}}
}
