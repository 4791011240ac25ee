package xmppcomponent

import (
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

var _ gateway.Frontend = (*Component)(nil)

// Deliver turns a platform event into stanzas for owner. It implements
// gateway.Frontend; it returns once the stanzas are queued.
func (c *Component) Deliver(ctx context.Context, owner ids.Owner, platform ids.PlatformID, ev event.Event) error {
	if platform != c.cfg.Platform {
		return fmt.Errorf("component %s fronts %s, not %s: %w", c.domain, c.cfg.Platform, platform, gateway.ErrNotSupported)
	}
	m := ev.EventMeta()
	from := c.addr.ChatJID(m.Chat)
	switch e := ev.(type) {
	case *event.Message:
		return c.out.Send(ctx, c.messageStanza(owner, e))
	case *event.Receipt:
		for _, target := range e.Targets {
			msg := c.chatMessage(from, owner, "")
			if e.Kind == event.Displayed {
				msg.Extensions = append(msg.Extensions, &stanza.MarkDisplayed{ID: string(target)})
			} else {
				msg.Extensions = append(msg.Extensions, &stanza.ReceiptReceived{ID: string(target)})
			}
			msg.Extensions = append(msg.Extensions, &xep.NoStore{})
			if err := c.out.Send(ctx, msg); err != nil {
				return err
			}
		}
		return nil
	case *event.ChatState:
		msg := c.chatMessage(from, owner, "")
		msg.Extensions = append(msg.Extensions, chatStateExt(e.State), &xep.NoStore{})
		return c.out.Send(ctx, msg)
	case *event.Presence:
		c.mu.Lock()
		c.presence[contactKey{owner, m.Sender}] = e
		c.mu.Unlock()
		c.sendContactPresence(ctx, owner, m.Sender)
		return nil
	case *event.ContactInfo:
		c.askSubscription(ctx, owner, m.Sender, e.Name)
		return nil
	case *event.AccountState:
		c.accountState(ctx, owner, e)
		return nil
	}
	return fmt.Errorf("%T events are not handled by the XMPP side yet: %w", ev, gateway.ErrNotSupported)
}

func (c *Component) chatMessage(from string, owner ids.Owner, body string) *stanza.Message {
	return &stanza.Message{
		XMLName: xml.Name{Local: "message"},
		Attrs:   stanza.Attrs{Type: stanza.MessageTypeChat, From: from, To: string(owner), Id: newID()},
		Body:    body,
	}
}

// messageStanza builds the stanza of a platform message. Its id is the
// platform's message id, so receipts from the user name it directly.
func (c *Component) messageStanza(owner ids.Owner, e *event.Message) *stanza.Message {
	body := e.Body
	if e.FromMe {
		body = "[sent from your phone] " + body
	}
	for _, a := range e.Attachments {
		body += "\n" + a.URL
	}
	msg := c.chatMessage(c.addr.ChatJID(e.Chat), owner, body)
	if e.ID != "" {
		msg.Id = string(e.ID)
	}
	caps, _ := c.gw.Capabilities(owner, c.cfg.Platform, e.Chat)
	if caps.Receipts && !e.FromMe {
		msg.Extensions = append(msg.Extensions, &stanza.ReceiptRequest{})
	}
	if caps.ReadMarkers && !e.FromMe {
		msg.Extensions = append(msg.Extensions, &stanza.Markable{})
	}
	return msg
}

func chatStateExt(s event.ChatStateKind) stanza.MsgExtension {
	switch s {
	case event.Composing:
		return &stanza.StateComposing{}
	case event.Paused:
		return &stanza.StatePaused{}
	case event.Inactive:
		return &stanza.StateInactive{}
	case event.Gone:
		return &stanza.StateGone{}
	}
	return &stanza.StateActive{}
}

// accountState tells owner about their account's connection, as the
// gateway's presence and, for states that need attention, a chat message.
func (c *Component) accountState(ctx context.Context, owner ids.Owner, e *event.AccountState) {
	c.sendGatewayPresence(ctx, owner, true, e.State, e.Detail)
	var text string
	switch e.State {
	case event.StateConnected:
		text = fmt.Sprintf("Connected to %s as %s.", c.info.Name, e.Account)
	case event.StateLoggedOut:
		text = fmt.Sprintf("Your %s account %s was logged out. Send \"link\" to link it again.", c.info.Name, e.Account)
	case event.StateBadCredentials, event.StateBanned, event.StatePhoneOffline:
		text = fmt.Sprintf("%s account %s: %s.", c.info.Name, e.Account, e.State)
	default:
		return
	}
	if e.Detail != "" {
		text += " " + e.Detail
	}
	c.notify(ctx, owner, text)
}
