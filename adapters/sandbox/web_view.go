package sandbox

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// This file builds what the web page shows, from the platform's records.

// webUser is a directory entry on the page.
type webUser struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Linked    bool   `json:"linked"`
	Available bool   `json:"available"`
	Status    string `json:"status,omitempty"`
	// Avatar is the URL of the user's picture; empty: none.
	Avatar string `json:"avatar,omitempty"`
}

// webUser is u as the page shows it.
func (p *Platform) webUser(u User) webUser {
	return webUser{ID: string(u.ID), Name: u.Name, Kind: u.Kind.String(), Linked: u.Linked, Available: u.Available, Status: u.Status,
		Avatar: p.avatarURL(u.ID)}
}

// avatarURL is where the page gets id's picture, with its hash so that a
// new picture is a new URL; "" if id has none.
func (p *Platform) avatarURL(id ids.UserID) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.avatarURLLocked(id)
}

func (p *Platform) avatarURLLocked(id ids.UserID) string {
	u := p.users[id]
	if u == nil || u.avatarHash == "" {
		return ""
	}
	return "/api/avatar?" + url.Values{"user": {string(id)}, "v": {u.avatarHash}}.Encode()
}

// webChat is one line of a user's chat list.
type webChat struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Group bool      `json:"group"`
	Last  string    `json:"last,omitempty"`
	Time  time.Time `json:"time,omitzero"`
	// Avatar is the URL of the other person's picture (a one-to-one chat
	// with someone who has one).
	Avatar string `json:"avatar,omitempty"`
}

// webFile is an attachment, fetched from URL.
type webFile struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Kind string `json:"kind"`
	Size int    `json:"size"`
	URL  string `json:"url"`
}

// webReaction is one emoji on a message and who set it.
type webReaction struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
	Mine  bool     `json:"mine"`
}

// webMessage is a message as the page shows it. Status, for one's own
// messages in a one-to-one chat, is "sent", "delivered" or "read".
type webMessage struct {
	ID         string        `json:"id"`
	From       string        `json:"from"`
	FromName   string        `json:"fromName"`
	Mine       bool          `json:"mine"`
	Body       string        `json:"body"`
	Time       time.Time     `json:"time"`
	Files      []webFile     `json:"files,omitempty"`
	ReplyTo    string        `json:"replyTo,omitempty"`
	ReplyName  string        `json:"replyName,omitempty"`
	ReplyQuote string        `json:"replyQuote,omitempty"`
	Edited     bool          `json:"edited"`
	Retracted  bool          `json:"retracted"`
	Reactions  []webReaction `json:"reactions,omitempty"`
	Status     string        `json:"status,omitempty"`
}

// webMember is a member of a group.
type webMember struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// webChatView is one open chat.
type webChatView struct {
	Chat     webChat      `json:"chat"`
	Peer     *webUser     `json:"peer,omitempty"`
	Topic    string       `json:"topic,omitempty"`
	Members  []webMember  `json:"members,omitempty"`
	Admin    bool         `json:"admin"`
	Typing   bool         `json:"typing"`
	Messages []webMessage `json:"messages"`
}

// nameLocked is a user's display name, or the id itself.
func (p *Platform) nameLocked(id ids.UserID) string {
	if u := p.users[id]; u != nil && u.name != "" {
		return u.name
	}
	return string(id)
}

// webChats lists the chats of me: the people it exchanged messages with
// and its groups, the most recent first.
func (p *Platform) webChats(me ids.UserID) []webChat {
	p.mu.Lock()
	defer p.mu.Unlock()
	byID := map[string]*webChat{}
	for _, g := range p.groups.byID {
		if _, ok := g.roles[me]; ok {
			byID[string(g.id)] = &webChat{ID: string(g.id), Name: g.name, Group: true}
		}
	}
	for _, m := range p.log {
		var c *webChat
		switch {
		case m.Group != "":
			c = byID[string(m.Group)]
		case m.From == me || m.To == me:
			peer := m.From
			if m.From == me {
				peer = m.To
			}
			c = byID[string(peer)]
			if c == nil {
				c = &webChat{ID: string(peer), Name: p.nameLocked(peer), Avatar: p.avatarURLLocked(peer)}
				byID[string(peer)] = c
			}
		}
		if c == nil {
			continue
		}
		c.Time, c.Last = m.Time, summary(m)
	}
	out := make([]webChat, 0, len(byID))
	for _, c := range byID {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b webChat) int {
		return cmp.Or(b.Time.Compare(a.Time), strings.Compare(a.ID, b.ID))
	})
	return out
}

// summary is the line a chat list shows for its last message.
func summary(m *Message) string {
	switch {
	case m.Retracted:
		return "(retracted)"
	case m.Body != "":
		return m.Body
	case len(m.Attachments) > 0:
		return "📎 " + m.Attachments[0].Name
	}
	return ""
}

