package whatsapptest

import (
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// PN is the phone-number JID of "+15550001111" (or "15550001111").
func PN(phone string) types.JID {
	return types.NewJID(strings.TrimPrefix(phone, "+"), types.DefaultUserServer)
}

// LID is the LID JID of a number.
func LID(n string) types.JID { return types.NewJID(n, types.HiddenUserServer) }

// Msg describes the envelope of a message WhatsApp delivers, for building
// real whatsmeow events.
type Msg struct {
	// Chat is the conversation: in a one-to-one chat, the other party
	// (also for messages the owner sent from the phone).
	Chat types.JID
	// Sender wrote the message; empty means Chat (or, with FromMe, the
	// owner's phone — set Sender to the owner's JID then).
	Sender types.JID
	// SenderAlt and RecipientAlt are the other addresses (PN for a LID and
	// the reverse) WhatsApp sends along.
	SenderAlt, RecipientAlt types.JID
	FromMe                  bool
	ID                      types.MessageID
	Time                    time.Time
	PushName                string
}

// Source is the MessageSource of the envelope.
func (m Msg) Source() types.MessageSource {
	sender := m.Sender
	if sender.IsEmpty() {
		sender = m.Chat
	}
	mode := types.AddressingModePN
	if m.Chat.Server == types.HiddenUserServer {
		mode = types.AddressingModeLID
	}
	return types.MessageSource{
		Chat: m.Chat, Sender: sender, IsFromMe: m.FromMe, IsGroup: m.Chat.Server == types.GroupServer,
		AddressingMode: mode, SenderAlt: m.SenderAlt, RecipientAlt: m.RecipientAlt,
	}
}

// Info is the MessageInfo of the envelope.
func (m Msg) Info() types.MessageInfo {
	t := m.Time
	if t.IsZero() {
		t = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	}
	return types.MessageInfo{MessageSource: m.Source(), ID: m.ID, Timestamp: t, PushName: m.PushName, Type: "text"}
}

// Event wraps raw as whatsmeow delivers it: unwrapped (ephemeral,
// view-once, edits, device-sent copies ...) by events.Message.UnwrapRaw.
func (m Msg) Event(raw *waE2E.Message) *events.Message {
	return (&events.Message{Info: m.Info(), RawMessage: raw}).UnwrapRaw()
}

// Builder is a never-connected whatsmeow client whose own JID is own: its
// Build* helpers (edits, revocations, reactions) make the protobufs a
// WhatsApp user with that JID would send.
func Builder(own types.JID) *whatsmeow.Client {
	return whatsmeow.NewClient(&store.Device{ID: &own}, nil)
}

// EventTypes returns one value of each whatsmeow event type the fake
// plays to the adapter (Dispatch), the list the adapter's event table is
// checked against (adapters/whatsapp/doc.go).
func EventTypes() []any {
	return []any{
		&events.Connected{}, &events.Disconnected{}, &events.KeepAliveTimeout{}, &events.KeepAliveRestored{},
		&events.LoggedOut{}, &events.StreamReplaced{}, &events.ClientOutdated{}, &events.TemporaryBan{},
		&events.ConnectFailure{}, &events.PushNameSetting{}, &events.AppStateSyncComplete{}, &events.AppStateSyncError{},
		&events.Message{}, &events.UndecryptableMessage{}, &events.Receipt{}, &events.ChatPresence{},
		&events.Presence{}, &events.PushName{}, &events.Contact{}, &events.BusinessName{}, &events.Picture{},
		&events.CallOffer{}, &events.CallOfferNotice{}, &events.MediaRetry{}, &events.GroupInfo{},
		&events.JoinedGroup{}, &events.HistorySync{},
	}
}
