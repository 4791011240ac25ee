package xmppcomponent

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

var _ gateway.Frontend = (*Component)(nil)

// Deliver turns a platform event into stanzas for its owner. It
// implements gateway.Frontend: it returns once the stanzas are queued, and
// calls d.Done, if set, once the server has confirmed every one of them.
func (c *Component) Deliver(ctx context.Context, d gateway.Delivery) error {
	if d.Platform != c.cfg.Platform {
		return fmt.Errorf("component %s fronts %s, not %s: %w", c.domain, c.cfg.Platform, d.Platform, gateway.ErrNotSupported)
	}
	out := deliverySender{c: c}
	if d.Done != nil {
		out.t = &confirmTracker{done: d.Done}
	}
	if err := c.deliver(ctx, out, d); err != nil {
		return err
	}
	out.seal()
	return nil
}

// deliver writes the stanzas of one delivery through out.
func (c *Component) deliver(ctx context.Context, out deliverySender, d gateway.Delivery) error {
	owner, ev := d.Owner, d.Event
	m := ev.EventMeta()
	if m.Group {
		return c.deliverGroup(ctx, out, owner, ev) // muc_deliver.go
	}
	from := c.addr.ChatFullJID(m.Chat)
	switch e := ev.(type) {
	case *event.Message:
		stanzas := c.messageStanzas(ctx, owner, d.Caps, e)
		c.parts.note(owner, e.Chat, e.ID, len(stanzas))
		for _, msg := range stanzas {
			if err := c.deliverStanza(ctx, out, owner, e.FromMe, msg); err != nil {
				return err
			}
		}
		return nil
	case *event.Edit:
		body, files := c.editContent(ctx, owner, e) // edit_files.go
		msg := c.chatMessage(from, owner, body)
		msg.Extensions = append(append(msg.Extensions, &xep.Replace{ID: string(e.Target)}), files...)
		return c.deliverStanza(ctx, out, owner, e.FromMe, msg)
	case *event.Retract:
		// Every stanza the message was shown as goes; clients without
		// retractions see one notice.
		for i, target := range c.parts.of(owner, m.Chat, e.Target) {
			msg := c.chatMessage(from, owner, "")
			msg.Extensions = append(msg.Extensions, &xep.Retract{ID: string(target)})
			if i == 0 {
				msg.Body = retractedNotice
				msg.Extensions = append(msg.Extensions, &xep.Fallback{For: xep.NSRetract})
			}
			msg.Extensions = append(msg.Extensions, &xep.StoreHint{})
			if err := c.deliverStanza(ctx, out, owner, e.FromMe, msg); err != nil {
				return err
			}
		}
		return nil
	case *event.Reaction:
		msg := c.chatMessage(from, owner, "")
		msg.Extensions = append(msg.Extensions, &xep.Reactions{ID: string(e.Target), Reactions: e.Emojis}, &xep.StoreHint{})
		return c.deliverStanza(ctx, out, owner, e.FromMe, msg)
	case *event.Receipt:
		for _, target := range e.Targets {
			msg := ephemeralMessage(from, owner)
			if e.Kind == event.Displayed {
				msg.Extensions = append(msg.Extensions, &stanza.MarkDisplayed{ID: string(target)})
			} else {
				msg.Extensions = append(msg.Extensions, &stanza.ReceiptReceived{ID: string(target)})
			}
			msg.Extensions = append(msg.Extensions, &xep.NoStore{})
			if err := out.send(ctx, msg); err != nil {
				return err
			}
		}
		return nil
	case *event.ChatState:
		// No XEP-0334 <no-store/> hint, as clients send theirs: servers
		// keep no message that holds only a chat state, in archives
		// (XEP-0313 servers archive bodies; Prosody's mod_mam also
		// receipts and markers, which keep the hint, but no chat state)
		// or offline (XEP-0160; Prosody 0.12's mod_offline reads no
		// hints at all).
		msg := ephemeralMessage(from, owner)
		msg.Extensions = append(msg.Extensions, chatStateExt(e.State))
		return out.send(ctx, msg)
	case *event.Presence:
		c.mu.Lock()
		c.updateContact(owner, m.Sender, func(s *contactState) { s.pres, s.shown = presenceOf(e), true })
		c.mu.Unlock()
		c.pushContactPresence(ctx, owner, m.Sender)
		return nil
	case *event.ContactInfo:
		c.askSubscription(ctx, owner, m.Sender, e.Name, d.Contact)
		c.avatarChanged(ctx, owner, m.Sender, e.AvatarHash)
		return nil
	case *event.AccountState:
		c.accountState(ctx, owner, e)
		c.inviteToGroups(ctx, owner, e) // muc_message.go
		return nil
	}
	return fmt.Errorf("%T events are not handled by the XMPP side yet: %w", ev, gateway.ErrNotSupported)
}

// retractedNotice is the body of a retraction, for clients without
// XEP-0424.
const retractedNotice = "/me retracted a message; your client does not support retractions."

// chatExtensions is the room chatMessage makes for extensions: what the
// common stanzas carry (a receipt and its no-store hint, a chat state; a
// message's origin-id, receipt request, markable and active state), so
// that adding them allocates once.
const chatExtensions = 4

func (c *Component) chatMessage(from string, owner ids.Owner, body string) *stanza.Message {
	return &stanza.Message{
		XMLName:    xml.Name{Local: "message"},
		Attrs:      stanza.Attrs{Type: stanza.MessageTypeChat, From: from, To: string(owner), Id: newID()},
		Body:       body,
		Extensions: make([]stanza.MsgExtension, 0, chatExtensions),
	}
}

