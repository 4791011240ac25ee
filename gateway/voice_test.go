package gateway

import "testing"

// TestIsVoice: the XMPP side guesses a voice message from a URL; once the
// file is fetched only Ogg/Opus audio keeps the voice kind.
func TestIsVoice(t *testing.T) {
	for mt, want := range map[string]bool{
		"audio/ogg": true, "audio/ogg; codecs=opus": true, "AUDIO/OPUS": true,
		"audio/mpeg": false, "video/ogg": false, "application/ogg": false, "": false,
	} {
		if got := isVoice(mt); got != want {
			t.Errorf("isVoice(%q) = %v, want %v", mt, got, want)
		}
	}
}
