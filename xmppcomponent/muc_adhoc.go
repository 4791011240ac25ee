package xmppcomponent

import (
	"context"
	"fmt"
	"strings"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// groupCmd is the XEP-0050 command that creates a platform group.
var groupCmd = command{"create-group", "Create a group"}

// findGroupCommand finds the group command's node for a user whose
// platform has groups.
func (c *Component) findGroupCommand(from jid.JID, node string) (command, bool) {
	if node != groupCmd.node || !c.gw.HasGroups(Owner(from), c.cfg.Platform) {
		return command{}, false
	}
	return groupCmd, true
}

// groupCommandItems lists the group command for users whose platform has
// groups.
func (c *Component) groupCommandItems(from jid.JID, res *stanza.DiscoItems) {
	if c.gw.HasGroups(Owner(from), c.cfg.Platform) {
		res.AddItem(c.domain, groupCmd.node, groupCmd.name)
	}
}

// groupCommand runs "create-group" and reports whether q was it: the first
// stage asks for a name, a subject and members (phone numbers or contact
// JIDs, one per line); submitting creates the group, gives it the subject
// (the platform's group description), and the owner is then invited to its
// room. Without a subject the room says what it is (roomSubject).
func (c *Component) groupCommand(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Command) bool {
	if q.Node != groupCmd.node {
		return false
	}
	owner := Owner(from)
	switch {
	case q.Action == xep.ActionCancel:
		c.replyIQ(ctx, iq, &xep.Command{Node: q.Node, SessionID: q.SessionID, Status: xep.StatusCanceled})
	case q.Form == nil || q.SessionID == "":
		if !c.gw.HasGroups(owner, c.cfg.Platform) {
			c.replyIQError(ctx, iq, xep.StanzaError{Type: "cancel", Condition: "feature-not-implemented",
				Text: "Link a " + c.info.Name + " account first; groups need one"})
			return true
		}
		c.replyIQ(ctx, iq, &xep.Command{
			Node: q.Node, SessionID: newID(), Status: xep.StatusExecuting,
			Actions: &xep.Actions{Execute: xep.ActionComplete, Complete: &struct{}{}},
			Form: &xep.Form{Type: "form", Title: "Create a " + c.info.Name + " group", Fields: []xep.Field{
				{Var: "name", Type: "text-single", Label: "Name", Required: xep.Required},
				{Var: "subject", Type: "text-single", Label: "Subject (shown at the top of the room; optional)"},
				{Var: "members", Type: "text-multi", Label: "Members (phone numbers or addresses, one per line)"},
			}},
		})
	default:
		name, _ := q.Form.Value("name")
		if name = strings.TrimSpace(name); name == "" {
			c.replyIQError(ctx, iq, errBadRequest("a group needs a name"))
			return true
		}
		var members []ids.UserID
		for _, f := range q.Form.Fields {
			if f.Var != "members" {
				continue
			}
			for _, v := range f.Values {
				for _, line := range strings.Split(v, "\n") {
					if line = strings.TrimSpace(line); line == "" {
						continue
					}
					u, err := c.memberOf(ctx, owner, line)
					if err != nil {
						c.replyErr(ctx, iq, from, err)
						return true
					}
					members = append(members, u)
				}
			}
		}
		chat, err := c.gw.CreateGroup(ctx, owner, c.cfg.Platform, name, members)
		if err != nil {
			c.replyErr(ctx, iq, from, err)
			return true
		}
		note, kind := fmt.Sprintf("Created the group %q; its room is %s", name, c.addr.RoomJID(chat)), "info"
		if subject, _ := q.Form.Value("subject"); strings.TrimSpace(subject) != "" {
			if err := c.gw.SetGroupTopic(ctx, owner, c.cfg.Platform, chat, strings.TrimSpace(subject)); err != nil {
				c.logErr("set the new group's subject", owner, err)
				note, kind = note+", but its subject could not be set: "+userText(err)+". Change it in the room.", "warn"
			}
		}
		c.replyIQ(ctx, iq, completed(q.Node, q.SessionID, kind, note))
	}
	return true
}

// memberOf turns what the user typed for a member into a platform user.
func (c *Component) memberOf(ctx context.Context, owner ids.Owner, input string) (ids.UserID, error) {
	if strings.Contains(input, "@") {
		return c.platformUserOf(ctx, input)
	}
	return c.gw.ResolveUser(ctx, owner, c.cfg.Platform, input)
}

// leaveCmd is the room's XEP-0050 command that leaves the group on the
// platform (leaving the room only closes the owner's view of it).
var leaveCmd = command{"leave-group", "Leave the group"}

// roomCommand runs a room's command: "leave-group".
func (c *Component) roomCommand(ctx context.Context, iq *stanza.IQ, from jid.JID, owner ids.Owner, chat ids.ChatID, q *xep.Command) {
	if q.Node != leaveCmd.node {
		c.replyIQError(ctx, iq, errItemNotFound("no command "+q.Node))
		return
	}
	if q.Action == xep.ActionCancel {
		c.replyIQ(ctx, iq, &xep.Command{Node: q.Node, SessionID: q.SessionID, Status: xep.StatusCanceled})
		return
	}
	if err := c.gw.LeaveGroup(ctx, owner, c.cfg.Platform, chat); err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.replyIQ(ctx, iq, completed(q.Node, q.SessionID, "info", "You left the group."))
}
