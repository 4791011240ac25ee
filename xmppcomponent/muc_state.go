package xmppcomponent

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// DefaultRoomHistory is Config.RoomHistory's default.
const DefaultRoomHistory = 200

// roomHistory is how many messages each room keeps for joins (XEP-0045
// history) and its archive (XEP-0313), per owner.
func (c *Component) roomHistory() int {
	switch n := c.cfg.RoomHistory; {
	case n == 0:
		return DefaultRoomHistory
	case n < 0:
		return 0
	default:
		return n
	}
}

// mucRooms is the state of the rooms the component hosts: one room per
// owner and group, since each owner sees the group through their own
// account. The zero value is ready.
type mucRooms struct {
	mu    sync.Mutex
	rooms map[roomKey]*room
}

type roomKey struct {
	owner ids.Owner
	chat  ids.ChatID
}

// room is one owner's view of a group.
type room struct {
	info gateway.GroupInfo
	// loaded: info came from the platform (else only what events told).
	loaded bool
	nicks  map[ids.UserID]string
	// joined are the owner's full JIDs in the room.
	joined map[string]bool
	// history holds the last roomHistory messages, oldest first.
	history []archived
	// invited: the owner got a direct invitation during this run.
	invited bool
	// avatar is the group's picture as last fetched (muc_avatar.go).
	avatar roomAvatar
}

// archived is a room message as it was sent (To empty).
type archived struct {
	id  string // stanza-id
	at  time.Time
	msg stanza.Message
	// sender is the member who wrote it; its nick is looked up again when
	// the message is sent as history, so that the owner's messages carry
	// the nick they chose since. Empty: the room's own message.
	sender ids.UserID
}

// replayed is a as the room sends it again (join history, archive): from
// its sender's nick of now.
func (r *room) replayed(a archived, roomJID string) stanza.Message {
	m := a.msg
	if n, ok := r.nicks[a.sender]; ok && a.sender != "" {
		m.From = roomJID + "/" + n
	}
	return m
}

// get returns the room of key, creating it empty. The caller holds m.mu.
func (m *mucRooms) getLocked(key roomKey) *room {
	if m.rooms == nil {
		m.rooms = make(map[roomKey]*room)
	}
	r := m.rooms[key]
	if r == nil {
		r = &room{info: gateway.GroupInfo{Chat: key.chat}, nicks: map[ids.UserID]string{}, joined: map[string]bool{}}
		m.rooms[key] = r
	}
	return r
}

// with runs f on the room of key under the lock. Stanzas about rooms are
// queued from inside f, so that every resource gets them in the order the
// room's state changed (a join's presences before the messages that follow
// it); queueing only waits while the outbound queue is full.
func (m *mucRooms) with(key roomKey, f func(r *room)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.getLocked(key))
}

// setInfo replaces what the room knows of its group and gives every member
// a nick, keeping the nicks members already have.
func (r *room) setInfo(gi gateway.GroupInfo) {
	r.info, r.loaded = gi, true
	for _, mem := range gi.Members {
		r.nickOf(mem.User, mem.Name)
	}
}

// nickOf returns user's nick, making one from name (or the id) if the user
// has none; nicks are unique in the room.
func (r *room) nickOf(user ids.UserID, name string) string {
	if n, ok := r.nicks[user]; ok {
		return n
	}
	n := name
	if n == "" {
		n = string(user)
	}
	for _, other := range r.nicks {
		if other == n {
			n += " (" + string(user) + ")"
			break
		}
	}
	r.nicks[user] = n
	return n
}

// nickTaken reports whether nick is the nick of someone in the room other
// than the account itself (a member, or someone whose messages the room
// shows).
func (r *room) nickTaken(nick string) bool {
	for u, n := range r.nicks {
		if n == nick && u != r.info.Self {
			return true
		}
	}
	return false
}

// othersJoined reports whether another of the owner's resources than full
// is in the room.
func (r *room) othersJoined(full string) bool {
	for j := range r.joined {
		if j != full {
			return true
		}
	}
	return false
}

// userOfNick returns the member with the given nick.
func (r *room) userOfNick(nick string) (ids.UserID, bool) {
	for u, n := range r.nicks {
		if n == nick {
			if _, member := r.info.Member(u); member {
				return u, true
			}
		}
	}
	return "", false
}

// resources are the owner's full JIDs in the room, sorted.
func (r *room) resources() []string {
	out := make([]string, 0, len(r.joined))
	for j := range r.joined {
		out = append(out, j)
	}
	slices.Sort(out)
	return out
}

// archive appends a message to the room's history, dropping the oldest
// beyond limit.
func (r *room) archive(a archived, limit int) {
	r.history = append(r.history, a)
	if len(r.history) > limit {
		r.history = slices.Delete(r.history, 0, len(r.history)-limit)
	}
}

// occupantID is the XEP-0421 id of a member in a room: stable, opaque.
func occupantID(chat ids.ChatID, user ids.UserID) string {
	sum := sha256.Sum256([]byte(string(chat) + "\x00" + string(user)))
	return hex.EncodeToString(sum[:12])
}

// affiliation and role map a platform role to XEP-0045's.
func affiliation(role gateway.GroupRole) string {
	switch role {
	case gateway.RoleOwner:
		return "owner"
	case gateway.RoleAdmin:
		return "admin"
	}
	return "member"
}

func mucRole(gi gateway.GroupInfo, role gateway.GroupRole) string {
	switch {
	case role.IsAdmin():
		return "moderator"
	case gi.ReadOnly:
		return "visitor" // may read, not write (a broadcast channel)
	}
	return "participant"
}

// roomName is what a room is called: the group's name, or for a group
// without one the names of its first members other than the account.
func roomName(gi gateway.GroupInfo) string {
	if gi.Name != "" {
		return gi.Name
	}
	var names []string
	for _, m := range gi.Members {
		if m.User == gi.Self {
			continue
		}
		if len(names) == 3 {
			names = append(names, "…")
			break
		}
		n := m.Name
		if n == "" {
			n = string(m.User)
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return "Unnamed group"
	}
	return strings.Join(names, ", ")
}

// roomSubject is the room's subject: the group's topic, or for a group
// without one (every new group) a line that says what the room is, so that
// clients show more than an empty subject.
func roomSubject(platform string, gi gateway.GroupInfo) string {
	if gi.Topic != "" {
		return gi.Topic
	}
	return roomName(gi) + " — a " + platform + " group"
}

// keysLocked are the keys of the rooms of the owners of, by owner and
// then chat. The caller holds m.mu.
func (m *mucRooms) keysLocked(of func(ids.Owner) bool) []roomKey {
	keys := make([]roomKey, 0)
	for k := range m.rooms {
		if of(k.owner) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b roomKey) int {
		if n := strings.Compare(string(a.owner), string(b.owner)); n != 0 {
			return n
		}
		return strings.Compare(string(a.chat), string(b.chat))
	})
	return keys
}
