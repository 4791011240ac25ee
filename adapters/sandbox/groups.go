package sandbox

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Group chats: every group has a name, a topic, members in the order they
// joined, and roles. Like a real platform, only admins change the topic,
// add, remove and promote members; any member writes and may leave.

// Lounge is the group every Platform starts with: "Sandbox Lounge", with
// Alice (its owner), Bob and the Echo Bot.
const Lounge ids.ChatID = "group-lounge"

// News is the read-only group (a channel) every Platform starts with:
// "Sandbox News", owned by Alice, with Bob and the Quiet Bot as readers.
// Only its admins post (gateway.GroupInfo.ReadOnly).
const News ids.ChatID = "group-news"

// groupPrefix starts every group's ChatID; user ids are phone numbers, so
// the two never meet.
const groupPrefix = "group-"

// echoCommand makes the Echo Bot answer in a group: "!echo hi" → "hi".
const echoCommand = "!echo "

// IsGroupID reports whether chat names a group of the sandbox.
func IsGroupID(chat ids.ChatID) bool { return strings.HasPrefix(string(chat), groupPrefix) }

// group is a group chat as the platform keeps it.
type group struct {
	id      ids.ChatID
	name    string
	topic   string
	members []ids.UserID
	roles   map[ids.UserID]gateway.GroupRole
	// readOnly: a channel, only admins post.
	readOnly bool
}

// groupSet is the platform's groups, guarded by Platform.mu.
type groupSet struct {
	seq  int
	byID map[ids.ChatID]*group
}

// seedGroupsLocked creates Lounge and News. The caller holds p.mu or owns p.
func (p *Platform) seedGroupsLocked() {
	p.groups.byID = map[ids.ChatID]*group{}
	for _, g := range []*group{
		{id: Lounge, name: "Sandbox Lounge", topic: "Welcome to the Sandbox Lounge", members: []ids.UserID{Alice, Bob, EchoBot}},
		{id: News, name: "Sandbox News", topic: "Announcements: only admins post here", members: []ids.UserID{Alice, Bob, QuietBot}, readOnly: true},
	} {
		g.roles = map[ids.UserID]gateway.GroupRole{}
		for _, u := range g.members {
			g.roles[u] = gateway.RoleMember
		}
		g.roles[Alice] = gateway.RoleOwner
		p.groups.byID[g.id] = g
	}
	p.watch.bump()
}

// groupLocked returns a group, checking that actor (if set) is a member and,
// if admin is set, an admin. The caller holds p.mu.
func (p *Platform) groupLocked(id ids.ChatID, actor ids.UserID, admin bool) (*group, error) {
	g := p.groups.byID[id]
	if g == nil {
		return nil, fmt.Errorf("sandbox: no group %s: %w", id, gateway.ErrUnknownChat)
	}
	if actor == "" {
		return g, nil
	}
	role, ok := g.roles[actor]
	if !ok {
		return nil, fmt.Errorf("sandbox: %s is not a member of %q: %w", actor, g.name, gateway.ErrForbidden)
	}
	if admin && !role.IsAdmin() {
		return nil, fmt.Errorf("sandbox: %s is not an admin of %q: %w", actor, g.name, gateway.ErrForbidden)
	}
	return g, nil
}

// infoLocked is g as user self sees it. The caller holds p.mu.
func (p *Platform) infoLocked(g *group, self ids.UserID) gateway.GroupInfo {
	gi := gateway.GroupInfo{Chat: g.id, Name: g.name, Topic: g.topic, Self: self, TopicByAdminsOnly: true, ReadOnly: g.readOnly}
	for _, u := range g.members {
		m := gateway.GroupMember{User: u, Role: g.roles[u]}
		if du := p.users[u]; du != nil {
			m.Name = du.name
		}
		gi.Members = append(gi.Members, m)
	}
	return gi
}

// tellMembersLocked delivers an event built by mk to every member of g
// that is an account, and to extra ones (a member who just left). The
// caller holds p.mu.
func (p *Platform) tellMembersLocked(g *group, skip *device, extra []ids.UserID, mk func(acct ids.AccountID) event.Event) {
	for _, u := range append(slices.Clone(g.members), extra...) {
		if a := p.accounts[ids.AccountID(u)]; a != nil {
			p.deliverLocked(a, skip, true, nil, func() event.Event { return mk(a.id) })
		}
	}
}

// chatInfoLocked is the ChatInfo event of g for acct.
func (p *Platform) chatInfoLocked(g *group, acct ids.AccountID, actor ids.UserID) *event.ChatInfo {
	readOnly := g.readOnly
	return &event.ChatInfo{
		Meta: event.Meta{Account: acct, Chat: g.id, Sender: actor, FromMe: actor == ids.UserID(acct), Time: p.now()},
		Name: g.name, Topic: g.topic, IsGroup: true, Members: slices.Clone(g.members), ReadOnly: &readOnly,
	}
}

