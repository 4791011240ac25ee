package xmppcomponent

import (
	"strings"

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
