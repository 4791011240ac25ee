// Package whatsapptest fakes WhatsApp for tests of the WhatsApp adapter:
// a Client that records what the adapter sends and lets the test play
// WhatsApp's servers and the user's phone (QR codes, pairing, incoming
// events built from real whatsmeow types). Nothing here touches the
// network.
package whatsapptest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
)

// Sent is one call of SendMessage.
type Sent struct {
	To      types.JID
	Message *waE2E.Message
	ID      types.MessageID
}

// Upload is one call of UploadReader.
type Upload struct {
	Type whatsmeow.MediaType
	Data []byte
}

// Read is one call of MarkRead.
type Read struct {
	IDs    []types.MessageID
	Chat   types.JID
	Sender types.JID
}

// ChatPresence is one call of SendChatPresence.
type ChatPresence struct {
	To    types.JID
	State types.ChatPresence
}

// Client is a fake whatsapp.Client for one device. Its exported fields
// configure it; set them before the adapter uses it (or under Lock).
type Client struct {
	// Device is the device the adapter made the client for.
	Device *store.Device

	builder *whatsmeow.Client

	mu sync.Mutex
	// ConnectErr, if set, is returned by Connect.
	ConnectErr error
	// PairCode is what PairPhone returns (default "ABCD-EFGH").
	PairCode string
	// PairErr, if set, is returned by PairPhone.
	PairErr error
	// SendErr, if set, is returned by SendMessage.
	SendErr error
	// OnWhatsApp answers IsOnWhatsApp by phone number ("+15550001111").
	OnWhatsApp map[string]types.JID
	// Pictures answers GetProfilePictureInfo; a missing user has none.
	Pictures map[types.JID]*types.ProfilePictureInfo
	// Media is the plaintext of downloadable files by direct path.
	Media map[string][]byte
	// ConnectEvent, if set, is what a linked device gets after Connect
	// instead of events.Connected: a refusal WhatsApp sends once the
	// socket is open (events.TemporaryBan, events.ConnectFailure, ...).
	ConnectEvent any
	// GroupErr, if set, is returned by every group call.
	GroupErr error
	// MediaErr answers DownloadToFile for a direct path with an error, as
	// WhatsApp's media servers do for expired files
	// (whatsmeow.ErrMediaDownloadFailedWith410 ...); see mediaretry.go.
	MediaErr map[string]error
	// MediaGate holds DownloadToFile for a direct path until its channel
	// is closed or the context ends, as a large file on a slow link does.
	MediaGate map[string]chan struct{}
	// PairDevice is the device number PairSuccess gives the new device
	// (WhatsApp gives each link of a phone a new one); 0 means 7.
	PairDevice uint16

	handlers      []handler
	nextHandler   uint32
	dispatchMu    sync.Mutex
	connected     bool
	loggedIn      bool
	connects      int
	qr            chan whatsmeow.QRChannelItem
	qrClosed      bool
	idSeq         int
	sent          []Sent
	uploads       []Upload
	reads         []Read
	chatPresences []ChatPresence
	presences     []types.Presence
	subscribed    []types.JID
	calls         []string
	pairedPhones  []string
	changed       chan struct{}
	fetches       []AppStateFetch // appstate.go

	groups             map[types.JID]*types.GroupInfo
	groupOrder         []types.JID
	participantUpdates []ParticipantUpdate
	topicChanges       []TopicChange
	left               []types.JID
	created            []whatsmeow.ReqCreateGroup
	mediaRetries       []MediaRetryRequest
}

type handler struct {
	id uint32
	fn whatsmeow.EventHandlerWithSuccessStatus
}

var _ whatsapp.Client = (*Client)(nil)

// NewClient returns a fake client for device.
func NewClient(device *store.Device) *Client {
	return &Client{
		Device:  device,
		builder: whatsmeow.NewClient(device, nil),
		changed: make(chan struct{}),
	}
}

// Factory makes fake clients for the adapter (whatsapp.WithClientFactory)
// and keeps them for the test.
type Factory struct {
	// Configure, if set, runs on every new client.
	Configure func(*Client)

	mu      sync.Mutex
	clients []*Client
	changed chan struct{}
}

