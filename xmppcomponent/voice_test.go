package xmppcomponent

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/event"
)

func TestVoiceHint(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want event.AttachmentKind
	}{
		{"https://upload.example.org/a/b/rec.ogg", event.KindVoice},
		{"https://upload.example.org/a/b/REC.OPUS", event.KindVoice},
		{"https://upload.example.org/a/voice.oga?token=x", event.KindVoice},
		{"https://upload.example.org/a/song.mp3", ""},
		{"https://upload.example.org/a/photo.jpg", ""},
		{"https://upload.example.org/ogg", ""},
		{"://bad", ""},
	} {
		if got := voiceHint(tc.url); got != tc.want {
			t.Errorf("voiceHint(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}
