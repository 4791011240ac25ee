package xmppcomponent

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Hub is what the translation needs of the hub: the use cases that stanzas
// turn into, and what it reads to build answers. It is declared here, on
// the consumer side, so that the translation is tested with a fake hub;
// HubOf adapts the production *gateway.Gateway.
//
// Every method takes the platform the component fronts; errors are the
// hub's sentinel errors (gateway.ErrNotLinked, ...), which errors.go maps
// to stanza errors.
type Hub interface {
	// SetPlatformFrontend attaches the component as the frontend of the
	// platform it fronts (the hub may serve other platforms through other
	// components), and FrontendConnected tells the hub that the XMPP link
	// is (again) up.
	SetPlatformFrontend(platform ids.PlatformID, f gateway.Frontend)
	FrontendConnected()

	// PlatformInfo describes the platform's adapter, and LoginFlows lists
	// its ways to link an account.
	PlatformInfo(platform ids.PlatformID) (gateway.Info, bool)
	LoginFlows(platform ids.PlatformID) []gateway.LoginFlow

	// Accounts and linking.
	Account(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (store.Account, error)
	Register(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error
	Unregister(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error
	Unlink(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error
	StartLogin(ctx context.Context, owner ids.Owner, platform ids.PlatformID, flow string) (LoginRun, gateway.LoginStep, error)
	Login(owner ids.Owner, platform ids.PlatformID) (LoginRun, bool)

	// What a chat can do.
	Capabilities(owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) (gateway.Capabilities, bool)
	HasGroups(owner ids.Owner, platform ids.PlatformID) bool

	// Contacts.
	Contact(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (store.Contact, error)
	Contacts(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]store.Contact, error)
	SetSubscribed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID, subscribed bool) error
	ResolveUser(ctx context.Context, owner ids.Owner, platform ids.PlatformID, input string) (ids.UserID, error)
	Avatar(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (gateway.Avatar, error)
	GroupAvatar(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) (gateway.Avatar, error)

	// Messaging, XMPP → platform. AdmitMessage is the cheap check of a
	// new message on the read path (admit.go); FrontAdmitMessage its
	// part a sharded front makes, AdmitMessageRated the rest, at the
	// worker (admit_front.go).
	AdmitMessage(owner ids.Owner, platform ids.PlatformID, bodyBytes, attachments int) error
	FrontAdmitMessage(owner ids.Owner, bodyBytes, attachments int) error
	AdmitMessageRated(owner ids.Owner, platform ids.PlatformID, bodyBytes, attachments int) error
	SendMessage(ctx context.Context, owner ids.Owner, platform ids.PlatformID, msg *event.Message, opts gateway.SendOptions) (ids.MessageID, error)
	EditMessage(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, targetXMPPID, body, xmppID string) error
	RetractMessage(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, targetXMPPID string) error
	React(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, targetXMPPID string, emojis []string) error
	SendReceipt(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, kind event.ReceiptKind, xmppIDs []string) error
	SendChatState(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, state event.ChatStateKind) error

	// Groups.
	Groups(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]gateway.GroupInfo, error)
	GroupInfo(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) (gateway.GroupInfo, error)
	CreateGroup(ctx context.Context, owner ids.Owner, platform ids.PlatformID, name string, members []ids.UserID) (ids.ChatID, error)
	LeaveGroup(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) error
	SetGroupTopic(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, topic string) error
	InviteMember(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, user ids.UserID) error
	KickMember(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, user ids.UserID) error
	SetMemberRole(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID, user ids.UserID, role gateway.GroupRole) error
}

// LoginRun is a login flow in progress; *gateway.LoginRun is the
// production one.
type LoginRun interface {
	// Last is the most recent step.
	Last() gateway.LoginStep
	// Submit answers the current step with the user's input.
	Submit(ctx context.Context, input map[string]string) (gateway.LoginStep, error)
	// Wait blocks until the flow moves on by itself (a QR code refreshed,
	// the link confirmed on the phone) or ctx is done.
	Wait(ctx context.Context) (gateway.LoginStep, error)
	// Cancel abandons the flow.
	Cancel()
}

// HubOf adapts the hub to the Hub the translation uses.
func HubOf(g *gateway.Gateway) Hub { return gatewayHub{g} }

// gatewayHub is *gateway.Gateway as a Hub: the methods whose types differ
// are wrapped, the rest are the hub's own.
type gatewayHub struct{ *gateway.Gateway }

var _ Hub = gatewayHub{}

func (h gatewayHub) PlatformInfo(platform ids.PlatformID) (gateway.Info, bool) {
	a, ok := h.Adapter(platform)
	if !ok {
		return gateway.Info{}, false
	}
	return a.Info(), true
}

func (h gatewayHub) LoginFlows(platform ids.PlatformID) []gateway.LoginFlow {
	a, ok := h.Adapter(platform)
	if !ok {
		return nil
	}
	return a.LoginFlows()
}

func (h gatewayHub) StartLogin(ctx context.Context, owner ids.Owner, platform ids.PlatformID, flow string) (LoginRun, gateway.LoginStep, error) {
	run, step, err := h.Gateway.StartLogin(ctx, owner, platform, flow)
	if run == nil {
		return nil, step, err // no typed nil in the interface
	}
	return run, step, err
}

func (h gatewayHub) Login(owner ids.Owner, platform ids.PlatformID) (LoginRun, bool) {
	run, ok := h.Gateway.Login(owner, platform)
	if !ok || run == nil {
		return nil, false
	}
	return run, true
}