// New implements whatsapp.ClientFactory.
func (f *Factory) New(device *store.Device, _ waLog.Logger) whatsapp.Client {
	c := NewClient(device)
	if f.Configure != nil {
		f.Configure(c)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients = append(f.clients, c)
	if f.changed != nil {
		close(f.changed)
	}
	f.changed = make(chan struct{})
	return c
}

// Clients returns the clients made so far.
func (f *Factory) Clients() []*Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Client(nil), f.clients...)
}

// Client waits until the factory has made n+1 clients and returns the
// n-th (from 0).
func (f *Factory) Client(ctx context.Context, n int) (*Client, error) {
	for {
		f.mu.Lock()
		if len(f.clients) > n {
			c := f.clients[n]
			f.mu.Unlock()
			return c, nil
		}
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("whatsapptest: waiting for client %d: %w", n, ctx.Err())
		}
	}
}

func (c *Client) record(call string) {
	c.calls = append(c.calls, call)
	close(c.changed)
	c.changed = make(chan struct{})
}

// Lock guards the configuration fields while the adapter runs.
func (c *Client) Lock() { c.mu.Lock() }

// Unlock ends Lock.
func (c *Client) Unlock() { c.mu.Unlock() }

// Calls lists the methods called so far, in order.
func (c *Client) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// WaitCall waits until method has been called n times in all.
func (c *Client) WaitCall(ctx context.Context, method string, n int) error {
	for {
		c.mu.Lock()
		count := 0
		for _, m := range c.calls {
			if m == method {
				count++
			}
		}
		ch := c.changed
		c.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("whatsapptest: waiting for %d calls of %s: %w", n, method, ctx.Err())
		}
	}
}

// AddEventHandlerWithSuccessStatus implements whatsapp.Client.
func (c *Client) AddEventHandlerWithSuccessStatus(fn whatsmeow.EventHandlerWithSuccessStatus) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextHandler++
	c.handlers = append(c.handlers, handler{c.nextHandler, fn})
	return c.nextHandler
}

// RemoveEventHandler implements whatsapp.Client.
func (c *Client) RemoveEventHandler(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, h := range c.handlers {
		if h.id == id {
			c.handlers = append(c.handlers[:i], c.handlers[i+1:]...)
			return true
		}
	}
	return false
}

// Dispatch delivers an event to the handlers, one event at a time as
// whatsmeow does, and reports whether every handler took it (false: a real
// client would not acknowledge the message).
func (c *Client) Dispatch(evt any) bool {
	c.dispatchMu.Lock()
	defer c.dispatchMu.Unlock()
	if m, ok := evt.(*events.Message); ok && m != nil && c.Device.MsgSecrets != nil {
		// whatsmeow keeps the secret of each message it decrypts (polls,
		// events), with which later votes are decrypted.
		if secret := m.Message.GetMessageContextInfo().GetMessageSecret(); len(secret) > 0 {
			_ = c.Device.MsgSecrets.PutMessageSecret(context.Background(), m.Info.Chat, m.Info.Sender, m.Info.ID, secret)
		}
	}
	c.mu.Lock()
	hs := append([]handler(nil), c.handlers...)
	c.mu.Unlock()
	for _, h := range hs {
		if !h.fn(evt) {
			return false
		}
	}
	return true
}

// Connect implements whatsapp.Client. A linked device "authenticates" and
// gets events.Connected (from another goroutine, as with whatsmeow); a new
// device gets its first QR code on the QR channel.
func (c *Client) Connect() error {
	c.mu.Lock()
	c.record("Connect")
	c.connects++
	if c.ConnectErr != nil {
		err := c.ConnectErr
		c.mu.Unlock()
		return err
	}
	if c.connected {
		c.mu.Unlock()
		return whatsmeow.ErrAlreadyConnected
	}
	c.connected = true
	linked := c.Device.ID != nil
	c.loggedIn = linked
	var evt any = &events.Connected{}
	if c.ConnectEvent != nil {
		// WhatsApp refuses after the socket opened: whatsmeow's Connect
		// succeeds, then the refusal arrives as an event.
		evt, c.connected, c.loggedIn = c.ConnectEvent, false, false
	}
	c.mu.Unlock()
	if linked {
		go c.Dispatch(evt)
		return nil
	}
	c.QR("QR-CODE-1", 60*time.Second)
	return nil
}

