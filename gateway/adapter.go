package gateway

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Info describes a platform adapter.
type Info struct {
	// ID is the adapter's stable identifier, e.g. "sandbox" or "whatsapp".
	ID ids.PlatformID
	// Name is shown to users, e.g. "WhatsApp".
	Name string
	// GatewayType is the XEP-0030 category "gateway" type the component
	// advertises (for example "whatsapp", or "sms").
	GatewayType string
	// UserPrompt is the XEP-0100 prompt text, e.g. "Phone number (E.164)".
	UserPrompt string
	// NotBridged names, for users, what of the platform the gateway
	// cannot bridge by design (e.g. "secret chats"), or "". The XMPP side
	// says it in the gateway's disco identity, so that nobody waits for
	// what will never come.
	NotBridged string
}

// Adapter is one closed platform. The hub holds exactly one per platform.
type Adapter interface {
	// Info is constant for the adapter's lifetime.
	Info() Info
	// Init hands the adapter its Host and its raw configuration section. It
	// must not do I/O.
	Init(host Host, cfg map[string]any) error
	// Start begins platform-wide work (none for most adapters).
	Start(ctx context.Context) error
	// Stop ends everything the adapter started, including sessions.
	Stop(ctx context.Context) error
	// LoginFlows lists the ways to link an account, preferred first.
	LoginFlows() []LoginFlow
	// NewLogin starts linking an account for owner with the named flow.
	NewLogin(ctx context.Context, owner ids.Owner, flow string) (Login, error)
	// LoadSession returns the session of an account linked earlier. It does
	// not connect.
	LoadSession(ctx context.Context, account ids.AccountID) (Session, error)
}

// Session is one linked account on the platform.
type Session interface {
	// Connect starts the connection. Failures are reported through
	// Host.SetState, not returned; the session retries by itself.
	Connect(ctx context.Context)
	// Disconnect closes the connection; the account stays linked.
	Disconnect()
	// Logout unlinks the account on the platform side and forgets its
	// credentials.
	Logout(ctx context.Context) error
	// Capabilities are the limits of one chat.
	Capabilities(chat ids.ChatID) Capabilities
	// SendMessage sends a message and returns the platform's id for it.
	// Events about the message (receipts) may be emitted from other
	// goroutines before it returns; the hub holds them until the id is
	// recorded. It must not wait for its own events to be handled.
	SendMessage(ctx context.Context, msg *event.Message) (ids.MessageID, error)
}

// Capabilities are the per-chat limits of a platform. The XMPP side turns
// them into disco features; the hub refuses what is not allowed with
// ErrNotSupported before calling the adapter.
type Capabilities struct {
	// MaxBodyLength is the longest text body in bytes; 0 means no limit.
	MaxBodyLength int
	// Receipts: the platform reports delivery and accepts delivery receipts.
	Receipts bool
	// ReadMarkers: the platform reports and accepts "displayed" markers.
	ReadMarkers bool
	// ChatStates: the platform carries typing notifications.
	ChatStates bool

	// Edits: messages can be corrected (needs Editor).
	Edits bool
	// EditWindow is how long after sending a message may be edited; 0
	// means no limit.
	EditWindow time.Duration
	// Retractions: messages can be withdrawn for everyone (needs Retracter).
	Retractions bool
	// RetractWindow is how long after sending a message may be withdrawn;
	// 0 means no limit.
	RetractWindow time.Duration
	// Reactions: messages can be reacted to (needs Reactor).
	Reactions bool
	// MaxReactionsPerUser is how many different reactions one user may put
	// on one message; 0 means no limit.
	MaxReactionsPerUser int
	// AllowedReactions, if not empty, lists the only emojis accepted.
	AllowedReactions []string
	// Replies: a message can quote another one.
	Replies bool
	// MaxFileSize is the largest attachment in bytes; 0 means files are not
	// supported at all.
	MaxFileSize int64
	// MediaTypes lists the accepted MIME types of attachments; a type may
	// end with "/*" ("image/*"); empty means any type.
	MediaTypes []string
}

// AllowsMediaType reports whether mimeType is in MediaTypes.
func (c Capabilities) AllowsMediaType(mimeType string) bool {
	if len(c.MediaTypes) == 0 {
		return true
	}
	major, _, _ := strings.Cut(mimeType, "/")
	for _, t := range c.MediaTypes {
		if t == mimeType || t == major+"/*" {
			return true
		}
	}
	return false
}

// ReceiptSender is optional: a Session that can tell the platform that the
// owner received or read messages. Without it, receipts from XMPP are
// dropped on purpose (a receipt needs no error) and Capabilities say no.
type ReceiptSender interface {
	SendReceipt(ctx context.Context, r *event.Receipt) error
}

