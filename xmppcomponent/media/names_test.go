package media

import (
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	for _, tc := range []struct{ name, mt, want string }{
		{"photo.jpg", "image/jpeg", "photo.jpg"},
		{"", "image/jpeg", "file.jpg"},
		{"", "audio/ogg; codecs=opus", "file.ogg"},
		{"", "application/x-unknown-thing", "file"},
		{"", "", "file"},
		{"voice note", "audio/ogg", "voice_note.ogg"},
		{"dir/sub/report.pdf", "application/pdf", "report.pdf"},
		{`..\..\evil.exe`, "application/octet-stream", "evil.exe"},
		{".hidden", "text/plain", "hidden.txt"},
		{"a?b#c%d.txt", "text/plain", "a_b_c_d.txt"},
		{"Été à Zürich.png", "image/png", "Été_à_Zürich.png"},
		{"bell\a.txt", "text/plain", "bell.txt"},
		{"trailing.", "image/png", "trailing.png"},
		{"rtl\u202etxt.exe", "", "rtltxt.exe"},
		{"\a .. odd name?.pdf", "application/pdf", "odd_name_.pdf"},
	} {
		if got := safeName(tc.name, tc.mt); got != tc.want {
			t.Errorf("safeName(%q, %q) = %q, want %q", tc.name, tc.mt, got, tc.want)
		}
	}
	long := safeName(strings.Repeat("ü", 100)+".jpeg", "image/jpeg")
	if len(long) > maxNameBytes || !strings.HasSuffix(long, "ü.jpeg") {
		t.Errorf("long name → %d bytes: %q", len(long), long)
	}
}

func TestInlineType(t *testing.T) {
	for mt, want := range map[string]bool{
		"image/png": true, "image/jpeg": true, "video/mp4": true, "audio/ogg": true, "text/plain": true,
		"image/svg+xml": false, "text/html": false, "application/pdf": false, "application/octet-stream": false,
		"application/xhtml+xml": false, "text/xml": false,
		"image/svg": false, "image/svg-xml": false, "image/svg+xml-compressed": false,
	} {
		if got := inlineType(mt); got != want {
			t.Errorf("inlineType(%s) = %v", mt, got)
		}
	}
}