// Disconnect implements whatsapp.Client.
func (c *Client) Disconnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("Disconnect")
	c.connected, c.loggedIn = false, false
}

// IsConnected implements whatsapp.Client.
func (c *Client) IsConnected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

// IsLoggedIn implements whatsapp.Client.
func (c *Client) IsLoggedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loggedIn
}

// Logout implements whatsapp.Client: like whatsmeow it needs the
// connection, then deletes the device from the store.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	c.record("Logout")
	connected := c.connected
	c.mu.Unlock()
	if !connected {
		return fmt.Errorf("error sending logout request: %w", whatsmeow.ErrNotConnected)
	}
	c.Disconnect()
	return c.Device.Delete(ctx)
}

// GetQRChannel implements whatsapp.Client.
func (c *Client) GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("GetQRChannel")
	if c.connected {
		return nil, whatsmeow.ErrQRAlreadyConnected
	}
	if c.Device.ID != nil {
		return nil, whatsmeow.ErrQRStoreContainsID
	}
	c.qr = make(chan whatsmeow.QRChannelItem, 64)
	ch := c.qr
	go func() {
		<-ctx.Done()
		c.closeQR(whatsmeow.QRChannelItem{})
	}()
	return ch, nil
}

// QR shows the next QR code on the QR channel (WhatsApp rotates them).
func (c *Client) QR(code string, timeout time.Duration) {
	c.QRItem(whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: code, Timeout: timeout})
}

// QRItem puts any item on the QR channel; final items close it.
func (c *Client) QRItem(item whatsmeow.QRChannelItem) {
	switch item.Event {
	case whatsmeow.QRChannelEventCode, whatsmeow.QRChannelEventPasskeyRequest, whatsmeow.QRChannelEventPasskeyResponse,
		whatsmeow.QRChannelScannedWithoutMultidevice.Event:
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.qr != nil && !c.qrClosed {
			c.qr <- item
		}
		return
	}
	c.closeQR(item)
}

// closeQR sends a final item (if any) and closes the channel.
func (c *Client) closeQR(final whatsmeow.QRChannelItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.qr == nil || c.qrClosed {
		return
	}
	if final.Event != "" {
		c.qr <- final
	}
	c.qrClosed = true
	close(c.qr)
}

// PairSuccess plays the phone accepting the link: the device gets the
// identity of phone (digits, or "+digits") and lid (digits, may be
// empty), is saved in its store like whatsmeow does, the QR channel says
// success, and the client reconnects and reports events.Connected.
func (c *Client) PairSuccess(ctx context.Context, phone, lid string) error {
	phone = strings.TrimPrefix(phone, "+")
	// The device's identity is written under the lock Connect reads it
	// under (a login may connect the client meanwhile).
	c.mu.Lock()
	dev := c.PairDevice
	if dev == 0 {
		dev = 7
	}
	jid := types.JID{User: phone, Device: dev, Server: types.DefaultUserServer}
	c.Device.ID = &jid
	if lid != "" {
		c.Device.LID = types.JID{User: lid, Device: dev, Server: types.HiddenUserServer}
	}
	c.Device.PushName = "Owner"
	c.Device.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	c.mu.Unlock()
	if err := c.Device.Save(ctx); err != nil {
		return fmt.Errorf("whatsapptest: saving the paired device: %w", err)
	}
	if lid != "" && c.Device.LIDs != nil {
		if err := c.Device.LIDs.PutLIDMapping(ctx, c.Device.LID.ToNonAD(), jid.ToNonAD()); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.loggedIn = true
	c.mu.Unlock()
	c.QRItem(whatsmeow.QRChannelSuccess)
	// Handled before PairSuccess returns: dispatched on a goroutine, the
	// event could reach the session that takes the device over long after
	// the login, and look like a new connection to a test that moved on.
	c.Dispatch(&events.Connected{})
	return nil
}

// PairPhone implements whatsapp.Client.
func (c *Client) PairPhone(_ context.Context, phone string, _ bool, clientType whatsmeow.PairClientType, name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("PairPhone")
	c.pairedPhones = append(c.pairedPhones, phone+"|"+string(clientType)+"|"+name)
	if c.PairErr != nil {
		return "", c.PairErr
	}
	if !c.connected {
		return "", whatsmeow.ErrNotConnected
	}
	if c.PairCode == "" {
		return "ABCD-EFGH", nil
	}
	return c.PairCode, nil
}

// PairedPhones lists PairPhone's arguments as "phone|clientType|name".
func (c *Client) PairedPhones() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.pairedPhones...)
}

