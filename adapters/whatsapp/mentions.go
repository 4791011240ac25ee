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
// LID-addressed group that is the member's LID (participantJID).
func (s *Session) outboundMentions(ctx context.Context, msg *event.Message, _ types.JID) ([]types.JID, string) {
	body := msg.Body
	var jids []types.JID
	for _, u := range msg.Mentions {
		jid, err := s.participantJID(ctx, msg.Chat, u)
		if err != nil {
			continue
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
