package whatsapp_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"google.golang.org/protobuf/proto"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// openAll reads an attachment.
func openAll(ctx context.Context, a event.Attachment) ([]byte, error) {
	r, err := a.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// TestExpiredMediaIsFetchedAgain: a file WhatsApp's servers no longer have
// (403, 404, 410) makes the session ask the phone for it once, tells the
// owner it follows, and delivers it when the phone answers with the new
// path, as a correction of the placeholder; a phone without the file is
// told the same way.
func TestExpiredMediaIsFetchedAgain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status error
	}{
		{"410", whatsmeow.ErrMediaDownloadFailedWith410},
		{"404", whatsmeow.ErrMediaDownloadFailedWith404},
		{"403", whatsmeow.ErrMediaDownloadFailedWith403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s, c := e.connected()
			key := []byte("0123456789abcdef0123456789abcdef")
			c.Lock()
			c.MediaErr = map[string]error{"/v/old": tc.status}
			c.Media = map[string][]byte{"/v/new": []byte("the photo")}
			c.Unlock()
			c.Dispatch(wt.Msg{Chat: alice, ID: "M1", Time: when}.Event(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{
				URL: proto.String("https://mmg.whatsapp.net/v/old"), DirectPath: proto.String("/v/old"), MediaKey: key,
				Mimetype: proto.String("image/jpeg"), FileLength: proto.Uint64(9), Caption: proto.String("look")}}))
			// Files reach the hub from their chat's queue (chatqueue.go).
			msg := e.h.WaitEvents(t, 1, gatewaytest.Is[*event.Message])[0].(*event.Message)
			if len(msg.Attachments) != 1 {
				t.Fatalf("message %+v has no file", msg)
			}
			for range 2 { // the hub may open a file twice: one request
				_, err := openAll(e.ctx, msg.Attachments[0])
				text, ok := gateway.ExplainedText(err)
				if !ok || !strings.Contains(text, "expired") || !strings.Contains(text, "follows") {
					t.Fatalf("Open = %v, want an explained expiry", err)
				}
			}
			reqs := c.MediaRetries()
			if len(reqs) != 1 || reqs[0].Info.ID != "M1" || string(reqs[0].MediaKey) != string(key) {
				t.Fatalf("media retry requests = %+v, want one for M1 with the media key", reqs)
			}
			if s.PendingMediaRetries() != 1 {
				t.Errorf("PendingMediaRetries = %d, want 1", s.PendingMediaRetries())
			}
			answer, err := wt.MediaRetryAnswer(reqs[0], waMmsRetry.MediaRetryNotification_SUCCESS, "/v/new")
			if err != nil {
				t.Fatal(err)
			}
			before := len(e.h.Events())
			if !c.Dispatch(answer) {
				t.Fatal("media retry answer not acknowledged")
			}
			got := e.h.Events()[before:]
			if len(got) != 1 {
				t.Fatalf("answer emitted %d events, want the file", len(got))
			}
			// The photo had a caption: the XMPP side showed the text as
			// part 0 and the placeholder as part 1, which is corrected.
			fix, ok := got[0].(*event.Edit)
			if !ok || fix.Target != ids.PartID(msg.ID, 1) || fix.Chat != aliceChat || fix.Sender != ids.UserID(alicePhone) || len(fix.Attachments) != 1 {
				t.Fatalf("delivered again as %s %+v", gatewaytest.Describe(got[0]), got[0])
			}
			data, err := openAll(e.ctx, fix.Attachments[0])
			if err != nil || string(data) != "the photo" || fix.Attachments[0].Kind != event.KindImage {
				t.Errorf("file delivered again = %q (%s), %v", data, fix.Attachments[0].Kind, err)
			}
			if s.PendingMediaRetries() != 0 {
				t.Errorf("PendingMediaRetries = %d after the answer", s.PendingMediaRetries())
			}
		})
	}

	t.Run("not_on_phone", func(t *testing.T) {
		e := newEnv(t, nil)
		_, c := e.connected()
		c.Lock()
		c.MediaErr = map[string]error{"/v/gone": whatsmeow.ErrMediaDownloadFailedWith410}
		c.Unlock()
		c.Dispatch(wt.Msg{Chat: alice, ID: "M2", Time: when}.Event(&waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
			DirectPath: proto.String("/v/gone"), MediaKey: []byte("k"), Mimetype: proto.String("application/pdf"), FileName: proto.String("a.pdf")}}))
		// Files reach the hub from their chat's queue (chatqueue.go).
		msg := e.h.WaitEvents(t, 1, gatewaytest.Is[*event.Message])[0].(*event.Message)
		if _, err := openAll(e.ctx, msg.Attachments[0]); err == nil {
			t.Fatal("expired file opened")
		}
		reqs := c.MediaRetries()
		if len(reqs) != 1 {
			t.Fatalf("requests = %+v", reqs)
		}
		c.Dispatch(wt.MediaRetryError(reqs[0], 2))
		// No caption: the placeholder was part 0, the message's own id.
		last, ok := e.h.Events()[len(e.h.Events())-1].(*event.Edit)
		if !ok || last.Target != msg.ID || !strings.Contains(last.Body, "no longer on the phone") || len(last.Attachments) != 0 {
			t.Errorf("notice = %+v", e.h.Events()[len(e.h.Events())-1])
		}
	})
}