// webChatView returns the chat of me with chat (a user or a group of me).
func (p *Platform) webChatView(me ids.UserID, chat string) (webChatView, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := webChatView{Messages: []webMessage{}}
	peer := ids.UserID(chat)
	if IsGroupID(ids.ChatID(chat)) {
		g, err := p.groupLocked(ids.ChatID(chat), me, false)
		if err != nil {
			return v, err
		}
		v.Chat = webChat{ID: chat, Name: g.name, Group: true}
		v.Topic = g.topic
		for _, u := range g.members {
			v.Members = append(v.Members, webMember{ID: string(u), Name: p.nameLocked(u), Role: g.roles[u].String()})
		}
		r := g.roles[me]
		v.Admin = r == gateway.RoleOwner || r == gateway.RoleAdmin
	} else {
		if p.users[peer] == nil {
			return v, fmt.Errorf("sandbox: no user %s on the platform: %w", peer, gateway.ErrUnknownChat)
		}
		v.Chat = webChat{ID: chat, Name: p.nameLocked(peer), Avatar: p.avatarURLLocked(peer)}
		pu := p.userLocked(peer)
		u := webUser{ID: string(pu.ID), Name: pu.Name, Kind: pu.Kind.String(), Linked: pu.Linked, Available: pu.Available,
			Status: pu.Status, Avatar: v.Chat.Avatar}
		v.Peer = &u
		v.Typing = p.typingLocked(peer, me)
	}
	status := p.statusLocked(peer, me)
	for _, m := range p.log {
		if !m.between(me, peer) {
			continue
		}
		wm := webMessage{
			ID: string(m.ID), From: string(m.From), FromName: p.nameLocked(m.From), Mine: m.From == me,
			Body: m.Body, Time: m.Time, Edited: len(m.Edits) > 0, Retracted: m.Retracted,
			ReplyTo: string(m.ReplyTo), ReplyQuote: m.ReplyQuote,
		}
		if m.ReplyTo != "" {
			wm.ReplyName = p.nameLocked(m.ReplyToSender)
		}
		if m.Retracted {
			wm.Body = ""
		} else {
			for i, f := range m.Attachments {
				wm.Files = append(wm.Files, webFile{
					Name: f.Name, Type: f.MIMEType, Kind: kindName(f.Kind), Size: len(f.Data),
					URL: "/api/file?" + url.Values{"msg": {string(m.ID)}, "n": {fmt.Sprint(i)}}.Encode(),
				})
			}
			wm.Reactions = webReactions(m, me, p.nameLocked)
		}
		if wm.Mine && m.Group == "" {
			wm.Status = cmp.Or(status[m.ID], "sent")
		}
		v.Messages = append(v.Messages, wm)
	}
	return v, nil
}

// webReactions groups m's reactions by emoji, in a fixed order.
func webReactions(m *Message, me ids.UserID, name func(ids.UserID) string) []webReaction {
	byEmoji := map[string]*webReaction{}
	var order []string
	users := make([]ids.UserID, 0, len(m.Reactions))
	for u := range m.Reactions {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		for _, e := range m.Reactions[u] {
			r := byEmoji[e]
			if r == nil {
				r = &webReaction{Emoji: e}
				byEmoji[e] = r
				order = append(order, e)
			}
			r.Users = append(r.Users, name(u))
			r.Mine = r.Mine || u == me
		}
	}
	out := make([]webReaction, 0, len(order))
	for _, e := range order {
		out = append(out, *byEmoji[e])
	}
	return out
}

// statusLocked maps each message me sent to peer to "delivered" or
// "read", from the receipts peer sent me.
func (p *Platform) statusLocked(peer, me ids.UserID) map[ids.MessageID]string {
	out := map[ids.MessageID]string{}
	for _, r := range p.receipts {
		if r.From != peer || r.To != me {
			continue
		}
		for _, t := range r.Targets {
			switch {
			case r.Kind == event.Displayed:
				out[t] = "read"
			case out[t] == "":
				out[t] = "delivered"
			}
		}
	}
	return out
}

// typingLocked reports whether from's last chat state to me is composing.
func (p *Platform) typingLocked(from, me ids.UserID) bool {
	for i := len(p.states) - 1; i >= 0; i-- {
		if s := p.states[i]; s.From == from && s.To == me {
			return s.State == event.Composing
		}
	}
	return false
}

func kindName(k event.AttachmentKind) string {
	switch k {
	case event.KindImage, event.KindSticker:
		return "image"
	case event.KindVideo:
		return "video"
	case event.KindAudio, event.KindVoice:
		return "audio"
	}
	return "file"
}
