package xmppcomponent

import (
	"context"
	"encoding/xml"
	"strconv"
	"strings"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
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

// CapsNode is the XEP-0115 node in the caps of the gateway's and its
// contacts' presence; disco#info answers on CapsNode#ver.
const CapsNode = "https://github.com/drawbridge-im/drawbridge"

func (c *Component) discoInfo(ctx context.Context, iq *stanza.IQ, from, to jid.JID, q *xep.DiscoInfo) {
	owner := Owner(from)
	var res *xep.DiscoInfo
	switch {
	case c.isGateway(to) && (q.Node == "" || isCapsNode(q.Node)):
		res = c.gatewayInfo(owner)
	case c.isGateway(to) && q.Node == xep.NSCommands:
		res = discoInfoPayload(q.Node)
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
		res = discoInfoPayload(q.Node)
		res.AddIdentity(cmd.name, "automation", "command-node")
		res.AddFeatures(xep.NSCommands, xep.NSDataForms)
	default:
		if q.Node != "" && !isCapsNode(q.Node) {
			c.replyIQError(ctx, iq, errItemNotFound("no such node"))
			return
		}
		user, err := c.addr.UserOf(to)
		if err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
		res = c.contactInfo(ctx, owner, user, nil)
	}
	if isCapsNode(q.Node) {
		// XEP-0115 §6.2: the node names the answer it hashes; a
		// verification string that is not (or no longer) this answer's
		// names nothing.
		if ver, err := res.CapsVer(); err != nil || q.Node != CapsNode+"#"+ver {
			c.replyIQError(ctx, iq, errItemNotFound("no such node"))
			return
		}
		res.Node = q.Node
	}
	c.replyIQ(ctx, iq, res)
}

func isCapsNode(node string) bool { return strings.HasPrefix(node, CapsNode+"#") }

// gatewayInfo is the gateway's disco#info for owner.
func (c *Component) gatewayInfo(owner ids.Owner) *xep.DiscoInfo {
	res := discoInfoPayload("")
	name := c.cfg.Name + " (" + c.info.Name + ")"
	if c.info.NotBridged != "" {
		name += "; not bridged: " + c.info.NotBridged
	}
	res.AddIdentity(name, "gateway", c.info.GatewayType)
	res.AddFeatures(gatewayFeatures...)
	c.addConferenceIdentity(res, owner) // muc_disco.go
	return res
}

// contactInfo is a contact's disco#info for owner: what the chat really
// supports. ct is the contact as the hub holds it, if the caller has it;
// nil means look it up.
func (c *Component) contactInfo(ctx context.Context, owner ids.Owner, user ids.UserID, ct *store.Contact) *xep.DiscoInfo {
	res := discoInfoPayload("")
	if ct == nil {
		if got, err := c.gw.Contact(ctx, owner, c.cfg.Platform, user); err == nil {
			ct = &got
		}
	}
	name := string(user)
	if ct != nil && ct.Name != "" {
		name = ct.Name
	}
	res.AddIdentity(name, "client", "phone")
	caps, linked := c.gw.Capabilities(owner, c.cfg.Platform, ids.DirectChat(user))
	res.AddFeatures(contactFeatures(caps, linked)...)
	if linked && caps.Reactions && (caps.MaxReactionsPerUser > 0 || len(caps.AllowedReactions) > 0) {
		res.Forms = append(res.Forms, reactionRestrictions(caps))
	}
	return res
}

// capsOf is the XEP-0115 element for a disco#info answer; nil (and
// logged) if the answer cannot be hashed, which would be a bug.
func (c *Component) capsOf(info *xep.DiscoInfo) *xep.Caps {
	ver, err := info.CapsVer()
	if err != nil {
		c.log.Error("disco#info answer cannot be hashed for caps", "err", err)
		return nil
	}
	return &xep.Caps{Hash: "sha-1", Node: CapsNode, Ver: ver}
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
