package whatsapp_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// pngImage is a w×h PNG, half transparent.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: uint8(255 * (x % 2))})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegImage is a w×h JPEG.
func jpegImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpImage is a WebP image from golang.org/x/image's own test data (read
// from the module cache, where the build put it): there is no pure-Go
// WebP encoder to make one.
func webpImage(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/image").Output()
	if err != nil {
		t.Skipf("cannot locate golang.org/x/image: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "testdata", "blue-purple-pink.lossless.webp"))
	if err != nil {
		t.Skipf("no WebP sample: %v", err)
	}
	return data
}

// mp4Box is an MP4 box.
func mp4Box(kind string, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, kind...), body...)
}

// mp4Video is the skeleton of an MP4 file: a w×h video track lasting secs
// seconds (movie timescale 1000).
func mp4Video(w, h uint32, secs uint32) []byte {
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], secs*1000-1)
	audioTkhd := make([]byte, 84)
	videoTkhd := make([]byte, 84)
	binary.BigEndian.PutUint32(videoTkhd[76:], w<<16)
	binary.BigEndian.PutUint32(videoTkhd[80:], h<<16)
	return bytes.Join([][]byte{
		mp4Box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41")),
		mp4Box("mdat", bytes.Repeat([]byte{0}, 64)),
		mp4Box("moov", mp4Box("mvhd", mvhd), mp4Box("trak", mp4Box("tkhd", audioTkhd)), mp4Box("trak", mp4Box("tkhd", videoTkhd))),
	}, nil)
}

// decodeJPEG decodes a JPEG thumbnail and returns its size.
func decodeJPEG(t *testing.T, data []byte) image.Point {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != "jpeg" {
		t.Fatalf("thumbnail is not a JPEG (%q): %v", format, err)
	}
	return image.Pt(cfg.Width, cfg.Height)
}