// SendPasskeyConfirmation implements whatsapp.Client.
func (c *Client) SendPasskeyConfirmation(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SendPasskeyConfirmation")
	return nil
}

// GenerateMessageID implements whatsapp.Client with predictable ids.
func (c *Client) GenerateMessageID() types.MessageID {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idSeq++
	return fmt.Sprintf("3EB0%016X", c.idSeq)
}

// SendMessage implements whatsapp.Client: it records a copy of message.
func (c *Client) SendMessage(_ context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SendMessage")
	if c.SendErr != nil {
		return whatsmeow.SendResponse{}, c.SendErr
	}
	if !c.connected {
		return whatsmeow.SendResponse{}, whatsmeow.ErrNotConnected
	}
	var id types.MessageID
	if len(extra) > 0 {
		id = extra[0].ID
	}
	if id == "" {
		c.idSeq++
		id = fmt.Sprintf("3EB0%016X", c.idSeq)
	}
	c.sent = append(c.sent, Sent{To: to, Message: proto.Clone(message).(*waE2E.Message), ID: id})
	return whatsmeow.SendResponse{ID: id, Timestamp: time.Now()}, nil
}

// Sent returns the messages sent so far.
func (c *Client) Sent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sent(nil), c.sent...)
}

// BuildEdit implements whatsapp.Client with whatsmeow's own builder.
func (c *Client) BuildEdit(chat types.JID, id types.MessageID, newContent *waE2E.Message) *waE2E.Message {
	return c.builder.BuildEdit(chat, id, newContent)
}

// BuildRevoke implements whatsapp.Client with whatsmeow's own builder.
func (c *Client) BuildRevoke(chat, sender types.JID, id types.MessageID) *waE2E.Message {
	return c.builder.BuildRevoke(chat, sender, id)
}

// BuildReaction implements whatsapp.Client with whatsmeow's own builder.
func (c *Client) BuildReaction(chat, sender types.JID, id types.MessageID, reaction string) *waE2E.Message {
	return c.builder.BuildReaction(chat, sender, id, reaction)
}

