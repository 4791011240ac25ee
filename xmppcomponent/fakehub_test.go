package xmppcomponent

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// fakeHub is a Hub that keeps a little state (accounts, contacts, groups,
// capabilities), records every use case called on it as a line, and fails
// the methods it is told to fail. The stanza scripts (script_test.go) set
// it up with directives and show its calls in their golden files.
type fakeHub struct {
	mu       sync.Mutex
	calls    []string
	info     gateway.Info
	flows    []gateway.LoginFlow
	accounts map[ids.Owner]store.Account
	contacts map[ids.Owner]map[ids.UserID]store.Contact
	groups   map[ids.Owner]map[ids.ChatID]gateway.GroupInfo
	caps     gateway.Capabilities
	fail     map[string]error
	frontend gateway.Frontend
	logins   map[ids.Owner]*fakeLogin
	// nextID numbers the platform ids SendMessage and CreateGroup mint.
	nextID int
	// sendOpts are the options of each SendMessage call, in order.
	sendOpts []gateway.SendOptions
	// admitErr is what AdmitMessage and FrontAdmitMessage answer,
	// ratedErr what AdmitMessageRated answers.
	admitErr, ratedErr error
	// admissions names each admission method called, in order.
	admissions []string
	// sendGate, if set, holds every SendMessage until it is closed.
	sendGate chan struct{}
}

const fakePlatform ids.PlatformID = "sandbox"

func newFakeHub() *fakeHub {
	return &fakeHub{
		info: gateway.Info{ID: fakePlatform, Name: "Sandbox", GatewayType: "sandbox", UserPrompt: "Phone number"},
		flows: []gateway.LoginFlow{
			{ID: "qr", Name: "QR code"},
			{ID: "code", Name: "Pairing code"},
		},
		accounts: make(map[ids.Owner]store.Account),
		contacts: make(map[ids.Owner]map[ids.UserID]store.Contact),
		groups:   make(map[ids.Owner]map[ids.ChatID]gateway.GroupInfo),
		caps: gateway.Capabilities{
			Receipts: true, ReadMarkers: true, ChatStates: true, Edits: true, Retractions: true,
			Reactions: true, Replies: true, MaxFileSize: 1 << 20,
		},
		fail:   make(map[string]error),
		logins: make(map[ids.Owner]*fakeLogin),
	}
}

// record notes a call: its method and arguments, strings quoted.
func (h *fakeHub) record(method string, args ...any) error {
	parts := make([]string, 0, len(args)+1)
	parts = append(parts, method)
	for _, a := range args {
		switch v := a.(type) {
		case string, ids.Owner, ids.UserID, ids.ChatID, ids.MessageID, ids.PlatformID:
			parts = append(parts, fmt.Sprintf("%q", v))
		case []string, []ids.UserID:
			b, _ := json.Marshal(v)
			parts = append(parts, string(b))
		case *event.Message:
			b, _ := json.Marshal(messageSummary(v))
			parts = append(parts, string(b))
		default:
			parts = append(parts, fmt.Sprintf("%v", v))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, strings.Join(parts, " "))
	return h.fail[method]
}

// messageSummary is what a script shows of a message sent to the hub.
func messageSummary(m *event.Message) map[string]any {
	s := map[string]any{"chat": m.Chat}
	if m.Body != "" {
		s["body"] = m.Body
	}
	if m.ReplyTo != "" {
		s["reply_to"] = m.ReplyTo
	}
	if len(m.Mentions) > 0 {
		s["mentions"] = m.Mentions
	}
	for _, a := range m.Attachments {
		s["files"] = append(asSlice(s["files"]), map[string]any{"name": a.Name, "type": a.MIMEType, "size": a.Size, "url": a.URL})
	}
	return s
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func (h *fakeHub) takeCalls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls
	h.calls = nil
	return c
}

func (h *fakeHub) SetPlatformFrontend(_ ids.PlatformID, f gateway.Frontend) {
	h.mu.Lock()
	h.frontend = f
	h.mu.Unlock()
}

func (h *fakeHub) FrontendConnected() { _ = h.record("FrontendConnected") }

func (h *fakeHub) PlatformInfo(p ids.PlatformID) (gateway.Info, bool) {
	return h.info, p == h.info.ID
}

func (h *fakeHub) LoginFlows(ids.PlatformID) []gateway.LoginFlow { return h.flows }

func (h *fakeHub) Account(_ context.Context, owner ids.Owner, _ ids.PlatformID) (store.Account, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.fail["Account"]; err != nil {
		return store.Account{}, err
	}
	a, ok := h.accounts[owner]
	if !ok {
		return store.Account{}, gateway.ErrNotRegistered // as the hub says it
	}
	return a, nil
}

// linked returns owner's account if it is linked, else ErrNotLinked.
func (h *fakeHub) linked(owner ids.Owner) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.accounts[owner]; ok && a.ID != "" {
		return nil
	}
	return gateway.ErrNotLinked
}

