// Package ids holds the opaque identifiers shared by the hub, the XMPP side
// and the platform adapters. Platform identifiers are minted by the adapter
// that owns them; the hub never looks inside them.
package ids

// Owner is the bare XMPP JID (localpart@domain) that registered with the
// gateway and owns a linked platform account.
type Owner string

// PlatformID names an adapter ("sandbox", "whatsapp").
type PlatformID string

// AccountID is the platform's identifier of a linked account (for phone-based
// platforms, the E.164 number).
type AccountID string

// UserID is the platform's identifier of a person.
type UserID string

// ChatID is the platform's identifier of a conversation. For one-to-one chats
// it is the UserID of the other party.
type ChatID string

// MessageID is the platform's identifier of a message within a chat.
type MessageID string

// DirectChat returns the ChatID of the one-to-one chat with user.
func DirectChat(user UserID) ChatID { return ChatID(user) }