// UploadReader implements whatsapp.Client: it records the plaintext and
// answers with predictable keys and paths.
func (c *Client) UploadReader(_ context.Context, plaintext io.Reader, _ io.ReadWriteSeeker, appInfo whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	data, err := io.ReadAll(plaintext)
	if err != nil {
		return whatsmeow.UploadResponse{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("UploadReader")
	if !c.connected {
		return whatsmeow.UploadResponse{}, whatsmeow.ErrNotConnected
	}
	c.uploads = append(c.uploads, Upload{Type: appInfo, Data: data})
	// Everything derives from the content, so that goldens do not depend
	// on the order of uploads.
	sum := sha256.Sum256(data)
	key := sha256.Sum256(append([]byte("key"), data...))
	enc := sha256.Sum256(append([]byte("enc"), data...))
	return whatsmeow.UploadResponse{
		URL:           fmt.Sprintf("https://mmg.whatsapp.net/v/fake/%x", sum[:4]),
		DirectPath:    fmt.Sprintf("/v/fake/%x", sum[:4]),
		MediaKey:      key[:],
		FileEncSHA256: enc[:],
		FileSHA256:    sum[:],
		FileLength:    uint64(len(data)),
	}, nil
}

// Uploads returns the files uploaded so far.
func (c *Client) Uploads() []Upload {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Upload(nil), c.uploads...)
}

// DownloadToFile implements whatsapp.Client from Media.
func (c *Client) DownloadToFile(ctx context.Context, msg whatsmeow.DownloadableMessage, file whatsmeow.File) error {
	c.mu.Lock()
	c.record("DownloadToFile")
	data, ok := c.Media[msg.GetDirectPath()]
	merr := c.MediaErr[msg.GetDirectPath()]
	gate := c.MediaGate[msg.GetDirectPath()]
	c.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if merr != nil {
		return merr
	}
	if !ok {
		return whatsmeow.ErrMediaDownloadFailedWith404
	}
	_, err := io.Copy(file, bytes.NewReader(data))
	return err
}

// MarkRead implements whatsapp.Client.
func (c *Client) MarkRead(_ context.Context, ids []types.MessageID, _ time.Time, chat, sender types.JID, _ ...types.ReceiptType) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("MarkRead")
	if len(ids) == 0 {
		return errors.New("no message IDs specified")
	}
	c.reads = append(c.reads, Read{IDs: append([]types.MessageID(nil), ids...), Chat: chat, Sender: sender})
	return nil
}

// Reads returns the MarkRead calls so far.
func (c *Client) Reads() []Read {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Read(nil), c.reads...)
}

// SendPresence implements whatsapp.Client; like whatsmeow it refuses
// while the device has no push name (before the first app-state sync).
func (c *Client) SendPresence(_ context.Context, state types.Presence) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SendPresence")
	if c.Device.PushName == "" {
		return whatsmeow.ErrNoPushName
	}
	c.presences = append(c.presences, state)
	return nil
}

// Presences returns the SendPresence calls so far.
func (c *Client) Presences() []types.Presence {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]types.Presence(nil), c.presences...)
}

// SendChatPresence implements whatsapp.Client.
func (c *Client) SendChatPresence(_ context.Context, jid types.JID, state types.ChatPresence, _ types.ChatPresenceMedia) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SendChatPresence")
	c.chatPresences = append(c.chatPresences, ChatPresence{To: jid, State: state})
	return nil
}

// ChatPresences returns the SendChatPresence calls so far.
func (c *Client) ChatPresences() []ChatPresence {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ChatPresence(nil), c.chatPresences...)
}

// SubscribePresence implements whatsapp.Client.
func (c *Client) SubscribePresence(_ context.Context, jid types.JID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SubscribePresence")
	c.subscribed = append(c.subscribed, jid)
	return nil
}

// IsOnWhatsApp implements whatsapp.Client from OnWhatsApp.
func (c *Client) IsOnWhatsApp(_ context.Context, phones []string) ([]types.IsOnWhatsAppResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("IsOnWhatsApp")
	out := make([]types.IsOnWhatsAppResponse, 0, len(phones))
	for _, p := range phones {
		jid, ok := c.OnWhatsApp[p]
		r := types.IsOnWhatsAppResponse{Query: p, IsIn: ok}
		if ok {
			r.JID = jid
		} else {
			r.JID = types.NewJID(strings.TrimPrefix(p, "+"), types.DefaultUserServer)
		}
		out = append(out, r)
	}
	return out, nil
}

// GetProfilePictureInfo implements whatsapp.Client from Pictures, for a
// user's or a group's JID. As WhatsApp does, it answers nil (unchanged)
// when params.ExistingID is the current picture's id.
func (c *Client) GetProfilePictureInfo(_ context.Context, jid types.JID, params *whatsmeow.GetProfilePictureParams) (*types.ProfilePictureInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("GetProfilePictureInfo")
	p, ok := c.Pictures[jid]
	switch {
	case !ok:
		return nil, whatsmeow.ErrProfilePictureNotSet
	case params != nil && params.ExistingID != "" && params.ExistingID == p.ID:
		return nil, nil
	}
	return p, nil
}