// ChatStateSender is optional: a Session that can forward typing
// notifications. Without it, chat states from XMPP are ignored.
type ChatStateSender interface {
	SendChatState(ctx context.Context, s *event.ChatState) error
}

// Editor is optional: a Session whose platform can correct messages.
// Without it (or when Capabilities.Edits is false) the hub refuses
// corrections with ErrNotSupported.
type Editor interface {
	EditMessage(ctx context.Context, e *event.Edit) error
}

// Retracter is optional: a Session whose platform can withdraw messages for
// everyone. Without it the hub refuses retractions with ErrNotSupported.
type Retracter interface {
	RetractMessage(ctx context.Context, r *event.Retract) error
}

// Reactor is optional: a Session whose platform has reactions. Without it
// the hub refuses reactions with ErrNotSupported.
type Reactor interface {
	// SendReaction sets the owner's full set of reactions on r.Target.
	SendReaction(ctx context.Context, r *event.Reaction) error
}

// Avatar is a contact's picture.
type Avatar struct {
	// Hash identifies this picture (changes when the picture changes).
	Hash     string
	MIMEType string
	Data     []byte
}

// AvatarGetter is optional: a Session that can fetch contacts' pictures.
// Without it contacts have no avatar.
type AvatarGetter interface {
	// GetAvatar returns ErrUnknownChat for an unknown user and a zero
	// Avatar for a user without a picture.
	GetAvatar(ctx context.Context, user ids.UserID) (Avatar, error)
}

// ContactLister is optional: a Session that can list the account's
// contacts. Without it, contacts appear only when they first write.
type ContactLister interface {
	ListContacts(ctx context.Context) ([]*event.ContactInfo, error)
}

// UserResolver is optional: a Session (or Adapter) that turns what a user
// typed (a phone number) into a platform user, checking it exists. Without
// it the hub accepts the input as a UserID after normalising it as a phone
// number.
type UserResolver interface {
	ResolveUser(ctx context.Context, input string) (ids.UserID, error)
}

// Host is what an adapter may call back into.
type Host interface {
	// Emit hands an event from the platform to the hub. It returns once the
	// event has been handed to the XMPP side's outbound queue.
	Emit(ctx context.Context, ev event.Event) error
	// SetState records and reports an account's connection state.
	SetState(ctx context.Context, account ids.AccountID, state event.State, detail string)
	// KV is the adapter's private key-value space for one account.
	KV(account ids.AccountID) AccountKV
	// Logger is the adapter's logger.
	Logger() *slog.Logger
}

// AccountKV is a key-value space private to one account of one adapter.
type AccountKV interface {
	// Get returns store.ErrNotFound (wrapped) if the key is absent.
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

// LoginFlow describes one way to link an account.
type LoginFlow struct {
	ID          string
	Name        string
	Description string
	// Fields, if set, are the fields the flow's first step asks for
	// (a StepInput's), known before the flow starts. A frontend may ask
	// for them together with something else, as XEP-0077 registration
	// does, and Submit them right after Start. Optional: without them the
	// frontend asks when the flow shows its first step.
	Fields []LoginField
}

// LoginStepKind is what a login step asks of the user.
type LoginStepKind int

const (
	// StepInput asks the user to fill in Fields, then call Submit.
	StepInput LoginStepKind = iota + 1
	// StepQR shows Data as a QR code; call Wait for the next step.
	StepQR
	// StepCode shows Data as a code to enter on the phone; call Wait.
	StepCode
	// StepDone: the account Account is linked.
	StepDone
)

func (k LoginStepKind) String() string {
	switch k {
	case StepInput:
		return "input"
	case StepQR:
		return "qr"
	case StepCode:
		return "code"
	case StepDone:
		return "done"
	}
	return "unknown"
}

// LoginField is one value a StepInput asks for.
type LoginField struct {
	ID          string
	Label       string
	Description string
	// Pattern, if set, is a regular expression the value must match.
	Pattern string
}

// LoginStep is one step of a login flow.
type LoginStep struct {
	Kind LoginStepKind
	// Instructions are shown to the user.
	Instructions string
	// Fields are asked for by StepInput.
	Fields []LoginField
	// Data is the QR payload or the code.
	Data string
	// Expires is when Data stops being valid (zero: never).
	Expires time.Time
	// Account is the linked account, set by StepDone.
	Account ids.AccountID
}

// Login is a running login flow, a step machine:
// Start → (Submit after StepInput | Wait after StepQR/StepCode)* → StepDone.
type Login interface {
	// Start returns the first step.
	Start(ctx context.Context) (LoginStep, error)
	// Submit answers a StepInput with field id → value.
	Submit(ctx context.Context, input map[string]string) (LoginStep, error)
	// Wait blocks until the step shown (QR or code) completes or changes.
	Wait(ctx context.Context) (LoginStep, error)
	// Cancel abandons the flow; it is safe to call more than once.
	Cancel()
}
