package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// onMessage handles a message from an XMPP user: to the gateway JID it is a
// chat command; to a contact JID it is text, a receipt, a marker or a chat
// state for the platform.
func (c *Component) onMessage(ctx context.Context, m stanza.Message) {
	c.handleMessage(ctx, m, false, nil)
}

// handleMessage is onMessage for a message the intake recorded (intake.go):
// done, if set, is called once the message is handled — sent, queued for
// the platform or answered with an error — which may be after
// handleMessage returned when the message waits in its chat's queue, and
// is not called if ctx ends first. replayed marks a message read by a
// previous process and handled again.
func (c *Component) handleMessage(ctx context.Context, m stanza.Message, replayed bool, done func()) {
	defer func() {
		if done != nil && ctx.Err() == nil {
			done()
		}
	}()
	if c.onPrivilege(ctx, m) { // XEP-0356 advertisements, bounces and echoes
		return
	}
	if m.Type == stanza.MessageTypeError {
		c.log.Debug("message bounced", "from", m.From, "to", m.To, "id", m.Id)
		return
	}
	from, to, err := c.parseAddrs(m.Attrs)
	if err != nil {
		c.replyMessageError(ctx, m, errBadRequest(err.Error()))
		return
	}
	owner := Owner(from)
	if err := parseInbound(m).checkIDs(m.Id); err != nil {
		c.replyMessageError(ctx, m, mapErr(err))
		return
	}
	if c.isRoom(to) {
		c.onRoomMessage(ctx, m, from, to, replayed, c.takeDone(&done)) // muc_message.go
		return
	}
	if c.isGateway(to) {
		if strings.TrimSpace(m.Body) != "" {
			c.onChatCommand(ctx, owner, m.Body)
		}
		return
	}
	user, err := c.addr.UserOf(to)
	if err != nil {
		c.replyMessageError(ctx, m, mapErr(err))
		return
	}
	if c.onDirectInvite(ctx, owner, user, m) { // muc_message.go
		return
	}
	chat := ids.DirectChat(user)
	// A message with files waits for their download off the lanes, and
	// the chat's next messages behind it (chatqueue.go).
	slow := len(parseInbound(m).oob) > 0
	if err := c.runInChat(ctx, owner, chat, slow, &done, func(ctx context.Context) { c.onChatMessage(ctx, owner, chat, m, replayed) }); err != nil {
		c.logErr("message not queued", owner, err)
		c.replyMessageError(ctx, m, mapErr(err))
	}
}

// runInChat is chatq.run, with *done (see handleMessage) called once fn
// has run, unless ctx ended: if fn is queued, *done goes with it (and is
// set to nil here).
func (c *Component) runInChat(ctx context.Context, owner ids.Owner, chat ids.ChatID, slow bool, done *func(), fn func(context.Context)) error {
	d := c.takeDone(done)
	err := c.chatq.run(ctx, owner, chat, slow, func(ctx context.Context) {
		fn(ctx)
		if d != nil && ctx.Err() == nil {
			d()
		}
	})
	if err != nil && d != nil {
		*done = d // not queued: answered by the caller, done there
	}
	return err
}

// takeDone returns *done and leaves nil in its place: the callee calls it.
func (c *Component) takeDone(done *func()) func() {
	d := *done
	*done = nil
	return d
}

// onChatMessage hands a message to a contact to the hub, in its chat's
// order.
func (c *Component) onChatMessage(ctx context.Context, owner ids.Owner, chat ids.ChatID, m stanza.Message, replayed bool) {
	c.onMarkers(ctx, owner, chat, m)
	if _, err := c.relayID(ctx, owner, chat, m, replayed); err != nil {
		if errors.Is(err, gateway.ErrQueued) {
			// Accepted: the hub retries, and calls SendFailed if it
			// gives up (queued.go).
			c.log.Debug("message queued for the platform", "owner", owner, "id", m.Id)
			return
		}
		c.logErr("send to platform", owner, err)
		c.replyMessageError(ctx, m, mapErr(err))
	}
}