// SetPicture sets (nil: removes) the picture of a user or group as
// GetProfilePictureInfo reports it.
func (c *Client) SetPicture(jid types.JID, p *types.ProfilePictureInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p == nil {
		delete(c.Pictures, jid)
		return
	}
	if c.Pictures == nil {
		c.Pictures = map[types.JID]*types.ProfilePictureInfo{}
	}
	c.Pictures[jid] = p
}

// ParticipantUpdate is one call of UpdateGroupParticipants.
type ParticipantUpdate struct {
	Group  types.JID
	Users  []types.JID
	Action whatsmeow.ParticipantChange
}

// TopicChange is one call of SetGroupTopic.
type TopicChange struct {
	Group types.JID
	Topic string
}

// SetGroups scripts the groups the account belongs to (GetJoinedGroups,
// GetGroupInfo answer from them; the group changes below update them).
func (c *Client) SetGroups(groups ...*types.GroupInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups = map[types.JID]*types.GroupInfo{}
	c.groupOrder = nil
	for _, g := range groups {
		c.groups[g.JID] = cloneGroup(g)
		c.groupOrder = append(c.groupOrder, g.JID)
	}
}

func cloneGroup(g *types.GroupInfo) *types.GroupInfo {
	cp := *g
	cp.Participants = append([]types.GroupParticipant(nil), g.Participants...)
	return &cp
}

// ParticipantUpdates returns the UpdateGroupParticipants calls so far.
func (c *Client) ParticipantUpdates() []ParticipantUpdate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ParticipantUpdate(nil), c.participantUpdates...)
}

// TopicChanges returns the SetGroupTopic calls so far.
func (c *Client) TopicChanges() []TopicChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]TopicChange(nil), c.topicChanges...)
}

// GroupsLeft returns the groups LeaveGroup was called for.
func (c *Client) GroupsLeft() []types.JID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]types.JID(nil), c.left...)
}

// GroupsCreated returns the CreateGroup requests so far.
func (c *Client) GroupsCreated() []whatsmeow.ReqCreateGroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]whatsmeow.ReqCreateGroup(nil), c.created...)
}

// learnLIDs stores the LID ↔ phone-number pairs of a group's
// participants in the device's LID map, as whatsmeow does whenever it
// reads a group.
func (c *Client) learnLIDs(ctx context.Context, g *types.GroupInfo) {
	if c.Device == nil || c.Device.LIDs == nil {
		return
	}
	for _, p := range g.Participants {
		if !p.LID.IsEmpty() && !p.PhoneNumber.IsEmpty() {
			_ = c.Device.LIDs.PutLIDMapping(ctx, p.LID.ToNonAD(), p.PhoneNumber.ToNonAD())
		}
	}
}

// group returns a scripted group (c.mu held), or WhatsApp's errors.
func (c *Client) group(jid types.JID) (*types.GroupInfo, error) {
	if c.GroupErr != nil {
		return nil, c.GroupErr
	}
	if !c.connected {
		return nil, whatsmeow.ErrNotConnected
	}
	g, ok := c.groups[jid]
	if !ok {
		return nil, fmt.Errorf("%w: %w", whatsmeow.ErrGroupNotFound, whatsmeow.ErrIQNotFound)
	}
	return g, nil
}

// GetJoinedGroups implements whatsapp.Client from SetGroups; like
// whatsmeow, it records the participants' LID ↔ phone-number pairs.
func (c *Client) GetJoinedGroups(ctx context.Context) ([]*types.GroupInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("GetJoinedGroups")
	if c.GroupErr != nil {
		return nil, c.GroupErr
	}
	if !c.connected {
		return nil, whatsmeow.ErrNotConnected
	}
	out := make([]*types.GroupInfo, 0, len(c.groupOrder))
	for _, jid := range c.groupOrder {
		if g, ok := c.groups[jid]; ok {
			c.learnLIDs(ctx, g)
			out = append(out, cloneGroup(g))
		}
	}
	return out, nil
}

