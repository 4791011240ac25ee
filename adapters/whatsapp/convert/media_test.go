package convert

import (
	"bytes"
	"errors"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"
)

func TestMediaReadersRefuseOtherFiles(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("OggS"), []byte("ID3\x03 an mp3"), bytes.Repeat([]byte("OggS\x00"), 10)} {
		if _, err := OggOpusInfo(bytes.NewReader(data)); !errors.Is(err, ErrNotOggOpus) {
			t.Errorf("OggOpusInfo(%q) = %v, want ErrNotOggOpus", data, err)
		}
		if _, err := MP4Info(bytes.NewReader(data), int64(len(data))); !errors.Is(err, ErrNoMP4Info) {
			t.Errorf("MP4Info(%q) = %v, want ErrNoMP4Info", data, err)
		}
	}
	if _, err := PrepareImage([]byte("\x89PNG\r\n\x1a\n"), "image/png"); err == nil {
		t.Error("PrepareImage of a truncated PNG succeeded")
	}
}

func TestJPEGName(t *testing.T) {
	for in, want := range map[string]string{"a.png": "a.jpg", "x.y.webp": "x.y.jpg", "noext": "noext.jpg", ".hidden": ".hidden.jpg", "": ""} {
		if got := JPEGName(in); got != want {
			t.Errorf("JPEGName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrapDocumentCaption(t *testing.T) {
	bare := &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{FileName: proto.String("a.pdf")}}
	if got := WrapDocumentCaption(bare); got != bare {
		t.Error("a document without caption was wrapped")
	}
	withCaption := &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{Caption: proto.String("read me")}}
	got := WrapDocumentCaption(withCaption)
	if got.GetDocumentWithCaptionMessage().GetMessage().GetDocumentMessage().GetCaption() != "read me" || got.DocumentMessage != nil {
		t.Errorf("WrapDocumentCaption = %v", got)
	}
}
