package xmppcomponent

import (
	"context"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// addConferenceIdentity adds the MUC service identity to the gateway's
// disco#info when the requester's platform account can have groups.
func (c *Component) addConferenceIdentity(res *xep.DiscoInfo, owner ids.Owner) {
	if !c.gw.HasGroups(owner, c.cfg.Platform) {
		return
	}
	res.AddIdentity(c.info.Name+" groups", "conference", "text")
	res.AddFeatures(xep.NSMUC)
}

// roomItems lists the rooms of the requester's groups in the gateway's
// disco#items.
func (c *Component) roomItems(ctx context.Context, from jid.JID, res *stanza.DiscoItems) {
	groups, err := c.gw.Groups(ctx, Owner(from), c.cfg.Platform)
	if err != nil {
		return // not linked, or no groups on this platform: no rooms
	}
	for _, g := range groups {
		res.AddItem(c.addr.RoomJID(g.Chat), "", roomName(g))
	}
}
