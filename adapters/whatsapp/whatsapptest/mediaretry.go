package whatsapptest

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"go.mau.fi/whatsmeow/util/gcmutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"
)

// MediaRetryRequest is one call of SendMediaRetryReceipt.
type MediaRetryRequest struct {
	Info     types.MessageInfo
	MediaKey []byte
}

// SendMediaRetryReceipt implements whatsapp.Client: like whatsmeow it
// needs the connection and a media key, and it records the request.
func (c *Client) SendMediaRetryReceipt(_ context.Context, info *types.MessageInfo, mediaKey []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SendMediaRetryReceipt")
	if !c.connected {
		return whatsmeow.ErrNotConnected
	}
	if len(mediaKey) == 0 {
		return fmt.Errorf("failed to prepare encrypted retry receipt: no media key")
	}
	c.mediaRetries = append(c.mediaRetries, MediaRetryRequest{Info: *info, MediaKey: append([]byte(nil), mediaKey...)})
	return nil
}

// MediaRetries returns the SendMediaRetryReceipt calls so far.
func (c *Client) MediaRetries() []MediaRetryRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]MediaRetryRequest(nil), c.mediaRetries...)
}

// MediaRetryAnswer is the phone's answer to a media retry request, as
// whatsmeow hands it over (events.MediaRetry): the MediaRetryNotification
// encrypted with AES-GCM under the key derived from the file's media key
// (HKDF-SHA256, "WhatsApp Media Retry Notification"), the message id as
// additional data. whatsmeow.DecryptMediaRetryNotification reads it.
func MediaRetryAnswer(req MediaRetryRequest, result waMmsRetry.MediaRetryNotification_ResultType, directPath string) (*events.MediaRetry, error) {
	notif := &waMmsRetry.MediaRetryNotification{StanzaID: proto.String(req.Info.ID), Result: result.Enum()}
	if directPath != "" {
		notif.DirectPath = proto.String(directPath)
	}
	plain, err := proto.Marshal(notif)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, 12)
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	key := hkdfutil.SHA256(req.MediaKey, nil, []byte("WhatsApp Media Retry Notification"), 32)
	ct, err := gcmutil.Encrypt(key, iv, plain, []byte(req.Info.ID))
	if err != nil {
		return nil, err
	}
	evt := &events.MediaRetry{Ciphertext: ct, IV: iv, Timestamp: time.Now(), MessageID: req.Info.ID,
		ChatID: req.Info.Chat, FromMe: req.Info.IsFromMe}
	if req.Info.IsGroup {
		evt.SenderID = req.Info.Sender
	}
	return evt, nil
}

// MediaRetryError is the phone's plain error answer (code 2: the phone no
// longer has the file).
func MediaRetryError(req MediaRetryRequest, code int) *events.MediaRetry {
	return &events.MediaRetry{Error: &events.MediaRetryError{Code: code}, Timestamp: time.Now(), MessageID: req.Info.ID,
		ChatID: req.Info.Chat, FromMe: req.Info.IsFromMe}
}