// relayID hands a user's message to the hub: a retraction, a reaction set,
// a correction, or a new message (with a reply reference and files). It
// returns the platform's id of a new message (empty for the other kinds,
// and for markers and chat states only). replayed: see
// gateway.SendOptions.Replayed.
func (c *Component) relayID(ctx context.Context, owner ids.Owner, chat ids.ChatID, m stanza.Message, replayed bool) (ids.MessageID, error) {
	in := parseInbound(m)
	p := c.cfg.Platform
	switch {
	case in.retract != "":
		return "", c.gw.RetractMessage(ctx, owner, p, chat, in.retract)
	case in.reactions != nil:
		return "", c.gw.React(ctx, owner, p, chat, in.reactions.ID, in.reactions.Reactions)
	case in.replace != "":
		return "", c.gw.EditMessage(ctx, owner, p, chat, in.replace, m.Body, m.Id)
	}
	body := m.Body
	msg := &event.Message{Meta: event.Meta{Chat: chat}}
	if in.reply != nil && in.reply.ID != "" {
		msg.ReplyTo = ids.MessageID(in.reply.ID)
		// The hub checks the message only after the stripping: check
		// here first that the sender may send at all and that the ranges
		// are few, so that nobody makes the gateway work for nothing.
		if _, ok := c.gw.Capabilities(owner, p, chat); !ok {
			return "", gateway.ErrNotLinked
		}
		if n := in.fallbackRanges(xep.NSReply); n > maxFallbackRanges {
			return "", fmt.Errorf("%d reply fallback ranges, at most %d are allowed: %w", n, maxFallbackRanges, gateway.ErrBadRequest)
		}
		body = in.bodyWithout(body, xep.NSReply)
	}
	for _, u := range in.oob {
		msg.Attachments = append(msg.Attachments, event.Attachment{URL: u, Kind: voiceHint(u)}) // voice.go
		// Clients repeat the URL as the body for those without OOB.
		if strings.TrimSpace(body) == u {
			body = ""
		}
	}
	msg.Body, msg.Mentions = c.inboundMentions(owner, chat, m.Body, body, in.mentions) // mention.go
	if msg.Body == "" && len(msg.Attachments) == 0 {
		return "", nil // markers and chat states only
	}
	// admit.go took the rate token of what it admitted (in this process:
	// not a replay).
	_, _, admitted := c.admissible(m)
	return c.gw.SendMessage(ctx, owner, p, msg, gateway.SendOptions{XMPPIDs: []string{m.Id, in.originID}, Tag: queuedTag(m), Admitted: admitted && c.admits && !replayed,
		Replayed: replayed})
}

// onMarkers forwards receipts, displayed markers and chat states. They need
// no error reply: a platform that cannot take them simply does not get them.
func (c *Component) onMarkers(ctx context.Context, owner ids.Owner, chat ids.ChatID, m stanza.Message) {
	var delivered, displayed []string
	var state event.ChatStateKind
	for _, ext := range m.Extensions {
		switch e := ext.(type) {
		case *stanza.ReceiptReceived:
			delivered = append(delivered, e.ID)
		case *stanza.MarkReceived:
			delivered = append(delivered, e.ID)
		case *stanza.MarkDisplayed:
			displayed = append(displayed, e.ID)
		default:
			if s := chatStateOf(ext); s != "" {
				state = s
			}
		}
	}
	if len(delivered) > 0 {
		if err := c.gw.SendReceipt(ctx, owner, c.cfg.Platform, chat, event.Delivered, delivered); err != nil {
			c.logErr("receipt", owner, err)
		}
	}
	if len(displayed) > 0 {
		if err := c.gw.SendReceipt(ctx, owner, c.cfg.Platform, chat, event.Displayed, displayed); err != nil {
			c.logErr("displayed marker", owner, err)
		}
	}
	// A message with a body carries "active" implicitly; only forward
	// standalone or non-active states.
	if state != "" && (m.Body == "" || state != event.Active) {
		if err := c.gw.SendChatState(ctx, owner, c.cfg.Platform, chat, state); err != nil {
			c.logErr("chat state", owner, err)
		}
	}
}

// replyMessageError bounces a message back to its sender.
func (c *Component) replyMessageError(ctx context.Context, m stanza.Message, se xep.StanzaError) {
	c.send(ctx, errorMessage(m, se))
}

// errorMessage is the error that answers m: from its addressee to its
// sender, with its id.
func errorMessage(m stanza.Message, se xep.StanzaError) *stanza.Message {
	return &stanza.Message{
		XMLName:    xml.Name{Local: "message"},
		Attrs:      stanza.Attrs{Type: stanza.MessageTypeError, Id: m.Id, From: m.To, To: m.From},
		Extensions: []stanza.MsgExtension{se},
	}
}

// mapErr is stanzaError without the internal flag.
func mapErr(err error) xep.StanzaError {
	se, _ := stanzaError(err)
	return se
}

// chatStateOf is the XEP-0085 chat state ext carries, or "" if it is
// not one.
func chatStateOf(ext stanza.MsgExtension) event.ChatStateKind {
	switch ext.(type) {
	case *stanza.StateActive:
		return event.Active
	case *stanza.StateComposing:
		return event.Composing
	case *stanza.StatePaused:
		return event.Paused
	case *stanza.StateInactive:
		return event.Inactive
	case *stanza.StateGone:
		return event.Gone
	}
	return ""
}
