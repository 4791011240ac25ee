package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Expired media: WhatsApp's media servers keep a file for a few weeks;
// after that a download fails with 403, 404 or 410. The phone still has
// the file and uploads it again when asked (a "media retry receipt"); its
// answer (events.MediaRetry) names the new path, encrypted with the
// file's media key. The session asks once per message and tells the owner
// that the file follows (the XMPP side shows that in place of the file);
// when the phone answers, the file comes as a correction (XEP-0308) of
// that placeholder (event.Edit with the attachment), or, if the phone
// cannot, a correction saying so. The requests wait in memory (bounded):
// one that a restart interrupts is not answered.

// mediaRetryCap bounds the media retries that wait for the phone.
const mediaRetryCap = 1000

// pendingRetry is a file whose re-upload the phone was asked for.
type pendingRetry struct {
	info  types.MessageInfo
	media whatsmeow.DownloadableMessage
	meta  event.Meta
}

// mediaRetries are the retries waiting for the phone, by message id.
type mediaRetries struct {
	mu      sync.Mutex
	pending map[types.MessageID]*pendingRetry
	order   []types.MessageID
}

// expired reports whether a download failed because WhatsApp's servers no
// longer have the file.
func expired(err error) bool {
	return errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith403) ||
		errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404) ||
		errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410)
}

// mediaEnv is the conversion environment of a received message: its
// files' Open asks the phone for a file WhatsApp's servers have expired.
func (s *Session) mediaEnv(info types.MessageInfo) convert.Env {
	env := s.env()
	env.Open = func(media whatsmeow.DownloadableMessage) func(ctx context.Context) (io.ReadCloser, error) {
		open := s.opener(media)
		return func(ctx context.Context) (io.ReadCloser, error) {
			r, err := open(ctx)
			if err == nil || !expired(err) {
				return r, err
			}
			if rerr := s.askPhoneForMedia(ctx, info, media); rerr != nil {
				return nil, fmt.Errorf("%w (asking the phone to send it again failed: %v)", err, rerr)
			}
			return nil, gateway.Explain("The file has expired on WhatsApp's servers; your phone was asked to send it again, "+
				"and it follows here once the phone has (keep WhatsApp open on the phone).", err)
		}
	}
	return env
}

// askPhoneForMedia sends a media retry receipt for a message's file,
// once per message.
func (s *Session) askPhoneForMedia(ctx context.Context, info types.MessageInfo, media whatsmeow.DownloadableMessage) error {
	s.retries.mu.Lock()
	if _, ok := s.retries.pending[info.ID]; ok {
		s.retries.mu.Unlock()
		return nil
	}
	s.retries.mu.Unlock()
	if err := s.c.client.SendMediaRetryReceipt(ctx, &info, media.GetMediaKey()); err != nil {
		return sendErr("asking the phone for an expired file", err)
	}
	chat, sender, err := convert.Chat(ctx, s.env(), info.MessageSource)
	if err != nil {
		return err
	}
	s.retries.mu.Lock()
	defer s.retries.mu.Unlock()
	if s.retries.pending == nil {
		s.retries.pending = map[types.MessageID]*pendingRetry{}
	}
	if len(s.retries.order) >= mediaRetryCap {
		delete(s.retries.pending, s.retries.order[0])
		s.retries.order = s.retries.order[1:]
	}
	ref := waid.MessageRef{ID: info.ID, FromMe: info.IsFromMe}
	if info.IsGroup && !info.IsFromMe {
		ref.Participant = sender
	}
	s.retries.pending[info.ID] = &pendingRetry{info: info, media: media,
		meta: event.Meta{Account: s.acct, Chat: chat, Sender: sender, FromMe: info.IsFromMe, Time: info.Timestamp, ID: ref.MessageID()}}
	s.retries.order = append(s.retries.order, info.ID)
	s.log.Info("whatsapp: asked the phone for an expired file", "id", info.ID)
	return nil
}

// PendingMediaRetries is how many expired files the phone was asked to
// send again and has not answered for yet.
func (s *Session) PendingMediaRetries() int {
	s.retries.mu.Lock()
	defer s.retries.mu.Unlock()
	return len(s.retries.pending)
}

