package xmppcomponent

import (
	"fmt"
	"strings"

	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Addressing maps platform users to JIDs on the component's domain and back.
// Phone numbers keep their E.164 form (+15550001111@gw.example.org); any
// other user id is XEP-0106-escaped into the localpart.
type Addressing struct {
	Domain string
}

// UserJID returns the bare JID of a platform user.
func (a Addressing) UserJID(user ids.UserID) string {
	return EscapeLocal(string(user)) + "@" + a.Domain
}

// ChatJID returns the bare JID of a one-to-one chat.
func (a Addressing) ChatJID(chat ids.ChatID) string { return a.UserJID(ids.UserID(chat)) }

// ContactResource is the one resource of every contact, and of the gateway
// itself: they are present, and write, as a client is, from
// <user>@<domain>/ContactResource (and <domain>/ContactResource), so that
// clients that count only a resource's presence (Gajim) show them online
// and clients that answer the sender's full JID (Profanity's receipts)
// have one. Stanzas to the bare JID or any other resource reach the same
// contact: UserOf ignores the resource.
const ContactResource = "drawbridge"

// UserFullJID returns the full JID a platform user is present and writes
// from.
func (a Addressing) UserFullJID(user ids.UserID) string {
	return EscapeLocal(string(user)) + "@" + a.Domain + "/" + ContactResource
}

// ChatFullJID returns the full JID the other party of a one-to-one chat
// writes from.
func (a Addressing) ChatFullJID(chat ids.ChatID) string { return a.UserFullJID(ids.UserID(chat)) }

// UserOf returns the platform user a JID on the component's domain stands
// for. The gateway's own JID and other domains are errors.
func (a Addressing) UserOf(j jid.JID) (ids.UserID, error) {
	if !strings.EqualFold(j.Domainpart(), a.Domain) {
		return "", fmt.Errorf("%s is not on %s: %w", j, a.Domain, gateway.ErrUnknownChat)
	}
	local := j.Localpart() // a copy each call
	if local == "" {
		return "", fmt.Errorf("%s is the gateway itself, not a contact: %w", j, gateway.ErrUnknownChat)
	}
	return ids.UserID(UnescapeLocal(local)), nil
}

// Owner returns the bare JID of a stanza's sender as the hub's Owner.
func Owner(from jid.JID) ids.Owner { return ids.Owner(from.Bare().String()) }

// escapes are the XEP-0106 escape sequences, plus '#' (not in XEP-0106),
// so that user localparts never contain '#', which starts room localparts
// (muc_address.go).
var escapes = map[byte]string{
	' ': `\20`, '"': `\22`, '#': `\23`, '&': `\26`, '\'': `\27`, '/': `\2f`,
	':': `\3a`, '<': `\3c`, '>': `\3e`, '@': `\40`, '\\': `\5c`,
}

// EscapeLocal applies XEP-0106 JID escaping to a localpart. Every backslash
// is escaped too, so that UnescapeLocal is its exact inverse.
func EscapeLocal(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if e, ok := escapes[s[i]]; ok {
			b.WriteString(e)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// needsEscape reports whether EscapeLocal would change s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := escapes[s[i]]; ok {
			return true
		}
	}
	return false
}

// UnescapeLocal reverses EscapeLocal (XEP-0106 unescaping).
func UnescapeLocal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
outer:
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+2 < len(s) {
			seq := strings.ToLower(s[i : i+3])
			for c, e := range escapes {
				if e == seq {
					b.WriteByte(c)
					i += 2
					continue outer
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// bareString strips the resource of an unparsed JID: everything from the
// first '/'.
func bareString(j string) string {
	b, _, _ := strings.Cut(j, "/")
	return b
}