// membershipLocked tells every member (and user, if they just left) that
// actor did action to user.
func (p *Platform) membershipLocked(g *group, actor, user ids.UserID, action event.MembershipAction) {
	p.watch.bump()
	var extra []ids.UserID
	if !slices.Contains(g.members, user) {
		extra = []ids.UserID{user}
	}
	p.tellMembersLocked(g, nil, extra, func(acct ids.AccountID) event.Event {
		return &event.MembershipChange{
			Meta: event.Meta{Account: acct, Chat: g.id, Sender: actor, FromMe: actor == ids.UserID(acct), Time: p.now()},
			User: user, Action: action,
		}
	})
}

// createGroup makes a group owned by actor with members; readOnly makes
// it a channel.
func (p *Platform) createGroup(actor ids.UserID, name string, members []ids.UserID, readOnly bool) (ids.ChatID, error) {
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("sandbox: a group needs a name: %w", gateway.ErrBadRequest)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range append([]ids.UserID{actor}, members...) {
		if p.users[u] == nil {
			return "", fmt.Errorf("sandbox: no user %s on the platform: %w", u, gateway.ErrUnknownChat)
		}
	}
	p.groups.seq++
	g := &group{id: ids.ChatID(fmt.Sprintf("%s%d", groupPrefix, p.groups.seq)), name: strings.TrimSpace(name),
		roles: map[ids.UserID]gateway.GroupRole{actor: gateway.RoleOwner}, members: []ids.UserID{actor}, readOnly: readOnly}
	for _, u := range members {
		if _, dup := g.roles[u]; !dup {
			g.members = append(g.members, u)
			g.roles[u] = gateway.RoleMember
		}
	}
	p.groups.byID[g.id] = g
	p.tellMembersLocked(g, nil, nil, func(acct ids.AccountID) event.Event { return p.chatInfoLocked(g, acct, actor) })
	return g.id, nil
}

// addMember adds user to gid; actor must be an admin.
func (p *Platform) addMember(actor ids.UserID, gid ids.ChatID, user ids.UserID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, err := p.groupLocked(gid, actor, true)
	if err != nil {
		return err
	}
	if p.users[user] == nil {
		return fmt.Errorf("sandbox: no user %s on the platform: %w", user, gateway.ErrUnknownChat)
	}
	if _, ok := g.roles[user]; ok {
		return nil
	}
	g.members = append(g.members, user)
	g.roles[user] = gateway.RoleMember
	p.membershipLocked(g, actor, user, event.Joined)
	return nil
}

// removeMember makes user leave gid: kicked by actor (an admin), or by
// themselves when actor == user.
func (p *Platform) removeMember(actor ids.UserID, gid ids.ChatID, user ids.UserID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, err := p.groupLocked(gid, actor, actor != user)
	if err != nil {
		return err
	}
	if _, ok := g.roles[user]; !ok {
		return fmt.Errorf("sandbox: %s is not a member of %q: %w", user, g.name, gateway.ErrUnknownChat)
	}
	if g.roles[user] == gateway.RoleOwner && actor != user {
		return fmt.Errorf("sandbox: the owner of %q cannot be removed: %w", g.name, gateway.ErrForbidden)
	}
	g.members = slices.DeleteFunc(g.members, func(u ids.UserID) bool { return u == user })
	delete(g.roles, user)
	action := event.Kicked
	if actor == user {
		action = event.Left
	}
	p.membershipLocked(g, actor, user, action)
	return nil
}

