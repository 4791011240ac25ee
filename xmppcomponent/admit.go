package xmppcomponent

import (
	"context"
	"strings"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// admit is the connection's Config.Admit: it runs on the read loop, before
// a stanza takes a place in a dispatch lane, and makes the hub's cheap
// checks of a new message (gateway's AdmitMessage: the sender is linked,
// body and file count within the limits, the sender within its message
// rate) so that a sender over its rate or sizes is answered at once and
// never queues work in a lane it may share with others. Everything else
// passes; the handler checks it as before.
func (c *Component) admit(p stanza.Packet) stanza.Packet {
	return c.admitWith(p, false)
}

// admitWith is admit; rated says the message's rate token was taken
// already (at a sharded front, AdmitAtFront): then the hub checks the
// session and the sizes only.
func (c *Component) admitWith(p stanza.Packet, rated bool) stanza.Packet {
	m, ok := p.(stanza.Message)
	if !ok {
		return nil
	}
	bodyBytes, files, ok := c.admissible(m)
	if !ok {
		return nil
	}
	from, _, err := c.parseAddrs(m.Attrs)
	if err != nil {
		return nil // the handler answers bad-request
	}
	if rated {
		err = c.gw.AdmitMessageRated(Owner(from), c.cfg.Platform, bodyBytes, files)
	} else {
		err = c.gw.AdmitMessage(Owner(from), c.cfg.Platform, bodyBytes, files)
	}
	if err == nil {
		return nil
	}
	c.logErr("message refused on arrival", Owner(from), err)
	return Refusal(m, err)
}

// HandleNow does with p what the connection does with a stanza it has
// read, the read-path checks (a refusal goes to the Sender) and then
// Handle, and returns once everything it started has finished, messages
// that waited in a chat queue for their files included. It is for
// harnesses that feed stanzas without a connection and read the answers
// at once; the connection itself never waits so.
func (c *Component) HandleNow(ctx context.Context, p stanza.Packet) {
	if refusal := c.admit(p); refusal != nil {
		c.send(ctx, refusal)
		return
	}
	c.Handle(ctx, p)
	c.chatq.waitIdle()
}

// admissible reports whether m is a new message from a client (a full
// JID) to a contact or a room, which admit checks and the handler then
// sends with SendOptions.Admitted; and with what body size (0 when a
// reply fallback will be stripped first, so the hub checks it then) and
// number of files. Messages the handler refuses before they reach the hub
// (ids too long, too many fallback ranges) are not, so that they cost no
// token of the sender's rate. The server's own copies (from a bare JID), chat
// commands, corrections, retractions, reactions, subjects and markers are
// not: the handler checks them.
func (c *Component) admissible(m stanza.Message) (bodyBytes, files int, ok bool) {
	if m.Type == stanza.MessageTypeError || !strings.Contains(m.From, "/") {
		return 0, 0, false
	}
	to, _, _ := strings.Cut(m.To, "/")
	at := strings.IndexByte(to, '@')
	if at <= 0 || !strings.EqualFold(to[at+1:], c.domain) {
		return 0, 0, false // the gateway itself, or not ours
	}
	if m.Subject != "" && m.Body == "" {
		return 0, 0, false
	}
	in := parseInbound(m)
	if in.retract != "" || in.reactions != nil || in.replace != "" || (strings.TrimSpace(m.Body) == "" && len(in.oob) == 0) {
		return 0, 0, false
	}
	// What the handler refuses before the hub sees it costs no token.
	if in.checkIDs(m.Id) != nil || in.fallbackRanges(xep.NSReply) > maxFallbackRanges {
		return 0, 0, false
	}
	if in.reply == nil || in.reply.ID == "" { // relayID strips no fallback
		bodyBytes = len(m.Body)
	}
	return bodyBytes, len(in.oob), true
}
