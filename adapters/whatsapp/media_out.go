package whatsapp

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// prepareMedia reads what WhatsApp's apps show of a file before it is
// downloaded (convert.MediaInfo) from the spooled file f of n bytes, and
// converts PNG and WebP photos to JPEG in f (a's MIME type, name and size
// follow). A photo that cannot be read is sent as a document when WhatsApp
// could not show it anyway (WebP), as it is otherwise; a voice message
// that is not Ogg Opus goes as ordinary audio; a file whose length or size
// cannot be read is sent without them. f is left at its start.
func (s *Session) prepareMedia(f *os.File, n int64, kind convert.MediaKind, a *event.Attachment) (convert.MediaKind, convert.MediaInfo, error) {
	var info convert.MediaInfo
	defer f.Seek(0, io.SeekStart) //nolint:errcheck // checked by the caller's upload
	switch kind {
	case convert.MediaImage:
		data := make([]byte, n)
		if _, err := f.ReadAt(data, 0); err != nil {
			return kind, info, fmt.Errorf("whatsapp: reading %q: %w", a.Name, err)
		}
		img, err := convert.PrepareImage(data, a.MIMEType)
		if err != nil {
			s.log.Info("whatsapp: image sent without preview", "name", a.Name, "mime", a.MIMEType, "err", err)
			if convert.NeedsJPEG(a.MIMEType) && convert.BaseMIME(a.MIMEType) == "image/webp" {
				return convert.MediaDocument, convert.MediaInfo{}, nil
			}
			return kind, img.Info, nil
		}
		if img.Data != nil {
			if err := replaceContent(f, img.Data); err != nil {
				return kind, info, fmt.Errorf("whatsapp: converting %q: %w", a.Name, err)
			}
			a.MIMEType, a.Name, a.Size = "image/jpeg", convert.JPEGName(a.Name), int64(len(img.Data))
		}
		return kind, img.Info, nil
	case convert.MediaVoice, convert.MediaAudio:
		if b := convert.BaseMIME(a.MIMEType); b != "audio/ogg" && b != "audio/opus" {
			return kind, info, nil
		}
		info, err := convert.OggOpusInfo(io.NewSectionReader(f, 0, n))
		if err != nil {
			s.log.Info("whatsapp: audio sent without its length", "name", a.Name, "err", err)
			if kind == convert.MediaVoice && errors.Is(err, convert.ErrNotOggOpus) {
				// WhatsApp plays voice messages only in Opus (an Ogg
				// Vorbis file is music): an ordinary audio file then.
				return convert.MediaAudio, convert.MediaInfo{}, nil
			}
			return kind, convert.MediaInfo{}, nil
		}
		return kind, info, nil
	case convert.MediaVideo:
		info, err := convert.MP4Info(f, n)
		if err != nil && !errors.Is(err, convert.ErrNoMP4Info) {
			s.log.Info("whatsapp: video sent without its size", "name", a.Name, "err", err)
		}
		return kind, info, nil
	}
	return kind, info, nil
}

// replaceContent makes data the whole content of f.
func replaceContent(f *os.File, data []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}