// setRole promotes or demotes user in gid; actor must be an admin.
func (p *Platform) setRole(actor ids.UserID, gid ids.ChatID, user ids.UserID, role gateway.GroupRole) error {
	if role != gateway.RoleAdmin && role != gateway.RoleMember {
		return fmt.Errorf("sandbox: role %s cannot be given: %w", role, gateway.ErrNotSupported)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, err := p.groupLocked(gid, actor, true)
	if err != nil {
		return err
	}
	old, ok := g.roles[user]
	if !ok {
		return fmt.Errorf("sandbox: %s is not a member of %q: %w", user, g.name, gateway.ErrUnknownChat)
	}
	if old == gateway.RoleOwner {
		return fmt.Errorf("sandbox: the owner of %q keeps their role: %w", g.name, gateway.ErrForbidden)
	}
	if old == role {
		return nil
	}
	g.roles[user] = role
	action := event.Promoted
	if role == gateway.RoleMember {
		action = event.Demoted
	}
	p.membershipLocked(g, actor, user, action)
	return nil
}

// setTopic changes gid's topic; actor must be an admin.
func (p *Platform) setTopic(actor ids.UserID, gid ids.ChatID, topic string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, err := p.groupLocked(gid, actor, true)
	if err != nil {
		return err
	}
	g.topic = topic
	p.watch.bump()
	p.tellMembersLocked(g, nil, nil, func(acct ids.AccountID) event.Event { return p.chatInfoLocked(g, acct, actor) })
	return nil
}

// rename changes gid's name; actor must be an admin.
func (p *Platform) rename(actor ids.UserID, gid ids.ChatID, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("sandbox: a group needs a name: %w", gateway.ErrBadRequest)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, err := p.groupLocked(gid, actor, true)
	if err != nil {
		return err
	}
	g.name = strings.TrimSpace(name)
	p.watch.bump()
	p.tellMembersLocked(g, nil, nil, func(acct ids.AccountID) event.Event { return p.chatInfoLocked(g, acct, actor) })
	return nil
}

// groupInfo is gid as self sees it; self must be a member.
func (p *Platform) groupInfo(gid ids.ChatID, self ids.UserID) (gateway.GroupInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, err := p.groupLocked(gid, self, false)
	if err != nil {
		return gateway.GroupInfo{}, err
	}
	return p.infoLocked(g, self), nil
}

// groupsOf lists the groups user belongs to, by id.
func (p *Platform) groupsOf(user ids.UserID) []gateway.GroupInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []gateway.GroupInfo
	for _, g := range p.groups.byID {
		if _, ok := g.roles[user]; ok {
			out = append(out, p.infoLocked(g, user))
		}
	}
	slices.SortFunc(out, func(a, b gateway.GroupInfo) int { return strings.Compare(string(a.Chat), string(b.Chat)) })
	return out
}

// groupOutgoing is a message to a group.
type groupOutgoing struct {
	from       ids.UserID
	group      ids.ChatID
	body       string
	files      []File
	replyTo    ids.MessageID
	mentions   []ids.UserID
	fromDevice *device
}

// routeGroup records a group message and delivers it to every member
// account (a FromMe copy to the sender's other devices); the Echo Bot, if a
// member, answers "!echo <text>" with "<text>".
func (p *Platform) routeGroup(o groupOutgoing) (ids.MessageID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, err := p.groupLocked(o.group, o.from, false)
	if err != nil {
		return "", err
	}
	if g.readOnly && !g.roles[o.from].IsAdmin() {
		return "", fmt.Errorf("sandbox: only admins post in the channel %q: %w", g.name, gateway.ErrForbidden)
	}
	rec := &Message{From: o.from, Group: g.id, Body: o.body, Time: p.now(),
		Attachments: slices.Clone(o.files), Mentions: slices.Clone(o.mentions)}
	if o.replyTo != "" {
		orig := p.byID[o.replyTo]
		if orig == nil || orig.Group != g.id || orig.Retracted {
			return "", fmt.Errorf("sandbox: no message %s in %q: %w", o.replyTo, g.name, gateway.ErrTargetNotFound)
		}
		rec.ReplyTo, rec.ReplyToSender, rec.ReplyQuote = orig.ID, orig.From, quote(orig)
	}
	rec.ID = p.mintIDLocked()
	p.log = append(p.log, rec)
	p.byID[rec.ID] = rec
	p.watch.bump()
	snap := *rec
	for _, u := range g.members {
		a := p.accounts[ids.AccountID(u)]
		if a == nil {
			continue
		}
		var skip *device
		if u == o.from {
			skip = o.fromDevice
		}
		p.deliverLocked(a, skip, true, nil, func() event.Event {
			ev := snap.event(a.id, "")
			ev.Chat, ev.FromMe = g.id, u == o.from
			return ev
		})
	}
	if text, ok := strings.CutPrefix(o.body, echoCommand); ok && o.from != EchoBot {
		if _, member := g.roles[EchoBot]; member && strings.TrimSpace(text) != "" {
			p.scheduleLocked(botKey(EchoBot, ids.AccountID(g.id)), func() {
				p.pause()
				// The bot may have been removed meanwhile; then it stays silent.
				_, _ = p.routeGroup(groupOutgoing{from: EchoBot, group: g.id, body: text})
			})
		}
	}
	return rec.ID, nil
}

// groupSpreadLocked delivers an edit, retraction or reaction of from in
// group gid to every member account: a FromMe copy to from's devices except
// skip. The caller holds p.mu.
func (p *Platform) groupSpreadLocked(from ids.UserID, gid ids.ChatID, skip *device, mk func(acct ids.AccountID, peer ids.UserID) event.Event) {
	g := p.groups.byID[gid]
	if g == nil {
		return
	}
	for _, u := range g.members {
		a := p.accounts[ids.AccountID(u)]
		if a == nil {
			continue
		}
		var s *device
		if u == from {
			s = skip
		}
		p.deliverLocked(a, s, true, nil, func() event.Event {
			ev := mk(a.id, ids.UserID(gid))
			ev.EventMeta().FromMe = u == from
			return ev
		})
	}
}
