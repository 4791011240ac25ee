// Package event is the neutral event model: what happened on a platform or in
// XMPP, in terms that belong to neither. Consumers switch on the concrete type.
//
// The set is closed: only types in this package implement Event.
package event

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Event is one of the concrete event types of this package.
type Event interface {
	// EventMeta returns the metadata common to every event.
	EventMeta() *Meta
	isEvent()
}

// Meta is embedded in every event.
type Meta struct {
	// Account is the linked platform account the event belongs to.
	Account ids.AccountID
	// Chat is the conversation; for one-to-one chats, the other party's UserID.
	Chat ids.ChatID
	// Group marks a group chat (a room on the XMPP side). Adapters may set
	// it; the hub sets it for the events it routes when the platform
	// session says Chat is a group, so it travels (and is journaled) with
	// the event.
	Group bool
	// Sender is who did it. For events with FromMe set it is the account's own user.
	Sender ids.UserID
	// FromMe marks what the account's owner did on another device (their phone).
	FromMe bool
	// Time is when it happened, as the platform says.
	Time time.Time
	// ID identifies the event on the platform (for messages: the MessageID).
	ID ids.MessageID
}

// EventMeta implements Event.
func (m *Meta) EventMeta() *Meta { return m }
func (*Meta) isEvent()           {}

// Message is a new message in a chat.
type Message struct {
	Meta
	// Body is plain text; XEP-0393-style styling is kept as text.
	Body string
	// Attachments are files sent with the message.
	Attachments []Attachment
	// ReplyTo is the message this one answers, if any.
	ReplyTo ids.MessageID
	// ReplyToSender is who wrote ReplyTo, if known.
	ReplyToSender ids.UserID
	// ReplyQuote is an excerpt of ReplyTo for clients that cannot show
	// replies (a fallback), if known.
	ReplyQuote string
	// Mentions lists users mentioned in Body.
	Mentions []ids.UserID
	// History marks a message from before the account was linked (a
	// platform's history sync) delivered late: the XMPP side stamps it
	// with its time (XEP-0203) and, in a group, only keeps it in the
	// room's archive (XEP-0313), so that clients do not notify for each.
	History bool
}

// Attachment is a file carried by a message.
type Attachment struct {
	// URL is where XMPP clients fetch the file: for files from XMPP, the
	// address the client uploaded to; for files from a platform, set by the
	// hub once it has stored the file.
	URL string
	// Name is the file name, if known.
	Name string
	// MIMEType is the declared content type ("image/jpeg").
	MIMEType string
	// Size is the length in bytes, if known (0: unknown).
	Size int64
	// Kind is how the platform presents the file.
	Kind AttachmentKind
	// Open returns the content. Adapters set it on files from the platform;
	// the hub sets it on files from XMPP (a size-capped download). It may be
	// called more than once.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// AttachmentKind is how a platform presents a file.
type AttachmentKind string

// Attachment kinds.
const (
	KindFile  AttachmentKind = "file"
	KindImage AttachmentKind = "image"
	KindVideo AttachmentKind = "video"
	KindAudio AttachmentKind = "audio"
	// KindVoice is a recorded voice message (a "voice note"): a platform
	// plays it inline with a waveform. From XMPP, an Ogg/Opus audio file
	// is taken for one (XMPP clients record voice messages as such).
	KindVoice   AttachmentKind = "voice"
	KindSticker AttachmentKind = "sticker"
)

// KindOf is how a file of MIME type mimeType is usually presented: an
// image, video or audio by its major type, a plain file otherwise.
func KindOf(mimeType string) AttachmentKind {
	switch major, _, _ := strings.Cut(mimeType, "/"); major {
	case "image":
		return KindImage
	case "video":
		return KindVideo
	case "audio":
		return KindAudio
	}
	return KindFile
}

// Edit replaces the body of an earlier message (Target) of the same sender.
type Edit struct {
	Meta
	Target ids.MessageID
	Body   string
	// Attachments, from a platform, replace the file the target showed:
	// a file the platform could not give at first (it had expired on its
	// servers) and sends now. Target is then the part that showed the
	// file (ids.PartID). Empty for corrections of text.
	Attachments []Attachment
}

// Retract withdraws an earlier message (Target) of the same sender for
// everyone.
type Retract struct {
	Meta
	Target ids.MessageID
}

// Reaction is the full set of a sender's reactions to a message, as
// XEP-0444 has it: an empty Emojis removes them all.
type Reaction struct {
	Meta
	Target ids.MessageID
	Emojis []string
}

// ReceiptKind says how far a message got.
type ReceiptKind int

const (
	// Delivered: the message reached a device of the recipient.
	Delivered ReceiptKind = iota + 1
	// Displayed: the recipient has seen the message.
	Displayed
)

func (k ReceiptKind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Displayed:
		return "displayed"
	}
	return "unknown"
}

