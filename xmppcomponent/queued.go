package xmppcomponent

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// queuedReply is what the component needs to answer a message the hub
// queued (gateway.SendOptions.Tag) and later gave up on, perhaps after a
// restart: the hub stores it as a string.
type queuedReply struct {
	ID   string `json:"id,omitempty"`
	From string `json:"from"`
	To   string `json:"to"`
}

// queuedTag is what the hub keeps with a queued send of m
// (gateway.SendOptions.Tag) so that it can be answered.
func queuedTag(m stanza.Message) string {
	tag, err := json.Marshal(queuedReply{ID: m.Id, From: m.From, To: m.To})
	if err != nil {
		return "" // strings always marshal; without a tag only the notice is sent
	}
	return string(tag)
}

// SendFailed implements gateway.FailureNotifier: a message the hub queued
// for an unavailable platform was not sent by the deadline. The sender
// gets an error stanza for the message's id (from the address they wrote
// to) and a chat message from the gateway naming it.
func (c *Component) SendFailed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, msg *event.Message, xmppIDs []string, tag string, err error) {
	if platform != c.cfg.Platform {
		return
	}
	quote := firstWords(msg.Body)
	if quote == "" && len(msg.Attachments) > 0 {
		quote = "(file)"
	}
	se := mapErr(err)
	se.Text = fmt.Sprintf("Not sent to %s: %q. %s", c.info.Name, quote, se.Text)
	var r queuedReply
	if json.Unmarshal([]byte(tag), &r) == nil && r.From != "" && r.To != "" {
		c.send(ctx, &stanza.Message{
			XMLName:    xml.Name{Local: "message"},
			Attrs:      stanza.Attrs{Type: stanza.MessageTypeError, Id: r.ID, From: r.To, To: r.From},
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
