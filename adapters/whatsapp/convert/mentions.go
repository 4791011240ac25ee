package convert

import (
	"context"
	"strings"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Mentions returns the users a message mentions (ContextInfo.MentionedJID)
// and its body with each mention written as the XMPP side looks for it:
// WhatsApp writes "@" and the digits of the JID it mentions, which in a
// LID-addressed group are the person's LID, meaningless to the reader and
// matching no XEP-0372 reference. "@<LID>" becomes "@<phone number>" when
// the number is known, else "@lid-<LID>" (the contact's UserID).
func Mentions(ctx context.Context, env Env, body string, mentioned []string) (string, []ids.UserID) {
	var users []ids.UserID
	for _, j := range mentioned {
		jid, err := types.ParseJID(j)
		if err != nil {
			continue
		}
		user := env.Users.UserID(ctx, jid, types.EmptyJID)
		users = append(users, user)
		if jid.User == "" {
			continue
		}
		if shown := strings.TrimPrefix(string(user), "+"); shown != jid.User {
			body = ReplaceMention(body, jid.User, shown)
		}
	}
	return body, users
}

// ReplaceMention rewrites every "@<from>" in body that is a whole mention
// (not followed by another digit or letter) as "@<to>".
func ReplaceMention(body, from, to string) string {
	needle := "@" + from
	var b strings.Builder
	for {
		i := strings.Index(body, needle)
		if i < 0 {
			b.WriteString(body)
			return b.String()
		}
		end := i + len(needle)
		if end < len(body) && isWordByte(body[end]) {
			b.WriteString(body[:end])
			body = body[end:]
			continue
		}
		b.WriteString(body[:i])
		b.WriteString("@" + to)
		body = body[end:]
	}
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