// onMediaRetry handles the phone's answer to a media retry receipt.
func (s *Session) onMediaRetry(ctx context.Context, e *events.MediaRetry) bool {
	s.retries.mu.Lock()
	p, ok := s.retries.pending[e.MessageID]
	if ok {
		delete(s.retries.pending, e.MessageID)
		for i, id := range s.retries.order {
			if id == e.MessageID {
				s.retries.order = append(s.retries.order[:i], s.retries.order[i+1:]...)
				break
			}
		}
	}
	s.retries.mu.Unlock()
	if !ok {
		s.log.Debug("whatsapp: media retry answer for no request of this session", "id", e.MessageID)
		return true
	}
	// The XMPP side showed the file as the message's part 1 when it had
	// a caption (part 0 is the text), else as part 0.
	orig, _ := convert.Message(ctx, s.env(), &events.Message{Info: p.info, Message: wrapMedia(p.media)})
	target := p.meta.ID
	if m, ok := orig.(*event.Message); ok && m.Body != "" {
		target = ids.PartID(target, 1)
	}
	edit := func(e *event.Edit) bool {
		e.Meta = p.meta
		e.ID, e.Time, e.Target = "", s.a.now(), target
		return s.emit(ctx, e)
	}
	notice := func(text string) bool { return edit(&event.Edit{Body: "[" + text + "]"}) }
	notif, err := whatsmeow.DecryptMediaRetryNotification(e, p.media.GetMediaKey())
	switch {
	case errors.Is(err, whatsmeow.ErrMediaNotAvailableOnPhone):
		return notice("The expired file is no longer on the phone either; it cannot be delivered.")
	case err != nil:
		s.log.Warn("whatsapp: cannot read the phone's media retry answer", "id", e.MessageID, "err", err)
		return notice("The phone's answer about the expired file could not be read; open it on the phone.")
	case notif.GetResult() != waMmsRetry.MediaRetryNotification_SUCCESS || notif.GetDirectPath() == "":
		return notice(fmt.Sprintf("The phone could not send the expired file again (%s); open it on the phone.", notif.GetResult()))
	}
	fresh, ok := proto.Clone(p.media.(proto.Message)).(whatsmeow.DownloadableMessage)
	if !ok {
		return notice("The expired file cannot be fetched again.")
	}
	setDirectPath(fresh, notif.GetDirectPath())
	ev, err := convert.Message(ctx, s.env(), &events.Message{Info: p.info, Message: wrapMedia(fresh)})
	if err != nil {
		s.logSkip(e.MessageID, err)
		return true
	}
	msg, ok := ev.(*event.Message)
	if !ok || len(msg.Attachments) == 0 {
		return true
	}
	return edit(&event.Edit{Attachments: msg.Attachments})
}

// setDirectPath points a media message at the path the phone uploaded
// it to again; the URL of the expired upload goes.
func setDirectPath(media whatsmeow.DownloadableMessage, path string) {
	switch m := media.(type) {
	case *waE2E.ImageMessage:
		m.DirectPath, m.URL = proto.String(path), nil
	case *waE2E.VideoMessage:
		m.DirectPath, m.URL = proto.String(path), nil
	case *waE2E.AudioMessage:
		m.DirectPath, m.URL = proto.String(path), nil
	case *waE2E.DocumentMessage:
		m.DirectPath, m.URL = proto.String(path), nil
	case *waE2E.StickerMessage:
		m.DirectPath, m.URL = proto.String(path), nil
	}
}

// wrapMedia is the message that carries a media message.
func wrapMedia(media whatsmeow.DownloadableMessage) *waE2E.Message {
	switch m := media.(type) {
	case *waE2E.ImageMessage:
		return &waE2E.Message{ImageMessage: m}
	case *waE2E.VideoMessage:
		return &waE2E.Message{VideoMessage: m}
	case *waE2E.AudioMessage:
		return &waE2E.Message{AudioMessage: m}
	case *waE2E.DocumentMessage:
		return &waE2E.Message{DocumentMessage: m}
	case *waE2E.StickerMessage:
		return &waE2E.Message{StickerMessage: m}
	}
	return &waE2E.Message{}
}
