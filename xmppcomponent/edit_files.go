package xmppcomponent

import (
	"context"
	"fmt"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// editContent is the body and payloads of a correction (XEP-0308): its
// text, or, when the platform sends a file the target could not show
// (event.Edit.Attachments), the file's URL with XEP-0066 data, as a new
// file message would carry it.
func (c *Component) editContent(ctx context.Context, owner ids.Owner, e *event.Edit) (string, []stanza.MsgExtension) {
	if len(e.Attachments) == 0 {
		return e.Body, nil
	}
	a := e.Attachments[0] // the part replaced shows one file
	url, err := c.attachmentURL(ctx, owner, e.Sender, a)
	if err != nil {
		c.log.Error("cannot pass a file on", "owner", owner, "chat", e.Chat, "name", a.Name, "err", err)
		return fmt.Sprintf("[a file (%s, %s) could not be passed on: %s]", fileLabel(a), a.MIMEType, userText(err)), nil
	}
	return url, []stanza.MsgExtension{&stanza.OOB{URL: url, Desc: a.Name}}
}
