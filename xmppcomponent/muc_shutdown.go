package xmppcomponent

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// LeaveRoomsForShutdown tells every resource in a room that it is out of
// it because the service is shutting down (an unavailable self-presence
// with status codes 110 and 332, XEP-0045 §15.6, its affiliation kept)
// and forgets which resources joined, and returns how many it told. The
// process calls it on a clean stop, before the link closes: without it a
// client still shows itself in the rooms and learns otherwise only when
// its next message is refused; with it, clients that rejoin rooms on
// their own do so once the gateway is back.
func (c *Component) LeaveRoomsForShutdown(ctx context.Context) int {
	return c.leaveRoomsShutdown(ctx, func(ids.Owner) bool { return true })
}

// LeaveOwnerRoomsForShutdown is LeaveRoomsForShutdown for owner's rooms
// alone: a sharded process that hands owner over to another calls it,
// since the next process does not know which resources joined.
func (c *Component) LeaveOwnerRoomsForShutdown(ctx context.Context, owner ids.Owner) int {
	return c.leaveRoomsShutdown(ctx, func(o ids.Owner) bool { return o == owner })
}

// leaveRoomsShutdown is LeaveRoomsForShutdown for the owners of.
func (c *Component) leaveRoomsShutdown(ctx context.Context, of func(ids.Owner) bool) int {
	c.muc.mu.Lock()
	defer c.muc.mu.Unlock()
	told := 0
	for _, k := range c.muc.keysLocked(of) {
		r := c.muc.rooms[k]
		if len(r.joined) == 0 {
			continue
		}
		roomJID := c.addr.RoomJID(k.chat)
		for _, full := range r.resources() {
			p := c.selfGone(roomJID, r, full)
			x := p.Extensions[0].(*xep.MUCUser)
			x.Status = append(x.Status, xep.MUCStatus{Code: statusShutdown})
			c.send(ctx, p)
			told++
		}
		r.joined = map[string]bool{}
	}
	return told
}
