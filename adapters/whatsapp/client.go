package whatsapp

import (
	"context"
	"io"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// Client is the part of *whatsmeow.Client the adapter uses: the seam that
// tests replace with a fake (see package whatsapptest). Everything else
// (the device, its Signal sessions, contacts and LID map) lives in the
// *store.Device the client was made for.
type Client interface {
	AddEventHandlerWithSuccessStatus(handler whatsmeow.EventHandlerWithSuccessStatus) uint32
	RemoveEventHandler(id uint32) bool

	Connect() error
	Disconnect()
	IsConnected() bool
	IsLoggedIn() bool
	Logout(ctx context.Context) error

	GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error)
	PairPhone(ctx context.Context, phone string, showPushNotification bool, clientType whatsmeow.PairClientType, clientDisplayName string) (string, error)
	SendPasskeyConfirmation(ctx context.Context) error

	GenerateMessageID() types.MessageID
	SendMessage(ctx context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error)
	BuildEdit(chat types.JID, id types.MessageID, newContent *waE2E.Message) *waE2E.Message
	BuildRevoke(chat, sender types.JID, id types.MessageID) *waE2E.Message
	BuildReaction(chat, sender types.JID, id types.MessageID, reaction string) *waE2E.Message

	UploadReader(ctx context.Context, plaintext io.Reader, tempFile io.ReadWriteSeeker, appInfo whatsmeow.MediaType) (whatsmeow.UploadResponse, error)
	DownloadToFile(ctx context.Context, msg whatsmeow.DownloadableMessage, file whatsmeow.File) error
	SendMediaRetryReceipt(ctx context.Context, message *types.MessageInfo, mediaKey []byte) error
	DecryptPollVote(ctx context.Context, vote *events.Message) (*waE2E.PollVoteMessage, error)
	ParseWebMessage(chatJID types.JID, webMsg *waWeb.WebMessageInfo) (*events.Message, error)

	MarkRead(ctx context.Context, ids []types.MessageID, timestamp time.Time, chat, sender types.JID, receiptTypeExtra ...types.ReceiptType) error
	SendPresence(ctx context.Context, state types.Presence) error
	SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, media types.ChatPresenceMedia) error
	SubscribePresence(ctx context.Context, jid types.JID) error
	FetchAppState(ctx context.Context, name appstate.WAPatchName, fullSync, onlyIfNotSynced bool) error

	IsOnWhatsApp(ctx context.Context, phones []string) ([]types.IsOnWhatsAppResponse, error)
	GetProfilePictureInfo(ctx context.Context, jid types.JID, params *whatsmeow.GetProfilePictureParams) (*types.ProfilePictureInfo, error)

	GetJoinedGroups(ctx context.Context) ([]*types.GroupInfo, error)
	GetGroupInfo(ctx context.Context, jid types.JID) (*types.GroupInfo, error)
	SetGroupTopic(ctx context.Context, jid types.JID, previousID, newID, topic string) error
	UpdateGroupParticipants(ctx context.Context, jid types.JID, participantChanges []types.JID, action whatsmeow.ParticipantChange) ([]types.GroupParticipant, error)
	LeaveGroup(ctx context.Context, jid types.JID) error
	CreateGroup(ctx context.Context, req whatsmeow.ReqCreateGroup) (*types.GroupInfo, error)
}

var _ Client = (*whatsmeow.Client)(nil)

// ClientFactory makes the Client of a device. The adapter calls it once
// per login and per loaded session.
type ClientFactory func(device *store.Device, log waLog.Logger) Client

// NewWhatsmeowClient is the production ClientFactory: a *whatsmeow.Client
// that acknowledges a message only after the adapter has handed it to the
// hub (SynchronousAck) and keeps decrypted messages until then
// (EnableDecryptedEventBuffer), so that a message the hub could not take
// is delivered again instead of lost. A message it cannot decrypt is asked
// for from the phone too, not only from its sender
// (AutomaticMessageRerequestFromPhone), and the messages it sends are kept
// in the device store for 7 days (UseRetryMessageStore), so that a
// recipient whose device asks for one again after a gateway restart gets
// it instead of "Waiting for this message". Its messages carry WhatsApp's
// reporting token (SendReportingTokens), as those of WhatsApp's own
// clients do, so that a recipient can report them like any other.
func NewWhatsmeowClient(device *store.Device, log waLog.Logger) Client {
	c := whatsmeow.NewClient(device, log)
	c.SynchronousAck = true
	c.EnableDecryptedEventBuffer = true
	c.AutomaticMessageRerequestFromPhone = true
	c.UseRetryMessageStore = true
	c.SendReportingTokens = true
	return c
}

// conn is a client with its device and one event handler that the login
// and then the session take turns to own. Between the two (a login has
// finished, the hub has not loaded the session yet) events are kept, so
// that nothing WhatsApp sends right after pairing is lost.
type conn struct {
	client Client
	device *store.Device

	mu      sync.Mutex
	handler func(evt any) bool
	keeping bool
	kept    []any
}

// maxKept bounds the events kept between a login and its session.
const maxKept = 4096

func newConn(client Client, device *store.Device) *conn {
	c := &conn{client: client, device: device}
	client.AddEventHandlerWithSuccessStatus(c.dispatch)
	return c
}

// dispatch runs for every event of the client, one at a time. The
// handler is called with c.mu held, so that setHandler waits for an event
// in progress.
func (c *conn) dispatch(evt any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handler != nil {
		return c.handler(evt)
	}
	if c.keeping && len(c.kept) < maxKept {
		c.kept = append(c.kept, evt)
		return true
	}
	// Nobody listens: do not acknowledge, WhatsApp sends it again.
	return false
}

// setHandler installs h (nil: none) and returns once no event is being
// handled by the previous one. Events kept since keep are replayed to h
// first.
func (c *conn) setHandler(h func(evt any) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handler = h
	if h == nil {
		return
	}
	kept := c.kept
	c.kept, c.keeping = nil, false
	for _, evt := range kept {
		h(evt)
	}
}

// keep starts keeping events until the next handler is installed.
func (c *conn) keep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handler, c.keeping = nil, true
}