func (h *fakeHub) Register(_ context.Context, owner ids.Owner, p ids.PlatformID) error {
	if err := h.record("Register", owner); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.accounts[owner]; !ok {
		h.accounts[owner] = store.Account{Owner: owner, Platform: p}
	}
	return nil
}

func (h *fakeHub) Unregister(_ context.Context, owner ids.Owner, _ ids.PlatformID) error {
	if err := h.record("Unregister", owner); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.accounts[owner]; !ok {
		return gateway.ErrNotRegistered // as the hub's Unregister
	}
	delete(h.accounts, owner)
	return nil
}

func (h *fakeHub) Unlink(_ context.Context, owner ids.Owner, _ ids.PlatformID) error {
	if err := h.record("Unlink", owner); err != nil {
		return err
	}
	if err := h.linked(owner); err != nil {
		return err
	}
	h.mu.Lock()
	a := h.accounts[owner]
	account := a.ID
	a.ID, a.State = "", event.StateLoggedOut
	h.accounts[owner] = a
	f := h.frontend
	h.mu.Unlock()
	// As the hub's Unlink: the frontend is told.
	if f != nil {
		ev := &event.AccountState{Meta: event.Meta{Account: account}, State: event.StateUnlinked}
		return f.Deliver(context.Background(), gateway.Delivery{Owner: owner, Platform: fakePlatform, Event: ev})
	}
	return nil
}

