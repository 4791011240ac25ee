package xmppcomponent

import (
	"slices"
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// mentionRefs turns the users a platform message mentions into XEP-0372
// references. Platforms write a mention into the text as "@" and the
// user's number or id (with or without the leading "+"); when that text is
// found, the reference covers it (in code points), else it has no range.
// jidOf gives the JID a reference points at (a contact, the owner, or an
// occupant of a room).
func mentionRefs(body string, mentions []ids.UserID, jidOf func(ids.UserID) string) []*xep.Reference {
	var refs []*xep.Reference
	for _, u := range mentions {
		ref := &xep.Reference{Type: "mention", URI: "xmpp:" + jidOf(u)}
		for _, text := range []string{"@" + string(u), "@" + strings.TrimPrefix(string(u), "+")} {
			if i := strings.Index(body, text); i >= 0 {
				begin := len([]rune(body[:i]))
				end := begin + len([]rune(text))
				ref.Begin, ref.End = &begin, &end
				break
			}
		}
		refs = append(refs, ref)
	}
	return refs
}

// maxMentions bounds the XEP-0372 mentions read from one message.
const maxMentions = 32

// inboundMentions reads the mentions (XEP-0372) of a message from XMPP:
// the users they point at (a contact's JID, or an occupant's in a room)
// and the body with each mentioned text (the range of the original body
// the reference covers, e.g. "@Alice" or "Alice") written the way
// platforms write mentions, "@" and the user's number or id. orig is the
// body as sent (the ranges count its code points), body the one relayed
// (without fallbacks). References that name nobody known are ignored.
func (c *Component) inboundMentions(owner ids.Owner, chat ids.ChatID, orig, body string, refs []*xep.Reference) (string, []ids.UserID) {
	var users []ids.UserID
	runes := []rune(orig)
	for i, ref := range refs {
		if i == maxMentions {
			break
		}
		user, ok := c.mentionedUser(owner, chat, strings.TrimPrefix(ref.URI, "xmpp:"))
		if !ok {
			continue
		}
		if !slices.Contains(users, user) {
			users = append(users, user)
		}
		if ref.Begin == nil || ref.End == nil || *ref.Begin < 0 || *ref.End > len(runes) || *ref.Begin >= *ref.End {
			continue
		}
		text := string(runes[*ref.Begin:*ref.End])
		want := "@" + strings.TrimPrefix(string(user), "+")
		if text == want || text == "@"+string(user) {
			continue
		}
		body = strings.Replace(body, text, want, 1)
	}
	return body, users
}

// mentionedUser is the user a mention's JID names: a contact of the
// gateway, or, in a room, an occupant by nick or the member's own address.
func (c *Component) mentionedUser(owner ids.Owner, chat ids.ChatID, addr string) (ids.UserID, bool) {
	j, err := jid.Parse(addr)
	if err != nil {
		return "", false
	}
	if roomChat, ok := c.addr.RoomOf(j.Bare()); ok && roomChat == chat && j.Resourcepart() != "" {
		var user ids.UserID
		var found bool
		c.muc.with(roomKey{owner, chat}, func(r *room) { user, found = r.userOfNick(j.Resourcepart()) })
		return user, found
	}
	if j.Bare().String() == string(owner) {
		return "", false
	}
	user, err := c.addr.UserOf(j)
	return user, err == nil
}
