package convert

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // PNG images from XMPP are read, then sent as JPEG
	"strings"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // WebP images from XMPP are read, then sent as JPEG
	"google.golang.org/protobuf/proto"
)

// MediaInfo is what WhatsApp's apps show of a file before it is
// downloaded: a photo's or video's size and preview, an audio's length and
// a voice message's waveform. Zero fields are left out of the message.
type MediaInfo struct {
	Width, Height uint32
	// Thumbnail is a small JPEG preview.
	Thumbnail []byte
	// Seconds is the length of an audio or video.
	Seconds uint32
	// Waveform is 64 loudness samples (0..100) of a voice message.
	Waveform []byte
}

// ThumbnailSize bounds the longer side of a preview, in pixels.
const ThumbnailSize = 96

// MaxImagePixels bounds the images decoded to make a preview or convert
// them (a small PNG may declare a huge canvas): larger ones travel as they
// are, with their size but no preview.
const MaxImagePixels = 40_000_000

// jpegQuality is the quality of images converted to JPEG; thumbnails use
// thumbQuality.
const (
	jpegQuality  = 90
	thumbQuality = 70
)

// ErrImageTooLarge is returned for images above MaxImagePixels.
var ErrImageTooLarge = errors.New("image too large to decode")

// NeedsJPEG reports whether WhatsApp's apps want an image of this MIME
// type converted to JPEG before it is sent as a photo: they show PNG and
// WebP photos badly or not at all (WebP is for stickers).
func NeedsJPEG(mimeType string) bool {
	base := BaseMIME(mimeType)
	return base == "image/png" || base == "image/webp"
}

// PreparedImage is an image ready to send as a photo.
type PreparedImage struct {
	// Data is the JPEG to upload when the original was converted; nil
	// when the original is sent as it is.
	Data []byte
	Info MediaInfo
}

// PrepareImage reads an image (JPEG, PNG or WebP): its size and a JPEG
// preview, and, for PNG and WebP, a JPEG copy to send instead
// (transparency over white, as the phones show it).
func PrepareImage(data []byte, mimeType string) (PreparedImage, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return PreparedImage{}, fmt.Errorf("reading the image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return PreparedImage{}, fmt.Errorf("reading the image: size %dx%d", cfg.Width, cfg.Height)
	}
	info := MediaInfo{Width: uint32(cfg.Width), Height: uint32(cfg.Height)}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return PreparedImage{Info: info}, fmt.Errorf("%dx%d pixels: %w", cfg.Width, cfg.Height, ErrImageTooLarge)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return PreparedImage{Info: info}, fmt.Errorf("decoding the image: %w", err)
	}
	out := PreparedImage{Info: info}
	if NeedsJPEG(mimeType) {
		flat := flatten(img)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, flat, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return PreparedImage{Info: info}, fmt.Errorf("converting the image to JPEG: %w", err)
		}
		out.Data = b.Bytes()
		img = flat
	}
	thumb, err := Thumbnail(img)
	if err != nil {
		return PreparedImage{Info: info}, err
	}
	out.Info.Thumbnail = thumb
	return out, nil
}

// flatten draws img over white, dropping transparency (JPEG has none).
func flatten(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}

// Thumbnail is a JPEG preview of img whose longer side is at most
// ThumbnailSize pixels.
func Thumbnail(img image.Image) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > ThumbnailSize || h > ThumbnailSize {
		if w >= h {
			w, h = ThumbnailSize, max(1, h*ThumbnailSize/w)
		} else {
			w, h = max(1, w*ThumbnailSize/h), ThumbnailSize
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, fmt.Errorf("making a preview: %w", err)
	}
	return out.Bytes(), nil
}

// JPEGName is name with a .jpg extension instead of its own.
func JPEGName(name string) string {
	if name == "" {
		return ""
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return name + ".jpg"
}

// Decorate puts info into the media message of m (photo, video, audio).
func Decorate(m *waE2E.Message, info MediaInfo) {
	opt := func(v uint32) *uint32 {
		if v == 0 {
			return nil
		}
		return proto.Uint32(v)
	}
	switch {
	case m.GetImageMessage() != nil:
		im := m.ImageMessage
		im.Width, im.Height, im.JPEGThumbnail = opt(info.Width), opt(info.Height), info.Thumbnail
	case m.GetVideoMessage() != nil:
		vm := m.VideoMessage
		vm.Width, vm.Height, vm.JPEGThumbnail, vm.Seconds = opt(info.Width), opt(info.Height), info.Thumbnail, opt(info.Seconds)
	case m.GetAudioMessage() != nil:
		am := m.AudioMessage
		am.Seconds = opt(info.Seconds)
		if am.GetPTT() {
			am.Waveform = info.Waveform
		}
	}
}

// WrapDocumentCaption puts a document that has a caption into a
// DocumentWithCaptionMessage, as WhatsApp's apps send it: a bare
// DocumentMessage's caption is not shown by them.
func WrapDocumentCaption(m *waE2E.Message) *waE2E.Message {
	doc := m.GetDocumentMessage()
	if doc == nil || doc.GetCaption() == "" {
		return m
	}
	return &waE2E.Message{DocumentWithCaptionMessage: &waE2E.FutureProofMessage{
		Message: &waE2E.Message{DocumentMessage: doc},
	}}
}