func (h *fakeHub) StartLogin(_ context.Context, owner ids.Owner, p ids.PlatformID, flow string) (LoginRun, gateway.LoginStep, error) {
	if err := h.record("StartLogin", owner, flow); err != nil {
		return nil, gateway.LoginStep{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.accounts[owner]; !ok {
		h.accounts[owner] = store.Account{Owner: owner, Platform: p}
	}
	if old := h.logins[owner]; old != nil {
		old.cancelled = true
	}
	l := newFakeLogin(h, owner)
	h.logins[owner] = l
	return l, l.Last(), nil
}

func (h *fakeHub) Login(owner ids.Owner, _ ids.PlatformID) (LoginRun, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.logins[owner]
	if !ok || l.cancelled || l.done {
		return nil, false
	}
	return l, true
}

func (h *fakeHub) Capabilities(owner ids.Owner, _ ids.PlatformID, _ ids.ChatID) (gateway.Capabilities, bool) {
	if h.linked(owner) != nil {
		return gateway.Capabilities{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.caps, true
}

func (h *fakeHub) IsGroup(owner ids.Owner, _ ids.PlatformID, chat ids.ChatID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.groups[owner][chat]
	return ok
}

func (h *fakeHub) HasGroups(owner ids.Owner, _ ids.PlatformID) bool {
	if h.linked(owner) != nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.groups[owner] != nil
}

func (h *fakeHub) Contact(_ context.Context, owner ids.Owner, _ ids.PlatformID, user ids.UserID) (store.Contact, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.contacts[owner][user]
	if !ok {
		return store.Contact{}, fmt.Errorf("contact %s: %w", user, gateway.ErrUnknownChat) // as the hub says it
	}
	return c, nil
}

func (h *fakeHub) Contacts(_ context.Context, owner ids.Owner, _ ids.PlatformID) ([]store.Contact, error) {
	// As the hub's: what the store holds, linked or not.
	if err := h.record("Contacts", owner); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []store.Contact
	for _, c := range h.contacts[owner] {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].User < out[j].User })
	return out, nil
}

func (h *fakeHub) addContact(owner ids.Owner, c store.Contact) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.contacts[owner] == nil {
		h.contacts[owner] = make(map[ids.UserID]store.Contact)
	}
	c.Platform = fakePlatform
	h.contacts[owner][c.User] = c
}

func (h *fakeHub) SetOwnerPresence(_ context.Context, owner ids.Owner, _ ids.PlatformID, available bool) error {
	return h.record("SetOwnerPresence", owner, available)
}

func (h *fakeHub) SetSubscribed(_ context.Context, owner ids.Owner, _ ids.PlatformID, user ids.UserID, subscribed bool) error {
	if err := h.record("SetSubscribed", owner, user, subscribed); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.contacts[owner][user]; ok {
		c.Subscribed = subscribed
		h.contacts[owner][user] = c
	}
	return nil
}

func (h *fakeHub) ResolveUser(_ context.Context, owner ids.Owner, _ ids.PlatformID, input string) (ids.UserID, error) {
	if err := h.record("ResolveUser", owner, input); err != nil {
		return "", err
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, input)
	if digits == "" {
		return "", fmt.Errorf("%q is not a phone number: %w", input, gateway.ErrTargetNotFound)
	}
	return ids.UserID("+" + digits), nil
}

func (h *fakeHub) Avatar(_ context.Context, owner ids.Owner, _ ids.PlatformID, user ids.UserID) (gateway.Avatar, error) {
	if err := h.record("Avatar", owner, user); err != nil {
		return gateway.Avatar{}, err
	}
	return gateway.Avatar{}, gateway.ErrNotSupported
}

func (h *fakeHub) GroupAvatar(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID) (gateway.Avatar, error) {
	if err := h.record("GroupAvatar", owner, chat); err != nil {
		return gateway.Avatar{}, err
	}
	return gateway.Avatar{}, gateway.ErrNotSupported
}

func (h *fakeHub) mint(prefix string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	return fmt.Sprintf("%s%d", prefix, h.nextID)
}

func (h *fakeHub) AdmitMessage(owner ids.Owner, _ ids.PlatformID, _, _ int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.admissions = append(h.admissions, "AdmitMessage")
	return h.admitErr
}

func (h *fakeHub) FrontAdmitMessage(owner ids.Owner, _, _ int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.admissions = append(h.admissions, "FrontAdmitMessage")
	return h.admitErr
}

func (h *fakeHub) AdmitMessageRated(owner ids.Owner, _ ids.PlatformID, _, _ int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.admissions = append(h.admissions, "AdmitMessageRated")
	return h.ratedErr
}

func (h *fakeHub) SendMessage(_ context.Context, owner ids.Owner, _ ids.PlatformID, msg *event.Message, opts gateway.SendOptions) (ids.MessageID, error) {
	h.mu.Lock()
	h.sendOpts = append(h.sendOpts, opts)
	gate := h.sendGate
	h.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if err := h.record("SendMessage", owner, msg, opts.XMPPIDs); err != nil {
		return "", err
	}
	if err := h.linked(owner); err != nil {
		return "", err
	}
	return ids.MessageID(h.mint("P")), nil
}

func (h *fakeHub) EditMessage(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, target, body, xmppID string) error {
	if err := h.record("EditMessage", owner, chat, target, body, xmppID); err != nil {
		return err
	}
	return h.linked(owner)
}

func (h *fakeHub) RetractMessage(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, target string) error {
	if err := h.record("RetractMessage", owner, chat, target); err != nil {
		return err
	}
	return h.linked(owner)
}

func (h *fakeHub) React(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, target string, emojis []string) error {
	if err := h.record("React", owner, chat, target, emojis); err != nil {
		return err
	}
	return h.linked(owner)
}

func (h *fakeHub) SendReceipt(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, kind event.ReceiptKind, xmppIDs []string) error {
	if err := h.record("SendReceipt", owner, chat, kind, xmppIDs); err != nil {
		return err
	}
	return h.linked(owner)
}

func (h *fakeHub) SendChatState(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, state event.ChatStateKind) error {
	if err := h.record("SendChatState", owner, chat, state); err != nil {
		return err
	}
	return h.linked(owner)
}

func (h *fakeHub) Groups(_ context.Context, owner ids.Owner, _ ids.PlatformID) ([]gateway.GroupInfo, error) {
	if err := h.record("Groups", owner); err != nil {
		return nil, err
	}
	if err := h.linked(owner); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []gateway.GroupInfo
	for _, g := range h.groups[owner] {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Chat < out[j].Chat })
	return out, nil
}

