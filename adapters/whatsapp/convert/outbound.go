package convert

import (
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// WhatsApp's limits on files, per kind of message. Larger photos, videos
// and audio files travel as documents, as the phone apps do. Sources:
// https://faq.whatsapp.com/ — "the maximum file size for all media
// (photo, video or voice messages) is 16 MB", documents up to 2 GB;
// stickers 100 KB static and 500 KB animated (WhatsApp's sticker
// guidelines).
const (
	MaxMediaSize    = 16 << 20
	MaxStickerSize  = 500 << 10
	MaxDocumentSize = 2_000_000_000
)

// MediaKind is the kind of WhatsApp message a file travels as.
type MediaKind string

// Media kinds.
const (
	MediaImage    MediaKind = "image"
	MediaVideo    MediaKind = "video"
	MediaAudio    MediaKind = "audio"
	MediaVoice    MediaKind = "voice"
	MediaDocument MediaKind = "document"
	MediaSticker  MediaKind = "sticker"
)

// UploadType is the whatsmeow media type (encryption key info) of a kind.
func (k MediaKind) UploadType() whatsmeow.MediaType {
	switch k {
	case MediaImage, MediaSticker:
		return whatsmeow.MediaImage
	case MediaVideo:
		return whatsmeow.MediaVideo
	case MediaAudio, MediaVoice:
		return whatsmeow.MediaAudio
	}
	return whatsmeow.MediaDocument
}

// MIME types WhatsApp's apps play inline; anything else is a document.
var (
	inlineImages = []string{"image/jpeg", "image/png"}
	inlineVideos = []string{"video/mp4", "video/3gpp"}
	inlineAudio  = []string{"audio/ogg", "audio/opus", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/x-m4a"}
	voiceAudio   = []string{"audio/ogg", "audio/opus"}
)

// BaseMIME is a MIME type without parameters, in lower case.
func BaseMIME(mimeType string) string {
	base, _, _ := strings.Cut(mimeType, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

func among(base string, list []string) bool {
	for _, s := range list {
		if s == base {
			return true
		}
	}
	return false
}

// PlanMedia chooses the WhatsApp message kind for a file of size bytes:
// by the attachment's kind and MIME type, falling back to a document when
// WhatsApp would not show the file inline or it is too large for its kind.
func PlanMedia(a event.Attachment, size int64) MediaKind {
	base := BaseMIME(a.MIMEType)
	switch {
	case a.Kind == event.KindSticker && base == "image/webp" && size <= MaxStickerSize:
		return MediaSticker
	case size > MaxMediaSize:
		return MediaDocument
	case a.Kind == event.KindVoice && among(base, voiceAudio):
		return MediaVoice
	case among(base, inlineImages) && a.Kind != event.KindFile:
		return MediaImage
	case base == "image/webp" && a.Kind == event.KindImage:
		// Sent as a JPEG photo (PrepareImage).
		return MediaImage
	case among(base, inlineVideos) && a.Kind != event.KindFile:
		return MediaVideo
	case among(base, inlineAudio) && a.Kind != event.KindFile:
		return MediaAudio
	}
	return MediaDocument
}

// MediaMessage builds the message of a file uploaded as kind. caption is
// the message text (not used by audio and stickers, which have none).
func MediaMessage(kind MediaKind, up whatsmeow.UploadResponse, a event.Attachment, caption string, ci *waE2E.ContextInfo) *waE2E.Message {
	mimeType := a.MIMEType
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	switch kind {
	case MediaImage:
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mimeType), Caption: optional(caption), ContextInfo: ci,
		}}
	case MediaVideo:
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mimeType), Caption: optional(caption), ContextInfo: ci,
		}}
	case MediaAudio, MediaVoice:
		if kind == MediaVoice {
			// WhatsApp plays voice messages only as Ogg Opus and says so.
			mimeType = "audio/ogg; codecs=opus"
		}
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mimeType), PTT: proto.Bool(kind == MediaVoice), ContextInfo: ci,
		}}
	case MediaSticker:
		return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mimeType), ContextInfo: ci,
		}}
	}
	name := a.Name
	if name == "" {
		name = "file" + Extension(mimeType)
	}
	return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
		URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
		FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
		Mimetype: proto.String(mimeType), FileName: proto.String(name), Title: proto.String(name),
		Caption: optional(caption), ContextInfo: ci,
	}}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return proto.String(s)
}

// TextMessage builds a text message; with a ContextInfo (a reply or
// mentions) it is an ExtendedTextMessage, as WhatsApp's apps send it.
func TextMessage(body string, ci *waE2E.ContextInfo) *waE2E.Message {
	if ci == nil {
		return &waE2E.Message{Conversation: proto.String(body)}
	}
	return &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(body), ContextInfo: ci}}
}

// ReplyContext builds the ContextInfo of a reply to message id written by
// author (quote: its text, if known) and of mentions. It returns nil when
// there is neither.
func ReplyContext(id types.MessageID, author types.JID, quote string, mentions []types.JID) *waE2E.ContextInfo {
	if id == "" && len(mentions) == 0 {
		return nil
	}
	ci := &waE2E.ContextInfo{}
	if id != "" {
		ci.StanzaID = proto.String(id)
		if !author.IsEmpty() {
			ci.Participant = proto.String(author.ToNonAD().String())
		}
		// WhatsApp's apps show the quoted message from this copy.
		ci.QuotedMessage = &waE2E.Message{Conversation: proto.String(quote)}
	}
	for _, m := range mentions {
		ci.MentionedJID = append(ci.MentionedJID, m.ToNonAD().String())
	}
	return ci
}

// EditContent is the new content of an edited text message.
func EditContent(body string) *waE2E.Message {
	return &waE2E.Message{Conversation: proto.String(body)}
}
