// Package waid maps WhatsApp JIDs and message keys to the hub's opaque
// identifiers and back.
//
// A WhatsApp user has two addresses: a phone-number JID
// ("15550001111@s.whatsapp.net") and a LID ("123456789@lid", an opaque
// number WhatsApp uses where it hides phone numbers). Both map to one
// stable UserID: the E.164 phone number ("+15550001111") whenever the
// number is known, from the event itself (the "alt" address WhatsApp sends
// beside the primary one) or from whatsmeow's LID map. Only a LID whose
// number is unknown becomes "lid-123456789".
//
// Message ids carry who wrote the message, because WhatsApp needs that to
// address a message in a reaction, revocation or reply: a message of the
// account's owner is "me:<id>", a message of the other party of a one-to-one
// chat is the bare "<id>", and a message of a group participant is
// "<participant UserID>:<id>" (WhatsApp message ids never contain ':').
package waid

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Prefixes of UserIDs that are not phone numbers.
const (
	// LIDPrefix starts the UserID of a LID whose phone number is unknown.
	LIDPrefix = "lid-"
	// BotPrefix starts the UserID of a WhatsApp bot.
	BotPrefix = "bot-"
	// GroupPrefix starts the ChatID of a group.
	GroupPrefix = "group-"
)

// OwnPrefix marks a MessageID written by the account's owner.
const OwnPrefix = "me"

// LIDMap finds the phone number behind a LID. whatsmeow's store.LIDStore
// (Device.LIDs) satisfies it.
type LIDMap interface {
	GetPNForLID(ctx context.Context, lid types.JID) (types.JID, error)
}

// Mapper turns JIDs into UserIDs for one linked account.
type Mapper struct {
	// Own is the account's phone-number JID; OwnLID its LID (may be empty).
	Own, OwnLID types.JID
	// LIDs resolves LIDs to phone numbers; nil: only alt addresses are used.
	LIDs LIDMap
}

// PhoneUser returns the UserID of a phone-number JID: "+" and its digits.
func PhoneUser(jid types.JID) ids.UserID { return ids.UserID("+" + jid.User) }

// IsOwn reports whether jid (or its alternative) is the account's owner.
func (m *Mapper) IsOwn(jid types.JID) bool {
	if jid.IsEmpty() {
		return false
	}
	switch jid.Server {
	case types.DefaultUserServer, types.LegacyUserServer:
		return !m.Own.IsEmpty() && jid.User == m.Own.User
	case types.HiddenUserServer:
		return !m.OwnLID.IsEmpty() && jid.User == m.OwnLID.User
	}
	return false
}

// UserID returns the stable UserID of jid. alt is the other address of the
// same user when the event carries one (MessageSource.SenderAlt,
// RecipientAlt, PushName.JIDAlt), else empty.
func (m *Mapper) UserID(ctx context.Context, jid, alt types.JID) ids.UserID {
	jid = jid.ToNonAD()
	alt = alt.ToNonAD()
	if m.IsOwn(jid) || m.IsOwn(alt) {
		if !m.Own.IsEmpty() {
			return PhoneUser(m.Own)
		}
	}
	switch jid.Server {
	case types.DefaultUserServer, types.LegacyUserServer:
		return PhoneUser(jid)
	case types.HiddenUserServer:
		if alt.Server == types.DefaultUserServer || alt.Server == types.LegacyUserServer {
			return PhoneUser(alt)
		}
		if m.LIDs != nil {
			if pn, err := m.LIDs.GetPNForLID(ctx, jid); err == nil && !pn.IsEmpty() {
				return PhoneUser(pn)
			}
		}
		return ids.UserID(LIDPrefix + jid.User)
	case types.BotServer:
		return ids.UserID(BotPrefix + jid.User)
	case types.GroupServer:
		return ids.UserID(GroupPrefix + jid.User)
	}
	if alt.Server == types.DefaultUserServer {
		return PhoneUser(alt)
	}
	// Hosted and interop addresses: keep the whole JID; the XMPP side
	// escapes what it must.
	return ids.UserID(jid.String())
}

// ChatID returns the ChatID of a chat JID (see UserID for alt).
func (m *Mapper) ChatID(ctx context.Context, jid, alt types.JID) ids.ChatID {
	return ids.ChatID(m.UserID(ctx, jid, alt))
}

// Phone returns the E.164 number of a UserID, or "" if it is not a phone
// number.
func Phone(user ids.UserID) string {
	if IsPhone(string(user)) {
		return string(user)
	}
	return ""
}

