package whatsapp

import (
	"context"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// WhatsApp addresses the members of most groups by LID. Keys of replies,
// reactions and read receipts must name a member the way the group does,
// or the phones do not match them to the message. What the session saw
// last is kept in memory (memberAddr); without it, after a restart, the
// group's addressing mode and whatsmeow's LID store (persistent, filled
// from group member lists and message envelopes) decide.

// memberAddress returns the JID a group addresses member jid (a phone
// number or LID JID) by: its LID when the group is LID-addressed and the
// LID is known, else jid.
func (s *Session) memberAddress(ctx context.Context, chat ids.ChatID, jid types.JID) types.JID {
	if jid.Server != types.DefaultUserServer || !waid.IsGroup(chat) || s.c.device.LIDs == nil {
		return jid
	}
	group, err := waid.JID(string(chat))
	if err != nil || s.groupAddressing(ctx, group) != types.AddressingModeLID {
		return jid
	}
	lid, err := s.c.device.LIDs.GetLIDForPN(ctx, jid)
	if err != nil || lid.IsEmpty() {
		return jid
	}
	return lid.ToNonAD()
}

// groupAddressing is how WhatsApp addresses the members of a group (LID or
// phone number): remembered from the group's info, or asked once.
func (s *Session) groupAddressing(ctx context.Context, jid types.JID) types.AddressingMode {
	s.mu.Lock()
	st, ok := s.groups[jid.ToNonAD()]
	s.mu.Unlock()
	if ok && st.addressing != "" {
		return st.addressing
	}
	g, err := s.c.client.GetGroupInfo(ctx, jid)
	if err != nil || g == nil {
		s.log.Debug("whatsapp: cannot read a group's addressing", "group", jid, "err", err)
		return ""
	}
	s.rememberGroup(g)
	return g.AddressingMode
}