// ephemeralMessage is a chat message that carries only a delivery
// receipt, a chat marker or a chat state, and so no id: receipts and
// markers name the message they answer in their own id attribute, nothing
// answers them or a chat state, and an error the server returns for one is
// only logged (handleMessage). RFC 6120 §8.1.3 recommends a message id
// for tracking the replies and errors a stanza may cause, and leaves it
// optional; without it the server parses, routes and writes to each of the
// user's clients ~24 bytes less per stanza (three of the Echo Bot's four
// stanzas per message).
func ephemeralMessage(from string, owner ids.Owner) *stanza.Message {
	return &stanza.Message{
		XMLName:    xml.Name{Local: "message"},
		Attrs:      stanza.Attrs{Type: stanza.MessageTypeChat, From: from, To: string(owner)},
		Extensions: make([]stanza.MsgExtension, 0, 2),
	}
}

// messageStanzas builds the stanzas of a platform message: the text (with
// an XEP-0461 reply reference and its quote fallback), and one stanza per
// file with the file's URL as body and XEP-0066 OOB data, so that every
// client shows it. The first stanza's id is the platform's message id and
// the others' are its part ids (ids.PartID), so receipts, corrections,
// replies and reactions from the user name the message whichever stanza
// they answer; the hub maps a part id back to the message.
func (c *Component) messageStanzas(ctx context.Context, owner ids.Owner, caps gateway.Capabilities, e *event.Message) []*stanza.Message {
	from := c.addr.ChatFullJID(e.Chat)
	var out []*stanza.Message
	add := func(msg *stanza.Message) {
		if e.History && !e.Group && !e.Time.IsZero() {
			// History from before the link, delivered late (XEP-0203).
			msg.Extensions = append(msg.Extensions, &xep.Delay{From: c.domain, Stamp: e.Time.UTC().Format(time.RFC3339)})
		}
		if e.ID != "" {
			id := string(ids.PartID(e.ID, len(out)))
			msg.Id = id
			msg.Extensions = append(msg.Extensions, &xep.OriginID{ID: id})
		}
		if !e.FromMe && !e.History { // history asks for no receipts and shows no typing
			if caps.Receipts {
				msg.Extensions = append(msg.Extensions, &stanza.ReceiptRequest{})
			}
			if caps.ReadMarkers {
				msg.Extensions = append(msg.Extensions, &stanza.Markable{})
			}
			if caps.ChatStates {
				// XEP-0085 §5.2: a content message ends "composing"
				// or "paused"; clients that keep the last state they
				// saw (poezio) would show the contact typing for ever.
				msg.Extensions = append(msg.Extensions, &stanza.StateActive{})
			}
		}
		out = append(out, msg)
	}
	mark := func(body string) string {
		if e.FromMe {
			return fromPhoneMarker + body
		}
		return body
	}
	if e.Body != "" || len(e.Attachments) == 0 {
		msg := c.chatMessage(from, owner, "")
		body := mark(e.Body)
		if e.ReplyTo != "" {
			body = c.addReply(msg, owner, e, body)
		}
		msg.Body = body
		for _, ref := range mentionRefs(body, e.Mentions, func(u ids.UserID) string {
			if string(u) == string(e.Account) {
				return string(owner)
			}
			return c.addr.UserJID(u)
		}) {
			msg.Extensions = append(msg.Extensions, ref)
		}
		add(msg)
	}
	for _, a := range e.Attachments {
		url, err := c.attachmentURL(ctx, owner, e.Sender, a)
		if err != nil {
			c.log.Error("cannot pass a file on", "owner", owner, "chat", e.Chat, "name", a.Name, "err", err)
			add(c.chatMessage(from, owner, mark(fmt.Sprintf("[a file (%s, %s) could not be passed on: %s]", fileLabel(a), a.MIMEType, userText(err)))))
			continue
		}
		msg := c.chatMessage(from, owner, url)
		msg.Extensions = append(msg.Extensions, &stanza.OOB{URL: url, Desc: a.Name})
		add(msg)
	}
	return out
}

// addReply adds the XEP-0461 reference and a quote fallback (XEP-0428) for
// clients without reply support; it returns the body with the quote.
func (c *Component) addReply(msg *stanza.Message, owner ids.Owner, e *event.Message, body string) string {
	// The author: the owner, another member of a group, or else the chat's
	// other party.
	to := c.addr.ChatJID(e.Chat)
	switch {
	case e.ReplyToSender == "":
	case string(e.ReplyToSender) == string(e.Account):
		to = string(owner)
	default:
		to = c.addr.UserJID(e.ReplyToSender)
	}
	msg.Extensions = append(msg.Extensions, &xep.Reply{To: to, ID: string(e.ReplyTo)})
	if e.ReplyQuote == "" {
		return body
	}
	var q strings.Builder
	for _, line := range strings.Split(e.ReplyQuote, "\n") {
		q.WriteString("> " + line + "\n")
	}
	start, end := 0, len([]rune(q.String()))
	msg.Extensions = append(msg.Extensions, &xep.Fallback{For: xep.NSReply, Body: []xep.FallbackRange{{Start: &start, End: &end}}})
	return q.String() + body
}

func fileLabel(a event.Attachment) string {
	if a.Name != "" {
		return a.Name
	}
	return string(a.Kind)
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
	if e.State == event.StateUnlinked || e.State == event.StateLoggedOut {
		c.accountGone(ctx, owner, e) // unlink.go
		return
	}
	c.pushGatewayPresence(ctx, owner, e.State, e.Detail)
	if e.State == event.StateConnected {
		c.ownerPresenceOnConnect(ctx, owner) // owner_presence.go
	}
	var text string
	switch e.State {
	case event.StateConnected:
		text = fmt.Sprintf("Connected to %s as %s.", c.info.Name, e.Account)
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