// Receipt reports that messages were delivered or displayed.
type Receipt struct {
	Meta
	Kind ReceiptKind
	// Targets are the messages the receipt is about.
	Targets []ids.MessageID
}

// ChatStateKind is a typing notification state (XEP-0085 vocabulary).
type ChatStateKind string

// Chat states.
const (
	Active    ChatStateKind = "active"
	Composing ChatStateKind = "composing"
	Paused    ChatStateKind = "paused"
	Inactive  ChatStateKind = "inactive"
	Gone      ChatStateKind = "gone"
)

// ChatState is a typing notification.
type ChatState struct {
	Meta
	State ChatStateKind
}

// Presence is a contact's availability.
type Presence struct {
	Meta
	Available bool
	// Show is "", "away", "xa", "dnd" or "chat".
	Show   string
	Status string
	// LastSeen is when the contact was last online, if known.
	LastSeen time.Time
}

// ContactInfo describes a contact of the account (Meta.Sender is the contact).
type ContactInfo struct {
	Meta
	Name string
	// Phone is the contact's phone number in E.164 form, if the platform has one.
	Phone string
	// AvatarHash changes whenever the contact's avatar changes; empty: none.
	AvatarHash string
}

// ChatInfo describes a conversation.
type ChatInfo struct {
	Meta
	Name    string
	Topic   string
	IsGroup bool
	Members []ids.UserID
	// AvatarHash, when set, is the group's picture now (the platform's
	// id of it; "": removed); nil: the picture did not change.
	AvatarHash *string
	// ReadOnly, when set, says whether only admins may write now; nil:
	// unchanged.
	ReadOnly *bool
}

// MembershipAction is what happened to a member of a group chat.
type MembershipAction string

// Membership actions.
const (
	Joined   MembershipAction = "joined"
	Left     MembershipAction = "left"
	Kicked   MembershipAction = "kicked"
	Promoted MembershipAction = "promoted"
	Demoted  MembershipAction = "demoted"
)

// MembershipChange reports a change to the members of a group chat.
type MembershipChange struct {
	Meta
	User   ids.UserID
	Action MembershipAction
}

// State is a linked account's connection state.
type State string

// Account states.
const (
	StateLinked         State = "linked"
	StateConnecting     State = "connecting"
	StateConnected      State = "connected"
	StateDisconnected   State = "disconnected"
	StateLoggedOut      State = "logged-out"
	StateBadCredentials State = "bad-credentials"
	StatePhoneOffline   State = "phone-offline"
	StateBanned         State = "banned"
	// StateUnlinked: the owner unlinked the account (by command or
	// through the management API); the gateway forgot it. It is only ever
	// an event's state: the owner's registration stays, without account.
	StateUnlinked State = "unlinked"
)

// AccountState reports a change of the account's connection state.
type AccountState struct {
	Meta
	State State
	// Detail is a human-readable explanation, shown to the user.
	Detail string
}