// TestSentMediaLooksNative sends photos, a video, a voice message and a
// captioned document through the fake client and checks what WhatsApp's
// apps need to show them: size and preview of photos, PNG and WebP
// converted to JPEG, a video's size and length, a voice message's length
// and waveform, a document's caption wrapped.
func TestSentMediaLooksNative(t *testing.T) {
	e := newEnv(t, nil)
	s, c := e.connected()
	meta := event.Meta{Account: s.Account(), Chat: aliceChat, Sender: ids.UserID(s.Account()), FromMe: true}
	send := func(t *testing.T, body string, a event.Attachment) *waE2E.Message {
		t.Helper()
		before := len(c.Sent())
		if _, err := s.SendMessage(e.ctx, &event.Message{Meta: meta, Body: body, Attachments: []event.Attachment{a}}); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		sent := c.Sent()[before:]
		if len(sent) != 1 {
			t.Fatalf("%d messages sent, want 1", len(sent))
		}
		return sent[0].Message
	}
	lastUpload := func() []byte { u := c.Uploads(); return u[len(u)-1].Data }

	t.Run("jpeg", func(t *testing.T) {
		data := jpegImage(t, 640, 480)
		im := send(t, "cat", file("cat.jpg", "image/jpeg", event.KindImage, data)).GetImageMessage()
		if im.GetWidth() != 640 || im.GetHeight() != 480 || im.GetMimetype() != "image/jpeg" {
			t.Errorf("image %dx%d %s, want 640x480 image/jpeg", im.GetWidth(), im.GetHeight(), im.GetMimetype())
		}
		if got := decodeJPEG(t, im.GetJPEGThumbnail()); got != image.Pt(96, 72) {
			t.Errorf("thumbnail %v, want 96x72", got)
		}
		if !bytes.Equal(lastUpload(), data) {
			t.Error("a JPEG was not uploaded as it is")
		}
	})
	t.Run("png_to_jpeg", func(t *testing.T) {
		im := send(t, "", file("shot.png", "image/png", event.KindImage, pngImage(t, 50, 200))).GetImageMessage()
		if im.GetWidth() != 50 || im.GetHeight() != 200 || im.GetMimetype() != "image/jpeg" {
			t.Errorf("image %dx%d %s, want 50x200 image/jpeg", im.GetWidth(), im.GetHeight(), im.GetMimetype())
		}
		if got := decodeJPEG(t, im.GetJPEGThumbnail()); got != image.Pt(24, 96) {
			t.Errorf("thumbnail %v, want 24x96", got)
		}
		if got := decodeJPEG(t, lastUpload()); got != image.Pt(50, 200) {
			t.Errorf("uploaded %v, want a 50x200 JPEG", got)
		}
		if im.GetFileLength() != uint64(len(lastUpload())) {
			t.Errorf("FileLength %d, uploaded %d bytes", im.GetFileLength(), len(lastUpload()))
		}
	})
	t.Run("webp_to_jpeg", func(t *testing.T) {
		im := send(t, "", file("p.webp", "image/webp", event.KindImage, webpImage(t))).GetImageMessage()
		if im == nil || im.GetMimetype() != "image/jpeg" || im.GetWidth() == 0 {
			t.Fatalf("WebP photo sent as %v, want a JPEG photo with its size", im)
		}
		decodeJPEG(t, lastUpload())
		decodeJPEG(t, im.GetJPEGThumbnail())
	})
	t.Run("broken_webp_is_a_document", func(t *testing.T) {
		m := send(t, "", file("bad.webp", "image/webp", event.KindImage, []byte("RIFF....WEBPnope")))
		if m.GetDocumentMessage() == nil {
			t.Errorf("undecodable WebP sent as %v, want a document", m)
		}
	})
	t.Run("video", func(t *testing.T) {
		vm := send(t, "clip", file("clip.mp4", "video/mp4", event.KindVideo, mp4Video(1280, 720, 7))).GetVideoMessage()
		if vm.GetWidth() != 1280 || vm.GetHeight() != 720 || vm.GetSeconds() != 7 {
			t.Errorf("video %dx%d %ds, want 1280x720 7s", vm.GetWidth(), vm.GetHeight(), vm.GetSeconds())
		}
	})
	t.Run("voice", func(t *testing.T) {
		am := send(t, "", file("rec.ogg", "audio/ogg", event.KindVoice, wt.OggOpus(5))).GetAudioMessage()
		if !am.GetPTT() || am.GetSeconds() != 5 || am.GetMimetype() != "audio/ogg; codecs=opus" {
			t.Errorf("voice PTT=%v %ds %s, want PTT 5s audio/ogg; codecs=opus", am.GetPTT(), am.GetSeconds(), am.GetMimetype())
		}
		w := am.GetWaveform()
		if len(w) != 64 {
			t.Fatalf("waveform of %d samples, want 64", len(w))
		}
		// The loud middle second (samples 25..38) peaks; the rest is quiet.
		if w[0] != 0 || w[63] != 0 || w[32] != 100 {
			t.Errorf("waveform %v: want 0 at the ends and 100 in the middle", w)
		}
	})
	t.Run("not_opus_is_not_voice", func(t *testing.T) {
		am := send(t, "", file("song.ogg", "audio/ogg", event.KindVoice, []byte("OggS but not Opus at all"))).GetAudioMessage()
		if am == nil || am.GetPTT() || am.GetMimetype() != "audio/ogg" {
			t.Errorf("an Ogg file that is not Opus sent as %v; want plain audio", am)
		}
	})
	t.Run("document_caption_wrapped", func(t *testing.T) {
		m := send(t, "the report", file("r.pdf", "application/pdf", event.KindFile, []byte("%PDF-1.4")))
		doc := m.GetDocumentWithCaptionMessage().GetMessage().GetDocumentMessage()
		if doc == nil || doc.GetCaption() != "the report" || m.GetDocumentMessage() != nil {
			t.Errorf("captioned document sent as %v, want DocumentWithCaptionMessage", m)
		}
		// whatsmeow's receiving side finds it there.
		if whatsmeow.GetMediaType(doc) != whatsmeow.MediaDocument {
			t.Error("wrapped document is not downloadable as a document")
		}
	})
}
