package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"google.golang.org/protobuf/proto"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// TestWhatsAppExpiredMediaEndToEnd: a photo whose file WhatsApp's servers
// have expired reaches the XMPP user as its caption and a placeholder
// saying it follows; once the phone has uploaded it again, the
// placeholder is corrected (XEP-0308) to the file, which the user can
// fetch. Through Prosody, the hub, its journal and the file host.
func TestWhatsAppExpiredMediaEndToEnd(t *testing.T) {
	e, f := startWhatsAppE2E(t, config.BackendSQLite)
	u := e.user("romeo")
	photo := []byte("\xff\xd8\xff\xe0 the photo, sent again")
	c := linkWhatsApp(t, f, u, "+15550000100", func(c *wt.Client) {
		c.Lock()
		c.MediaErr = map[string]error{"/v/old": whatsmeow.ErrMediaDownloadFailedWith410}
		c.Media = map[string][]byte{"/v/new": photo}
		c.Unlock()
	})
	contact := "+15550001111@" + e2eComponent
	c.Dispatch(wt.Msg{Chat: wt.PN("+15550001111"), ID: "3A0E01", Time: time.Now(), PushName: "Alice"}.Event(&waE2E.Message{
		ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/v/old"), MediaKey: []byte("0123456789abcdef0123456789abcdef"),
			Mimetype: proto.String("image/jpeg"), FileLength: proto.Uint64(uint64(len(photo))), Caption: proto.String("look at this")}}))
	u.waitMessage(contact, "look at this")
	u.waitRaw("the placeholder", `id="3A0E01~1"`, "expired on WhatsApp", "follows")
	waitFor(t, "the media retry request", func() bool { return len(c.MediaRetries()) == 1 })
	answer, err := wt.MediaRetryAnswer(c.MediaRetries()[0], waMmsRetry.MediaRetryNotification_SUCCESS, "/v/new")
	if err != nil {
		t.Fatal(err)
	}
	c.Dispatch(answer)
	fix := u.waitRaw("the correction with the file", `<replace xmlns="urn:xmpp:message-correct:0" id="3A0E01~1"/>`, `jabber:x:oob`)
	m := oobURL.FindStringSubmatch(fix.Raw)
	if m == nil {
		t.Fatalf("no file URL in %s", fix.Raw)
	}
	res, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if string(got) != string(photo) {
		t.Errorf("the file at %s is %q, want the photo", m[1], got)
	}
}

// TestWhatsAppVoiceMessageEndToEnd: an Ogg/Opus recording an XMPP client
// sends by URL (as Conversations and Gajim send voice messages) reaches
// WhatsApp as a voice message (PTT) with its length and a waveform; an
// .ogg URL that serves something else is not.
func TestWhatsAppVoiceMessageEndToEnd(t *testing.T) {
	e, f := startWhatsAppE2E(t, config.BackendSQLite)
	u := e.user("romeo")
	c := linkWhatsApp(t, f, u, "+15550000100", nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/voice/rec.ogg":
			w.Header().Set("Content-Type", "audio/ogg")
			_, _ = w.Write(wt.OggOpus(3))
		case "/voice/fake.ogg":
			w.Header().Set("Content-Type", "application/pdf")
			_, _ = w.Write([]byte("%PDF-1.4 not audio"))
		}
	}))
	t.Cleanup(srv.Close)
	contact := "+15550001111@" + e2eComponent
	for _, tc := range []struct {
		path  string
		voice bool
	}{{"/voice/rec.ogg", true}, {"/voice/fake.ogg", false}} {
		before := len(c.Sent())
		url := srv.URL + tc.path
		u.raw(`<message type='chat' to='` + contact + `' id='v` + tc.path[7:11] + `'><body>` + url + `</body><x xmlns='jabber:x:oob'><url>` + url + `</url></x></message>`)
		waitFor(t, "the file on WhatsApp", func() bool { return len(c.Sent()) > before })
		m := c.Sent()[before].Message
		am := m.GetAudioMessage()
		switch {
		case tc.voice && (!am.GetPTT() || am.GetSeconds() != 3 || len(am.GetWaveform()) != 64):
			t.Errorf("%s sent as %v; want a 3-second voice message with a waveform", tc.path, m)
		case !tc.voice && m.GetDocumentMessage() == nil:
			t.Errorf("%s (a PDF) sent as %v; want a document", tc.path, m)
		}
	}
}
