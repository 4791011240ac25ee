package xmppcomponent

import (
	"context"
	"encoding/xml"
	"strconv"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// roomFeatures are what every room handles (this package serves each).
var roomFeatures = []string{
	xep.NSDiscoInfo, xep.NSDiscoItems, xep.NSCommands, xep.NSMUC, "muc_persistent", "muc_membersonly", "muc_nonanonymous",
	"muc_unsecured", "muc_hidden", xep.NSOccupantID, xep.NSSID, xep.NSMAM, xep.NSPing, xep.NSModerate,
	xep.NSVCardTemp,
}

// onRoomIQ answers requests to a room or an occupant: disco, self-ping
// (XEP-0410), muc#admin (kick, grant, member lists) and the archive
// (XEP-0313).
func (c *Component) onRoomIQ(ctx context.Context, iq *stanza.IQ, from, to jid.JID) {
	chat, _ := c.addr.RoomOf(to)
	owner := Owner(from)
	occupant := to.Resourcepart() != ""
	switch p := iq.Payload.(type) {
	case *xep.DiscoInfo:
		if iq.Type == stanza.IQTypeGet && !occupant {
			if p.Node != "" {
				c.replyIQError(ctx, iq, errItemNotFound("no such node")) // XEP-0030 §3.1
				return
			}
			c.roomDiscoInfo(ctx, iq, from, owner, chat)
			return
		}
	case *stanza.DiscoItems:
		if iq.Type == stanza.IQTypeGet && !occupant {
			if p.Node != "" && p.Node != xep.NSCommands {
				c.replyIQError(ctx, iq, errItemNotFound("no such node")) // XEP-0030 §4.1
				return
			}
			res := &stanza.DiscoItems{XMLName: xml.Name{Space: xep.NSDiscoItems, Local: "query"}, Node: p.Node}
			if p.Node == xep.NSCommands {
				res.AddItem(to.Bare().String(), leaveCmd.node, leaveCmd.name)
			}
			c.replyIQ(ctx, iq, res)
			return
		}
	case *xep.Ping:
		if iq.Type == stanza.IQTypeGet {
			c.roomPing(ctx, iq, from, owner, chat, occupant)
			return
		}
	case *xep.MUCAdmin:
		if !occupant {
			c.roomAdmin(ctx, iq, from, owner, chat, p)
			return
		}
	case *xep.MAMQuery:
		if iq.Type == stanza.IQTypeSet && !occupant {
			c.roomArchive(ctx, iq, from, owner, chat, p)
			return
		}
	case *xep.Command:
		if iq.Type == stanza.IQTypeSet && !occupant {
			c.roomCommand(ctx, iq, from, owner, chat, p)
			return
		}
	case *xep.VCard:
		if iq.Type == stanza.IQTypeGet && !occupant {
			c.roomVCard(ctx, iq, from, owner, chat) // muc_avatar.go
			return
		}
	case *xep.Moderate:
		if iq.Type == stanza.IQTypeSet && !occupant {
			c.roomModerate(ctx, iq, from, owner, chat, p) // muc_moderate.go
			return
		}
	}
	c.replyIQError(ctx, iq, errServiceUnavailable)
}

// roomDiscoInfo describes a room to a member of its group.
func (c *Component) roomDiscoInfo(ctx context.Context, iq *stanza.IQ, from jid.JID, owner ids.Owner, chat ids.ChatID) {
	gi, err := c.gw.GroupInfo(ctx, owner, c.cfg.Platform, chat)
	if err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	res := discoInfoPayload("")
	res.AddIdentity(roomName(gi), "conference", "text")
	res.AddFeatures(roomFeatures...)
	if gi.ReadOnly {
		// XEP-0045 §15.6.2: only those with voice (the group's admins)
		// may write; the others are visitors.
		res.AddFeatures("muc_moderated")
	}
	caps, linked := c.gw.Capabilities(owner, c.cfg.Platform, chat)
	if linked {
		for _, f := range []struct {
			on bool
			ns string
		}{
			{caps.Edits, xep.NSCorrect}, {caps.Retractions, xep.NSRetract}, {caps.Reactions, xep.NSReactions},
			{caps.Replies, xep.NSReply}, {caps.MaxFileSize > 0, xep.NSOOB},
			// Members' typing and read markers reach the room and the
			// owner's go to the group (muc_ephemeral.go).
			{caps.ChatStates, xep.NSChatStates}, {caps.ReadMarkers, xep.NSMarkers},
		} {
			if f.on {
				res.AddFeatures(f.ns)
			}
		}
	}
	fields := []xep.Field{
		{Var: "FORM_TYPE", Type: "hidden", Values: []string{xep.NSMUCInfo}},
		{Var: "muc#roominfo_description", Values: []string{gi.Topic}},
		{Var: "muc#roominfo_subject", Values: []string{roomSubject(c.info.Name, gi)}},
		{Var: "muc#roominfo_occupants", Values: []string{strconv.Itoa(gi.Size())}},
		{Var: "muc#roomconfig_changesubject", Values: []string{boolValue(!gi.TopicByAdminsOnly && !gi.ReadOnly)}},
	}
	// XEP-0486: the picture's hash, when the group has one and it could
	// be read (a failed fetch leaves the field out: no picture shown).
	if sum, err := c.roomAvatarSHA1(ctx, owner, chat, gi.AvatarHash); err != nil {
		c.logErr("read group avatar", owner, err)
	} else if sum != "" {
		fields = append(fields, xep.Field{Var: "muc#roominfo_avatarhash", Values: []string{sum}})
	}
	res.Forms = append(res.Forms, xep.Form{Type: "result", Fields: fields})
	c.replyIQ(ctx, iq, res)
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// roomPing answers XEP-0410 self-pings: a joined resource is in the room.
func (c *Component) roomPing(ctx context.Context, iq *stanza.IQ, from jid.JID, owner ids.Owner, chat ids.ChatID, occupant bool) {
	joined := false
	c.muc.with(roomKey{owner, chat}, func(r *room) { joined = r.joined[from.String()] })
	if occupant && !joined {
		c.replyIQError(ctx, iq, xep.StanzaError{Type: "modify", Condition: "not-acceptable", Text: "Not in the room"})
		return
	}
	c.replyIQ(ctx, iq, nil)
}

// roomAdmin handles muc#admin: get lists the members of an affiliation;
// set kicks (role none, affiliation none), grants admin (affiliation
// admin or owner, role moderator) or takes it back (affiliation member,
// role participant). Bans (outcast) do not exist on the platforms.
func (c *Component) roomAdmin(ctx context.Context, iq *stanza.IQ, from jid.JID, owner ids.Owner, chat ids.ChatID, q *xep.MUCAdmin) {
	gi, err := c.gw.GroupInfo(ctx, owner, c.cfg.Platform, chat)
	if err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	if iq.Type == stanza.IQTypeGet {
		res := &xep.MUCAdmin{}
		for _, want := range q.Items {
			for _, mem := range gi.Members {
				if want.Affiliation == affiliation(mem.Role) || (want.Role != "" && want.Role == mucRole(gi, mem.Role)) {
					res.Items = append(res.Items, xep.MUCItem{Affiliation: affiliation(mem.Role), Role: mucRole(gi, mem.Role), JID: c.addr.UserJID(mem.User)})
				}
			}
		}
		c.replyIQ(ctx, iq, res)
		return
	}
	for _, it := range q.Items {
		user, ok := c.itemUser(ctx, owner, chat, it)
		if !ok {
			c.replyIQError(ctx, iq, errItemNotFound("no such member in the room"))
			return
		}
		switch {
		case it.Role == "none" || it.Affiliation == "none":
			err = c.gw.KickMember(ctx, owner, c.cfg.Platform, chat, user)
		case it.Affiliation == "admin" || it.Affiliation == "owner" || it.Role == "moderator":
			err = c.gw.SetMemberRole(ctx, owner, c.cfg.Platform, chat, user, gateway.RoleAdmin)
		case it.Affiliation == "member" || it.Role == "participant":
			err = c.gw.SetMemberRole(ctx, owner, c.cfg.Platform, chat, user, gateway.RoleMember)
		default:
			c.replyIQError(ctx, iq, xep.StanzaError{Type: "cancel", Condition: "feature-not-implemented",
				Text: "The platform has no " + it.Affiliation + it.Role + " in groups"})
			return
		}
		if err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
	}
	c.replyIQ(ctx, iq, nil)
}

// itemUser finds the member a muc#admin item names, by nick or JID.
func (c *Component) itemUser(ctx context.Context, owner ids.Owner, chat ids.ChatID, it xep.MUCItem) (ids.UserID, bool) {
	var user ids.UserID
	ok := false
	c.muc.with(roomKey{owner, chat}, func(r *room) {
		if it.Nick != "" {
			user, ok = r.userOfNick(it.Nick)
		}
	})
	if ok || it.JID == "" {
		return user, ok
	}
	u, err := c.platformUserOf(ctx, it.JID)
	return u, err == nil
}

// roomArchive answers an XEP-0313 query with the room's history, filtered
// by time (start, end: what clients ask for to fill a room they join) and
// paged with XEP-0059: max, after (forward from an id), before (backward
// from an id, or the last page when empty).
func (c *Component) roomArchive(ctx context.Context, iq *stanza.IQ, from jid.JID, owner ids.Owner, chat ids.ChatID, q *xep.MAMQuery) {
	start, end, bad := archiveFilter(q.Form)
	if bad != nil {
		c.replyIQError(ctx, iq, *bad)
		return
	}
	if _, err := c.gw.GroupInfo(ctx, owner, c.cfg.Platform, chat); err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	roomJID := c.addr.RoomJID(chat)
	var all []archived
	c.muc.with(roomKey{owner, chat}, func(r *room) {
		for _, a := range r.history {
			if (!start.IsZero() && a.at.Before(start)) || (!end.IsZero() && a.at.After(end)) {
				continue
			}
			a.msg = r.replayed(a, roomJID)
			all = append(all, a)
		}
	})
	page, first, complete, ok := pageOf(all, q.Set)
	if !ok {
		c.replyIQError(ctx, iq, errItemNotFound("no such message in the archive"))
		return
	}
	for _, a := range page {
		m := a.msg
		m.XMLName = xml.Name{Local: "message"}
		m.To = ""
		c.send(ctx, &stanza.Message{
			XMLName: xml.Name{Local: "message"},
			Attrs:   stanza.Attrs{From: roomJID, To: from.String(), Id: newID()},
			Extensions: []stanza.MsgExtension{&xep.MAMResult{QueryID: q.QueryID, ID: a.id, Forwarded: xep.MAMForwarded{
				Delay: xep.Delay{Stamp: a.at.UTC().Format(time.RFC3339)}, Message: &xep.ClientMessage{Message: m},
			}}},
		})
	}
	count := len(all)
	fin := &xep.MAMFin{Complete: complete, Set: xep.RSMSet{Count: &count}}
	if len(page) > 0 {
		fin.Set.First = &xep.RSMFirst{Index: first, ID: page[0].id}
		fin.Set.Last = page[len(page)-1].id
	}
	c.replyIQ(ctx, iq, fin)
}

// archiveFilter reads the times an archive query is limited to (zero:
// none). A field the room cannot filter by, or a time that is no XEP-0082
// date and time, is refused (XEP-0313: the query is not run).
func archiveFilter(f *xep.Form) (start, end time.Time, bad *xep.StanzaError) {
	if f == nil {
		return start, end, nil
	}
	for _, fl := range f.Fields {
		v := ""
		if len(fl.Values) > 0 {
			v = fl.Values[0]
		}
		var t *time.Time
		switch fl.Var {
		case "FORM_TYPE":
			continue
		case "start":
			t = &start
		case "end":
			t = &end
		default:
			return start, end, &xep.StanzaError{Type: "modify", Condition: "bad-request",
				Text: "This room's archive can be searched by time only (start and end); " + strconv.Quote(fl.Var) + " is not supported"}
		}
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			se := errBadRequest("The " + fl.Var + " must be a date and time such as 2026-01-31T18:30:00Z, not " + strconv.Quote(v))
			return start, end, &se
		}
		*t = at
	}
	return start, end, nil
}

// pageOf cuts one RSM page out of the archive: the page, the index of its
// first item, whether it reaches the end in the paging direction, and
// false when after/before names an unknown id.
func pageOf(all []archived, set *xep.RSMSet) (page []archived, first int, complete, ok bool) {
	maxItems := len(all)
	if set != nil && set.Max != nil && *set.Max >= 0 {
		maxItems = *set.Max
	}
	index := func(id string) int {
		for i, a := range all {
			if a.id == id {
				return i
			}
		}
		return -1
	}
	switch {
	case set != nil && set.Before != nil:
		end := len(all)
		if *set.Before != "" {
			if end = index(*set.Before); end < 0 {
				return nil, 0, false, false
			}
		}
		start := max(0, end-maxItems)
		return all[start:end], start, start == 0, true
	default:
		start := 0
		if set != nil && set.After != nil {
			i := index(*set.After)
			if i < 0 {
				return nil, 0, false, false
			}
			start = i + 1
		}
		end := min(len(all), start+maxItems)
		return all[start:end], start, end == len(all), true
	}
}