// IsPhone reports whether s is "+" followed by 1 to 15 digits, not
// starting with 0 (the UserID form of a phone-number JID).
func IsPhone(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ErrNotWhatsApp is wrapped by JID when an id is not a WhatsApp address.
var ErrNotWhatsApp = errors.New("not a WhatsApp address")

// JID returns the JID of a UserID or ChatID minted by Mapper. An id it
// cannot read wraps gateway.ErrUnknownChat and ErrNotWhatsApp.
func JID(id string) (types.JID, error) {
	switch {
	case IsPhone(id):
		return types.NewJID(id[1:], types.DefaultUserServer), nil
	case strings.HasPrefix(id, LIDPrefix) && digits(id[len(LIDPrefix):]):
		return types.NewJID(id[len(LIDPrefix):], types.HiddenUserServer), nil
	case strings.HasPrefix(id, BotPrefix) && id != BotPrefix:
		return types.NewJID(id[len(BotPrefix):], types.BotServer), nil
	case strings.HasPrefix(id, GroupPrefix) && id != GroupPrefix:
		return types.NewJID(id[len(GroupPrefix):], types.GroupServer), nil
	case strings.Contains(id, "@"):
		jid, err := types.ParseJID(id)
		if err == nil && jid.User != "" {
			return jid.ToNonAD(), nil
		}
	}
	return types.EmptyJID, fmt.Errorf("%q: %w: %w", id, ErrNotWhatsApp, gateway.ErrUnknownChat)
}

// IsGroup reports whether a ChatID names a group.
func IsGroup(chat ids.ChatID) bool { return strings.HasPrefix(string(chat), GroupPrefix) }

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// MessageRef is a WhatsApp message as a MessageID names it.
type MessageRef struct {
	// ID is WhatsApp's message id.
	ID types.MessageID
	// FromMe: the account's owner wrote it.
	FromMe bool
	// Participant is the group member who wrote it (empty in one-to-one
	// chats and for FromMe).
	Participant ids.UserID
}

// String is the MessageID of the reference.
func (r MessageRef) String() string { return string(r.MessageID()) }

// MessageID encodes the reference.
func (r MessageRef) MessageID() ids.MessageID {
	switch {
	case r.FromMe:
		return ids.MessageID(OwnPrefix + ":" + r.ID)
	case r.Participant != "":
		return ids.MessageID(string(r.Participant) + ":" + r.ID)
	}
	return ids.MessageID(r.ID)
}

// OwnMessage is the MessageID of a message the owner wrote.
func OwnMessage(id types.MessageID) ids.MessageID {
	return MessageRef{ID: id, FromMe: true}.MessageID()
}

// ParseMessageID reads a MessageID minted by MessageRef. A malformed one
// wraps gateway.ErrTargetNotFound.
func ParseMessageID(id ids.MessageID) (MessageRef, error) {
	s := string(id)
	i := strings.LastIndexByte(s, ':')
	ref := MessageRef{ID: s[i+1:]}
	if ref.ID == "" || strings.ContainsAny(ref.ID, " \t\r\n@") {
		return MessageRef{}, fmt.Errorf("%q is not a WhatsApp message id: %w", id, gateway.ErrTargetNotFound)
	}
	if i < 0 {
		return ref, nil
	}
	switch prefix := s[:i]; prefix {
	case OwnPrefix:
		ref.FromMe = true
	case "":
		return MessageRef{}, fmt.Errorf("%q is not a WhatsApp message id: %w", id, gateway.ErrTargetNotFound)
	default:
		ref.Participant = ids.UserID(prefix)
	}
	return ref, nil
}

// KeyRef returns the reference of the message a key names. WhatsApp writes
// a key from the point of view of whoever sent the message that holds it
// (a reaction, a revocation): key.FromMe means "written by that sender".
// containerFromMe says whether the owner sent the holding message; group
// says whether the chat is a group.
func (m *Mapper) KeyRef(ctx context.Context, key interface {
	GetID() string
	GetFromMe() bool
	GetParticipant() string
}, containerFromMe, group bool) MessageRef {
	ref := MessageRef{ID: key.GetID()}
	if p := key.GetParticipant(); p != "" {
		if jid, err := types.ParseJID(p); err == nil {
			if m.IsOwn(jid) {
				ref.FromMe = true
				return ref
			}
			if group {
				ref.Participant = m.UserID(ctx, jid, types.EmptyJID)
				return ref
			}
		}
	}
	if group {
		// A key without participant in a group is the holder's own
		// message only if the holder is the owner.
		ref.FromMe = key.GetFromMe() && containerFromMe
		return ref
	}
	ref.FromMe = key.GetFromMe() == containerFromMe
	return ref
}

// QuoteRef returns the reference of a quoted message: stanzaID and the JID
// of its author (ContextInfo.StanzaID and Participant). In a one-to-one
// chat a quote whose author is not the owner is the other party's.
func (m *Mapper) QuoteRef(ctx context.Context, stanzaID, participant string, group bool) MessageRef {
	ref := MessageRef{ID: stanzaID}
	if participant == "" {
		return ref
	}
	jid, err := types.ParseJID(participant)
	if err != nil {
		return ref
	}
	if m.IsOwn(jid) {
		ref.FromMe = true
	} else if group {
		ref.Participant = m.UserID(ctx, jid, types.EmptyJID)
	}
	return ref
}
