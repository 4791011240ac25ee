package telegram

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// Telegram's limits for files and captions (accounts without Premium).
const (
	maxFileSize      = 2000 << 20 // 2000 MiB
	maxCaptionLength = 1024       // UTF-16 code units
)

// sendAttachments uploads each attachment and sends it as a photo or a
// document; the body is the first one's caption when it fits, else it
// follows as a text message. It returns the id of the first message.
func (s *Session) sendAttachments(ctx context.Context, api *tg.Client, peer tg.InputPeerClass, msg *event.Message, replyTo tg.InputReplyToClass) (int, error) {
	caption := msg.Body
	if len(utf16.Encode([]rune(caption))) > maxCaptionLength {
		caption = ""
	}
	// In a forum topic every message goes to the topic; only the first
	// answers what the message replies to.
	_, topic, _ := convert.ParseChannel(msg.Chat)
	first := 0
	for i, a := range msg.Attachments {
		if a.Open == nil {
			return first, fmt.Errorf("telegram: attachment %q has no content: %w", a.Name, gateway.ErrBadRequest)
		}
		media, err := s.upload(ctx, api, a)
		if err != nil {
			return first, err
		}
		req := &tg.MessagesSendMediaRequest{Peer: peer, Media: media, RandomID: randomID()}
		req.ReplyTo = inTopic(nil, topic)
		if i == 0 {
			req.Message, req.ReplyTo = caption, replyTo
		}
		res, err := api.MessagesSendMedia(ctx, req)
		if err != nil {
			return first, s.sendError("send a file", err)
		}
		id := s.noteResult(ctx, res, req.RandomID)
		if id == 0 {
			return first, fmt.Errorf("telegram: Telegram's answer (%T) names no message id", res)
		}
		s.recordSent(ctx, msg.Chat, id)
		if first == 0 {
			first = id
		}
	}
	if caption == "" && msg.Body != "" {
		if _, err := s.sendText(ctx, api, peer, msg.Body, inTopic(nil, topic), msg.Chat); err != nil {
			return first, err
		}
	}
	return first, nil
}

// upload sends an attachment's content to Telegram and describes it.
func (s *Session) upload(ctx context.Context, api *tg.Client, a event.Attachment) (tg.InputMediaClass, error) {
	rc, err := a.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("telegram: read attachment %q: %w", a.Name, err)
	}
	defer rc.Close()
	name := a.Name
	if name == "" {
		name = "file"
	}
	var u *uploader.Upload
	if a.Size > 0 {
		u = uploader.NewUpload(name, rc, a.Size)
	} else {
		u = uploader.NewUpload(name, rc, -1)
	}
	f, err := uploader.NewUploader(api).Upload(ctx, u)
	if err != nil {
		return nil, s.sendError("upload "+name, err)
	}
	if a.Kind == event.KindImage && (a.MIMEType == "image/jpeg" || a.MIMEType == "image/png") {
		return &tg.InputMediaUploadedPhoto{File: f}, nil
	}
	attrs := []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: name}}
	switch {
	case a.Kind == event.KindVoice:
		attrs = append(attrs, &tg.DocumentAttributeAudio{Voice: true})
	case a.Kind == event.KindAudio:
		attrs = append(attrs, &tg.DocumentAttributeAudio{})
	case a.Kind == event.KindVideo || strings.HasPrefix(a.MIMEType, "video/"):
		attrs = append(attrs, &tg.DocumentAttributeVideo{SupportsStreaming: true})
	}
	mime := a.MIMEType
	if mime == "" {
		mime = "application/octet-stream"
	}
	return &tg.InputMediaUploadedDocument{File: f, MimeType: mime, Attributes: attrs}, nil
}
