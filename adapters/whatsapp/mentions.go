package whatsapp

import (
	"context"
	"strings"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// outboundMentions returns the JIDs WhatsApp expects for the users msg
// mentions (ContextInfo.MentionedJID) and the body with each mention
// written as WhatsApp shows it: "@" and the digits of that JID. In a
// LID-addressed group that is the member's LID, which the device's LID
// store knows from the group's member list, also after a restart.
func (s *Session) outboundMentions(ctx context.Context, msg *event.Message, chat types.JID) ([]types.JID, string) {
	body := msg.Body
	var jids []types.JID
	lidGroup := chat.Server == types.GroupServer && len(msg.Mentions) > 0 && s.groupAddressing(ctx, chat) == types.AddressingModeLID
	for _, u := range msg.Mentions {
		jid, err := s.participantJID(msg.Chat, u)
		if err != nil {
			continue
		}
		if lidGroup && jid.Server == types.DefaultUserServer && s.c.device.LIDs != nil {
			if lid, err := s.c.device.LIDs.GetLIDForPN(ctx, jid); err == nil && !lid.IsEmpty() {
				jid = lid.ToNonAD()
			}
		}
		jids = append(jids, jid)
		// The XMPP side writes a mention as the user's id ("@+15550001111")
		// or its digits.
		for _, written := range []string{string(u), strings.TrimPrefix(string(u), "+")} {
			if written != jid.User {
				body = convert.ReplaceMention(body, written, jid.User)
			}
		}
	}
	return jids, body
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