func (h *fakeHub) GroupInfo(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID) (gateway.GroupInfo, error) {
	if err := h.record("GroupInfo", owner, chat); err != nil {
		return gateway.GroupInfo{}, err
	}
	if err := h.linked(owner); err != nil {
		return gateway.GroupInfo{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	g, ok := h.groups[owner][chat]
	if !ok {
		return gateway.GroupInfo{}, fmt.Errorf("group %s: %w", chat, gateway.ErrUnknownChat)
	}
	return g, nil
}

// addGroup makes a group known to owner (and owner able to use groups).
func (h *fakeHub) addGroup(owner ids.Owner, g gateway.GroupInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.groups[owner] == nil {
		h.groups[owner] = make(map[ids.ChatID]gateway.GroupInfo)
	}
	if g.Chat != "" {
		h.groups[owner][g.Chat] = g
	}
}

// updateGroup changes a known group of owner.
func (h *fakeHub) updateGroup(owner ids.Owner, chat ids.ChatID, f func(*gateway.GroupInfo)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	g, ok := h.groups[owner][chat]
	if !ok {
		return fmt.Errorf("group %s: %w", chat, gateway.ErrUnknownChat)
	}
	f(&g)
	h.groups[owner][chat] = g
	return nil
}

func (h *fakeHub) CreateGroup(_ context.Context, owner ids.Owner, _ ids.PlatformID, name string, members []ids.UserID) (ids.ChatID, error) {
	if err := h.record("CreateGroup", owner, name, members); err != nil {
		return "", err
	}
	if err := h.linked(owner); err != nil {
		return "", err
	}
	chat := ids.ChatID(h.mint("G"))
	g := gateway.GroupInfo{Chat: chat, Name: name, Self: "+15550009999",
		Members: []gateway.GroupMember{{User: "+15550009999", Role: gateway.RoleAdmin}}}
	for _, m := range members {
		g.Members = append(g.Members, gateway.GroupMember{User: m, Role: gateway.RoleMember})
	}
	h.addGroup(owner, g)
	return chat, nil
}

func (h *fakeHub) LeaveGroup(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID) error {
	if err := h.record("LeaveGroup", owner, chat); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.groups[owner][chat]; !ok {
		return fmt.Errorf("group %s: %w", chat, gateway.ErrUnknownChat)
	}
	delete(h.groups[owner], chat)
	return nil
}

func (h *fakeHub) SetGroupTopic(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, topic string) error {
	if err := h.record("SetGroupTopic", owner, chat, topic); err != nil {
		return err
	}
	return h.updateGroup(owner, chat, func(g *gateway.GroupInfo) { g.Topic = topic })
}

func (h *fakeHub) InviteMember(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, user ids.UserID) error {
	if err := h.record("InviteMember", owner, chat, user); err != nil {
		return err
	}
	return h.updateGroup(owner, chat, func(g *gateway.GroupInfo) {
		g.Members = append(g.Members, gateway.GroupMember{User: user, Role: gateway.RoleMember})
	})
}

func (h *fakeHub) KickMember(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, user ids.UserID) error {
	if err := h.record("KickMember", owner, chat, user); err != nil {
		return err
	}
	return h.updateGroup(owner, chat, func(g *gateway.GroupInfo) {
		kept := g.Members[:0]
		for _, m := range g.Members {
			if m.User != user {
				kept = append(kept, m)
			}
		}
		g.Members = kept
	})
}

func (h *fakeHub) SetMemberRole(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID, user ids.UserID, role gateway.GroupRole) error {
	if err := h.record("SetMemberRole", owner, chat, user, role); err != nil {
		return err
	}
	return h.updateGroup(owner, chat, func(g *gateway.GroupInfo) {
		for i := range g.Members {
			if g.Members[i].User == user {
				g.Members[i].Role = role
			}
		}
	})
}

var _ Hub = (*fakeHub)(nil)

// fakeLogin is a two-step login: a form asking for a code, then done (the
// code "0000" is wrong).
type fakeLogin struct {
	h         *fakeHub
	owner     ids.Owner
	last      gateway.LoginStep
	cancelled bool
	done      bool
}

func newFakeLogin(h *fakeHub, owner ids.Owner) *fakeLogin {
	return &fakeLogin{h: h, owner: owner, last: gateway.LoginStep{
		Kind:         gateway.StepInput,
		Instructions: "Enter the code shown on your phone.",
		Fields:       []gateway.LoginField{{ID: "code", Label: "Code"}},
	}}
}

func (l *fakeLogin) Last() gateway.LoginStep { return l.last }

func (l *fakeLogin) Submit(_ context.Context, input map[string]string) (gateway.LoginStep, error) {
	_ = l.h.record("Submit", l.owner, input["code"])
	if input["code"] == "0000" {
		return l.last, fmt.Errorf("wrong code: %w", gateway.ErrForbidden)
	}
	l.h.mu.Lock()
	a := l.h.accounts[l.owner]
	a.ID, a.State = ids.AccountID("acct-"+string(l.owner)), event.StateConnected
	l.h.accounts[l.owner] = a
	l.done = true
	l.h.mu.Unlock()
	l.last = gateway.LoginStep{Kind: gateway.StepDone, Instructions: "Linked.", Account: a.ID}
	return l.last, nil
}

func (l *fakeLogin) Wait(ctx context.Context) (gateway.LoginStep, error) {
	<-ctx.Done()
	return l.last, ctx.Err()
}

func (l *fakeLogin) Cancel() {
	_ = l.h.record("Cancel", l.owner)
	l.h.mu.Lock()
	l.cancelled = true
	l.h.mu.Unlock()
}

// testDeliver delivers ev to owner as the hub would: the event's chat kind
// (Meta.Group), the chat's limits and, for a ContactInfo, the contact as
// the hub holds it come from c's fake hub, if it has one.
func testDeliver(ctx context.Context, c *Component, owner ids.Owner, platform ids.PlatformID, ev event.Event) error {
	d := gateway.Delivery{Owner: owner, Platform: platform, Event: ev}
	h, ok := c.gw.(*fakeHub)
	if p, pictures := c.gw.(*pictureHub); pictures {
		h, ok = p.fakeHub, true
	}
	if ok {
		m := ev.EventMeta()
		if m.Chat != "" && !m.Group {
			m.Group = h.IsGroup(owner, platform, m.Chat)
		}
		if m.Chat != "" {
			d.Caps, _ = h.Capabilities(owner, platform, m.Chat)
		}
		if _, ok := ev.(*event.ContactInfo); ok {
			if ct, err := h.Contact(ctx, owner, platform, m.Sender); err == nil {
				d.Contact = &ct
			}
		}
	}
	return c.Deliver(ctx, d)
}
