package xmppcomponent

import (
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// roomPrefix starts the localpart of every room JID. EscapeLocal escapes
// '#', so no contact's localpart starts with it and the two never collide.
const roomPrefix = "#"

// RoomJID returns the bare JID of the room of a platform group.
func (a Addressing) RoomJID(chat ids.ChatID) string {
	return roomPrefix + EscapeLocal(string(chat)) + "@" + a.Domain
}

// RoomOf returns the group a JID on the component's domain names, if it
// names a room.
func (a Addressing) RoomOf(j jid.JID) (ids.ChatID, bool) {
	if !strings.EqualFold(j.Domainpart(), a.Domain) {
		return "", false
	}
	local, ok := strings.CutPrefix(j.Localpart(), roomPrefix)
	if !ok || local == "" {
		return "", false
	}
	return ids.ChatID(UnescapeLocal(local)), true
}

// isRoom reports whether to addresses a room (bare or occupant JID).
func (c *Component) isRoom(to jid.JID) bool {
	_, ok := c.addr.RoomOf(to)
	return ok
}
