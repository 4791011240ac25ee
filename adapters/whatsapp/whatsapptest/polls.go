package whatsapptest

import (
	"context"
	"fmt"
	"path/filepath"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// DecryptPollVote implements whatsapp.Client with whatsmeow's own
// decryption, from the message secrets Dispatch stored in the device
// store as whatsmeow does.
func (c *Client) DecryptPollVote(ctx context.Context, vote *events.Message) (*waE2E.PollVoteMessage, error) {
	c.mu.Lock()
	c.record("DecryptPollVote")
	c.mu.Unlock()
	return c.builder.DecryptPollVote(ctx, vote)
}

// Poll is a poll message as a WhatsApp app creates it: its options and
// the random secret votes are encrypted with.
func Poll(question string, secret []byte, options ...string) *waE2E.Message {
	p := &waE2E.PollCreationMessage{Name: proto.String(question), SelectableOptionsCount: proto.Uint32(1)}
	for _, o := range options {
		p.Options = append(p.Options, &waE2E.PollCreationMessage_Option{OptionName: proto.String(o)})
	}
	return &waE2E.Message{PollCreationMessage: p, MessageContextInfo: &waE2E.MessageContextInfo{MessageSecret: secret}}
}

// Voter is another WhatsApp user's app, which votes on polls: a whatsmeow
// client of its own on a device store in dir, knowing the polls' secrets.
type Voter struct {
	client *whatsmeow.Client
}

// NewVoter makes the app of voter (a phone-number JID).
func NewVoter(ctx context.Context, dir string, voter types.JID) (*Voter, error) {
	container, err := sqlstore.New(ctx, "sqlite", "file:"+filepath.Join(dir, "voter.db")+"?_pragma=foreign_keys(1)", nil)
	if err != nil {
		return nil, fmt.Errorf("whatsapptest: voter store: %w", err)
	}
	dev := container.NewDevice()
	id := voter
	dev.ID = &id
	dev.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	if err := dev.Save(ctx); err != nil { // gives the device its stores
		return nil, fmt.Errorf("whatsapptest: voter device: %w", err)
	}
	return &Voter{client: whatsmeow.NewClient(dev, nil)}, nil
}

// Vote builds the vote message for the poll described by info (its
// chat, creator and id; the voter saw it with its secret) picking options.
func (v *Voter) Vote(ctx context.Context, info types.MessageInfo, secret []byte, options ...string) (*waE2E.Message, error) {
	if err := v.client.Store.MsgSecrets.PutMessageSecret(ctx, info.Chat, info.Sender, info.ID, secret); err != nil {
		return nil, err
	}
	return v.client.BuildPollVote(ctx, &info, options)
}
