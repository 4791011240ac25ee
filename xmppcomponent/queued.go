package xmppcomponent

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// queuedReply is what the component needs to answer a message the hub
// queued (gateway.WithSendTag) and later gave up on.
type queuedReply struct {
	id, from, to string
}

// withQueuedReply tags ctx so that a queued send of m can be answered.
func withQueuedReply(ctx context.Context, m stanza.Message) context.Context {
	return gateway.WithSendTag(ctx, queuedReply{id: m.Id, from: m.From, to: m.To})
}

// SendFailed implements gateway.FailureNotifier: a message the hub queued
// for an unavailable platform was not sent by the deadline. The sender
// gets an error stanza for the message's id (from the address they wrote
// to) and a chat message from the gateway naming it.
func (c *Component) SendFailed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, msg *event.Message, xmppIDs []string, tag any, err error) {
	if platform != c.cfg.Platform {
		return
	}
	quote := firstWords(msg.Body)
	if quote == "" && len(msg.Attachments) > 0 {
		quote = "(file)"
	}
	se := mapErr(err)
	se.Text = fmt.Sprintf("Not sent to %s: %q. %s", c.info.Name, quote, se.Text)
	if r, ok := tag.(queuedReply); ok {
		c.send(ctx, &stanza.Message{
			XMLName:    xml.Name{Local: "message"},
			Attrs:      stanza.Attrs{Type: stanza.MessageTypeError, Id: r.id, From: r.to, To: r.from},
			Extensions: []stanza.MsgExtension{se},
		})
	}
	c.notify(ctx, owner, fmt.Sprintf("Your message to %s was not sent: %q (%s).", msg.Chat, quote, userText(err)))
}

// firstWords is the start of body, for naming a message to its author.
func firstWords(body string) string {
	const max = 8
	f := strings.Fields(body)
	if len(f) > max {
		return strings.Join(f[:max], " ") + "…"
	}
	return strings.Join(f, " ")
}
