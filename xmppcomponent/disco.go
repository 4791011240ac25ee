package xmppcomponent

import (
	"context"
	"encoding/xml"
	"strconv"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// gatewayFeatures are what the gateway JID handles; each is served in this
// package.
var gatewayFeatures = []string{
	xep.NSDiscoInfo, xep.NSDiscoItems, xep.NSRegister, xep.NSGateway,
	xep.NSCommands, xep.NSPing, xep.NSVersion,
}

func discoInfoPayload(node string) *xep.DiscoInfo {
	return &xep.DiscoInfo{Node: node}
}

func (c *Component) discoInfo(ctx context.Context, iq *stanza.IQ, from, to jid.JID, q *xep.DiscoInfo) {
	res := discoInfoPayload(q.Node)
	switch {
	case c.isGateway(to) && q.Node == "":
		res.AddIdentity(c.cfg.Name+" ("+c.info.Name+")", "gateway", c.info.GatewayType)
		res.AddFeatures(gatewayFeatures...)
		c.addConferenceIdentity(res, Owner(from)) // muc_disco.go
	case c.isGateway(to) && q.Node == xep.NSCommands:
		res.AddIdentity("Commands", "automation", "command-list")
	case c.isGateway(to):
		cmd, ok := findCommand(q.Node)
		if !ok {
			cmd, ok = c.findAdminCommand(from, q.Node) // adhoc_admin.go
		}
		if !ok {
			cmd, ok = c.findGroupCommand(from, q.Node) // muc_adhoc.go
		}
		if !ok {
			c.replyIQError(ctx, iq, errItemNotFound("no such node"))
			return
		}
		res.AddIdentity(cmd.name, "automation", "command-node")
		res.AddFeatures(xep.NSCommands, xep.NSDataForms)
	default:
		if q.Node != "" {
			c.replyIQError(ctx, iq, errItemNotFound("no such node"))
			return
		}
		user, err := c.addr.UserOf(to)
		if err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
		owner := Owner(from)
		name := string(user)
		if ct, err := c.gw.Contact(ctx, owner, c.cfg.Platform, user); err == nil && ct.Name != "" {
			name = ct.Name
		}
		res.AddIdentity(name, "client", "phone")
		caps, linked := c.gw.Capabilities(owner, c.cfg.Platform, ids.DirectChat(user))
		res.AddFeatures(contactFeatures(caps, linked)...)
		if linked && caps.Reactions && (caps.MaxReactionsPerUser > 0 || len(caps.AllowedReactions) > 0) {
			res.Forms = append(res.Forms, reactionRestrictions(caps))
		}
	}
	c.replyIQ(ctx, iq, res)
}

// contactFeatures are the disco features of a contact JID: what that chat
// really supports, from the platform's declared capabilities.
func contactFeatures(caps gateway.Capabilities, linked bool) []string {
	f := []string{xep.NSDiscoInfo, xep.NSPing}
	if !linked {
		return f
	}
	f = append(f, xep.NSSID, xep.NSVCardTemp)
	for _, c := range []struct {
		on bool
		ns string
	}{
		{caps.Receipts, xep.NSReceipts},
		{caps.ReadMarkers, xep.NSMarkers},
		{caps.ChatStates, xep.NSChatStates},
		{caps.Edits, xep.NSCorrect},
		{caps.Retractions, xep.NSRetract},
		{caps.Reactions, xep.NSReactions},
		{caps.Replies, xep.NSReply},
		{caps.MaxFileSize > 0, xep.NSOOB},
	} {
		if c.on {
			f = append(f, c.ns)
		}
	}
	return f
}

// reactionRestrictions is the XEP-0444 restrictions form.
func reactionRestrictions(caps gateway.Capabilities) xep.Form {
	form := xep.Form{Type: "result", Fields: []xep.Field{{Var: "FORM_TYPE", Type: "hidden", Values: []string{xep.NSRestrict}}}}
	if caps.MaxReactionsPerUser > 0 {
		form.Fields = append(form.Fields, xep.Field{Var: "max_reactions_per_user", Values: []string{strconv.Itoa(caps.MaxReactionsPerUser)}})
	}
	if len(caps.AllowedReactions) > 0 {
		form.Fields = append(form.Fields, xep.Field{Var: "allowlist", Type: "list-multi", Values: caps.AllowedReactions})
	}
	return form
}

func (c *Component) discoItems(ctx context.Context, iq *stanza.IQ, from, to jid.JID, q *stanza.DiscoItems) {
	res := &stanza.DiscoItems{XMLName: xml.Name{Space: xep.NSDiscoItems, Local: "query"}, Node: q.Node}
	switch {
	case c.isGateway(to) && q.Node == xep.NSCommands:
		for _, cmd := range c.visibleCommands(from) { // adhoc_admin.go
			res.AddItem(c.domain, cmd.node, cmd.name)
		}
		c.groupCommandItems(from, res) // muc_adhoc.go
	case q.Node == "":
		if c.isGateway(to) {
			c.roomItems(ctx, from, res) // muc_disco.go
		}
	default:
		c.replyIQError(ctx, iq, errItemNotFound("no such node"))
		return
	}
	c.replyIQ(ctx, iq, res)
}
