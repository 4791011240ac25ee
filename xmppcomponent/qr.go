package xmppcomponent

import (
	"bytes"
	"context"
	"io"
	"time"

	qrcode "github.com/skip2/go-qrcode"
	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// qrTimeout bounds rendering and uploading one QR code image.
const qrTimeout = 30 * time.Second

// sendQR sends a login QR code to owner as an image (XEP-0066, with the URL
// as body so that every client shows it). Without a place for files it does
// nothing: the code's text was already sent.
func (c *Component) sendQR(owner ids.Owner, data string) {
	if c.cfg.Uploader == nil || data == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), qrTimeout)
	defer cancel()
	png, err := qrcode.Encode(data, qrcode.Medium, 512)
	if err != nil {
		c.log.Error("cannot render QR code", "owner", owner, "err", err)
		return
	}
	url, err := c.cfg.Uploader.Upload(ctx, owner, "", event.Attachment{
		Name: "link-" + string(c.info.ID) + ".png", MIMEType: "image/png", Size: int64(len(png)), Kind: event.KindImage,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(png)), nil },
	})
	if err != nil {
		c.log.Error("cannot upload QR code", "owner", owner, "err", err)
		return
	}
	msg := c.chatMessage(c.domain, owner, url)
	msg.Extensions = append(msg.Extensions, &stanza.OOB{URL: url, Desc: "Scan this code with " + c.info.Name + " on your phone"})
	c.send(ctx, msg)
}
