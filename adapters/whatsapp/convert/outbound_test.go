package convert_test

import (
	"testing"

	"go.mau.fi/whatsmeow"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

func TestPlanMedia(t *testing.T) {
	for _, tc := range []struct {
		kind event.AttachmentKind
		mime string
		size int64
		want convert.MediaKind
		up   whatsmeow.MediaType
	}{
		{event.KindImage, "image/jpeg", 1000, convert.MediaImage, whatsmeow.MediaImage},
		{"", "image/png", 1000, convert.MediaImage, whatsmeow.MediaImage},
		{event.KindImage, "image/gif", 1000, convert.MediaDocument, whatsmeow.MediaDocument},
		{event.KindImage, "image/heic", 1000, convert.MediaDocument, whatsmeow.MediaDocument},
		{event.KindImage, "image/jpeg", convert.MaxMediaSize + 1, convert.MediaDocument, whatsmeow.MediaDocument},
		{event.KindFile, "image/jpeg", 1000, convert.MediaDocument, whatsmeow.MediaDocument},
		{event.KindSticker, "image/webp", 20_000, convert.MediaSticker, whatsmeow.MediaImage},
		{event.KindSticker, "image/webp", convert.MaxStickerSize + 1, convert.MediaDocument, whatsmeow.MediaDocument},
		{event.KindSticker, "image/png", 20_000, convert.MediaImage, whatsmeow.MediaImage},
		{event.KindVideo, "video/mp4", 1000, convert.MediaVideo, whatsmeow.MediaVideo},
		{"", "video/webm", 1000, convert.MediaDocument, whatsmeow.MediaDocument},
		{event.KindVoice, "audio/ogg; codecs=opus", 1000, convert.MediaVoice, whatsmeow.MediaAudio},
		{event.KindVoice, "audio/mpeg", 1000, convert.MediaAudio, whatsmeow.MediaAudio},
		{event.KindAudio, "audio/ogg", 1000, convert.MediaAudio, whatsmeow.MediaAudio},
		{"", "audio/mp4", 1000, convert.MediaAudio, whatsmeow.MediaAudio},
		{"", "audio/flac", 1000, convert.MediaDocument, whatsmeow.MediaDocument},
		{"", "application/pdf", 1000, convert.MediaDocument, whatsmeow.MediaDocument},
		{"", "", 1000, convert.MediaDocument, whatsmeow.MediaDocument},
	} {
		got := convert.PlanMedia(event.Attachment{Kind: tc.kind, MIMEType: tc.mime}, tc.size)
		if got != tc.want || got.UploadType() != tc.up {
			t.Errorf("PlanMedia(%s, %q, %d) = %s (%s), want %s (%s)", tc.kind, tc.mime, tc.size, got, got.UploadType(), tc.want, tc.up)
		}
	}
}

func TestExtension(t *testing.T) {
	for mime, want := range map[string]string{
		"image/jpeg": ".jpg", "audio/ogg; codecs=opus": ".ogg", "IMAGE/PNG": ".png", "application/x-nothing": ".bin",
	} {
		if got := convert.Extension(mime); got != want {
			t.Errorf("Extension(%q) = %q, want %q", mime, got, want)
		}
	}
}

func TestReplyContextNone(t *testing.T) {
	if ci := convert.ReplyContext("", owner, "", nil); ci != nil {
		t.Errorf("ReplyContext without reply or mentions = %v, want nil", ci)
	}
	if m := convert.TextMessage("hi", nil); m.GetConversation() != "hi" || m.GetExtendedTextMessage() != nil {
		t.Errorf("TextMessage without context = %v", m)
	}
}