// GetGroupInfo implements whatsapp.Client from SetGroups; like whatsmeow,
// it records the participants' LID ↔ phone-number pairs.
func (c *Client) GetGroupInfo(ctx context.Context, jid types.JID) (*types.GroupInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("GetGroupInfo")
	g, err := c.group(jid)
	if err != nil {
		return nil, err
	}
	c.learnLIDs(ctx, g)
	return cloneGroup(g), nil
}

// SetGroupTopic implements whatsapp.Client: it records the change and
// updates the scripted group.
func (c *Client) SetGroupTopic(_ context.Context, jid types.JID, _, _, topic string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SetGroupTopic")
	g, err := c.group(jid)
	if err != nil {
		return err
	}
	c.topicChanges = append(c.topicChanges, TopicChange{Group: jid, Topic: topic})
	g.Topic, g.TopicDeleted = topic, topic == ""
	return nil
}

// UpdateGroupParticipants implements whatsapp.Client: it records the
// change and applies it to the scripted group.
func (c *Client) UpdateGroupParticipants(_ context.Context, jid types.JID, users []types.JID, action whatsmeow.ParticipantChange) ([]types.GroupParticipant, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("UpdateGroupParticipants")
	g, err := c.group(jid)
	if err != nil {
		return nil, err
	}
	c.participantUpdates = append(c.participantUpdates, ParticipantUpdate{Group: jid, Users: append([]types.JID(nil), users...), Action: action})
	var out []types.GroupParticipant
	for _, u := range users {
		i := -1
		for k, p := range g.Participants {
			if p.JID == u || p.PhoneNumber == u || p.LID == u {
				i = k
			}
		}
		switch {
		case action == whatsmeow.ParticipantChangeAdd && i < 0:
			g.Participants = append(g.Participants, types.GroupParticipant{JID: u})
			i = len(g.Participants) - 1
		case i < 0:
			out = append(out, types.GroupParticipant{JID: u, Error: 404})
			continue
		case action == whatsmeow.ParticipantChangeRemove:
			p := g.Participants[i]
			g.Participants = append(g.Participants[:i], g.Participants[i+1:]...)
			out = append(out, p)
			continue
		case action == whatsmeow.ParticipantChangePromote:
			g.Participants[i].IsAdmin = true
		case action == whatsmeow.ParticipantChangeDemote:
			g.Participants[i].IsAdmin = false
		}
		out = append(out, g.Participants[i])
	}
	return out, nil
}

// LeaveGroup implements whatsapp.Client.
func (c *Client) LeaveGroup(_ context.Context, jid types.JID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("LeaveGroup")
	if _, err := c.group(jid); err != nil {
		return err
	}
	c.left = append(c.left, jid)
	delete(c.groups, jid)
	return nil
}

// CreateGroup implements whatsapp.Client: the new group gets a
// predictable JID, the owner as its super-admin and the participants.
func (c *Client) CreateGroup(_ context.Context, req whatsmeow.ReqCreateGroup) (*types.GroupInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("CreateGroup")
	if c.GroupErr != nil {
		return nil, c.GroupErr
	}
	if !c.connected {
		return nil, whatsmeow.ErrNotConnected
	}
	c.created = append(c.created, req)
	g := &types.GroupInfo{JID: types.NewJID(fmt.Sprintf("1203630000%08d", len(c.created)), types.GroupServer)}
	g.Name = req.Name
	if c.Device.ID != nil {
		g.Participants = append(g.Participants, types.GroupParticipant{JID: c.Device.ID.ToNonAD(), IsAdmin: true, IsSuperAdmin: true})
	}
	for _, p := range req.Participants {
		g.Participants = append(g.Participants, types.GroupParticipant{JID: p})
	}
	if c.groups == nil {
		c.groups = map[types.JID]*types.GroupInfo{}
	}
	c.groups[g.JID] = g
	c.groupOrder = append(c.groupOrder, g.JID)
	return cloneGroup(g), nil
}
