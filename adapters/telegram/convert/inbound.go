package convert

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// PeerUser returns the user a peer names, or 0 for groups and channels.
func PeerUser(p tg.PeerClass) int64 {
	if u, ok := p.(*tg.PeerUser); ok {
		return u.UserID
	}
	return 0
}

// ChatOf returns the chat a message belongs to: the other user of a
// one-to-one chat, a basic group, a supergroup or channel, or a forum's
// topic.
func ChatOf(m *tg.Message) ids.ChatID {
	switch p := m.PeerID.(type) {
	case *tg.PeerUser:
		return ChatID(p.UserID)
	case *tg.PeerChat:
		return GroupID(p.ChatID)
	case *tg.PeerChannel:
		return TopicID(p.ChannelID, topicOf(m.ReplyTo))
	}
	return ""
}

// topicOf returns the forum topic a message's reply header names (0:
// none, which is the General topic in a forum).
func topicOf(r tg.MessageReplyHeaderClass) int {
	h, ok := r.(*tg.MessageReplyHeader)
	if !ok || !h.ForumTopic {
		return 0
	}
	if h.ReplyToTopID != 0 {
		return h.ReplyToTopID
	}
	return h.ReplyToMsgID
}

// replyOf returns the message a message answers (0: none); a message
// that only names its forum topic answers nothing.
func replyOf(r tg.MessageReplyHeaderClass) int {
	h, ok := r.(*tg.MessageReplyHeader)
	if !ok || h.ForumTopic && h.ReplyToTopID == 0 {
		return 0
	}
	return h.ReplyToMsgID
}

// ChannelSender is the sender of a broadcast channel's posts, which are
// the channel's own: a member of the room named after the channel.
func ChannelSender(channel int64) ids.UserID { return ids.UserID(ChannelID(channel)) }

// meta is the Meta of a message of account self.
func meta(account ids.AccountID, self int64, m *tg.Message) event.Meta {
	group := false
	sender := PeerUser(m.PeerID)
	switch p := m.PeerID.(type) {
	case *tg.PeerChat:
		group = true
	case *tg.PeerChannel:
		group, sender = true, 0
		if PeerUser(m.FromID) == 0 && !m.Out {
			return metaOf(account, m, ChannelSender(p.ChannelID), group)
		}
	}
	if m.Out {
		sender = self
	} else if PeerUser(m.FromID) != 0 {
		sender = PeerUser(m.FromID)
	}
	return metaOf(account, m, UserID(sender), group)
}

func metaOf(account ids.AccountID, m *tg.Message, sender ids.UserID, group bool) event.Meta {
	return event.Meta{
		Account: account, Chat: ChatOf(m), Group: group, Sender: sender, FromMe: m.Out,
		Time: time.Unix(int64(m.Date), 0).UTC(), ID: MessageID(m.ID),
	}
}

// Fetcher downloads a file from Telegram.
type Fetcher func(ctx context.Context, loc tg.InputFileLocationClass) (io.ReadCloser, error)

// Message converts a one-to-one message of the account of user self.
// Photos and documents (files, videos, voice notes, audio, stickers)
// become attachments that fetch downloads; media the gateway does not
// carry yet (locations, contact cards, polls, ...) are named in the body,
// so that nothing arrives as silence.
func Message(account ids.AccountID, self int64, m *tg.Message, fetch Fetcher) *event.Message {
	ev := &event.Message{Meta: meta(account, self, m), Body: Styled(m.Message, m.Entities)}
	if id := replyOf(m.ReplyTo); id != 0 {
		ev.ReplyTo = MessageID(id)
	}
	if att, ok := Attachment(m.Media, fetch); ok {
		ev.Attachments = []event.Attachment{att}
		return ev
	}
	if note := mediaNote(m.Media); note != "" {
		if ev.Body != "" {
			ev.Body += "\n"
		}
		ev.Body += note
	}
	return ev
}

// Edit converts an edited one-to-one message.
func Edit(account ids.AccountID, self int64, m *tg.Message) *event.Edit {
	mt := meta(account, self, m)
	if m.EditDate != 0 {
		mt.Time = time.Unix(int64(m.EditDate), 0).UTC()
	}
	target := mt.ID
	mt.ID = ""
	return &event.Edit{Meta: mt, Target: target, Body: Styled(m.Message, m.Entities)}
}

// Attachment describes a photo or document of a message; ok is false for
// other media, or without a fetcher.
func Attachment(media tg.MessageMediaClass, fetch Fetcher) (att event.Attachment, ok bool) {
	if fetch == nil {
		return att, false
	}
	var loc tg.InputFileLocationClass
	switch m := media.(type) {
	case *tg.MessageMediaPhoto:
		p, isPhoto := m.Photo.(*tg.Photo)
		if !isPhoto {
			return att, false
		}
		size, bytes := largest(p.Sizes)
		if size == "" {
			return att, false
		}
		loc = &tg.InputPhotoFileLocation{ID: p.ID, AccessHash: p.AccessHash, FileReference: p.FileReference, ThumbSize: size}
		att = event.Attachment{Name: fmt.Sprintf("photo_%d.jpg", p.ID), MIMEType: "image/jpeg", Size: int64(bytes), Kind: event.KindImage}
	case *tg.MessageMediaDocument:
		d, isDoc := m.Document.(*tg.Document)
		if !isDoc {
			return att, false
		}
		loc = &tg.InputDocumentFileLocation{ID: d.ID, AccessHash: d.AccessHash, FileReference: d.FileReference}
		att = event.Attachment{Name: fmt.Sprintf("file_%d", d.ID), MIMEType: d.MimeType, Size: d.Size, Kind: documentKind(d)}
		for _, a := range d.Attributes {
			if f, isName := a.(*tg.DocumentAttributeFilename); isName && f.FileName != "" {
				att.Name = f.FileName
			}
		}
	default:
		return att, false
	}
	att.Open = func(ctx context.Context) (io.ReadCloser, error) { return fetch(ctx, loc) }
	return att, true
}

// largest returns the type and byte size of a photo's biggest size.
func largest(sizes []tg.PhotoSizeClass) (typ string, bytes int) {
	best := -1
	for _, sc := range sizes {
		switch s := sc.(type) {
		case *tg.PhotoSize:
			if s.W*s.H > best {
				best, typ, bytes = s.W*s.H, s.Type, s.Size
			}
		case *tg.PhotoSizeProgressive:
			if s.W*s.H > best && len(s.Sizes) > 0 {
				best, typ, bytes = s.W*s.H, s.Type, s.Sizes[len(s.Sizes)-1]
			}
		}
	}
	return typ, bytes
}

// documentKind is how Telegram presents a document.
func documentKind(d *tg.Document) event.AttachmentKind {
	kind := event.KindFile
	if len(d.MimeType) > 6 && d.MimeType[:6] == "image/" {
		kind = event.KindImage
	}
	for _, a := range d.Attributes {
		switch a := a.(type) {
		case *tg.DocumentAttributeSticker:
			return event.KindSticker
		case *tg.DocumentAttributeAudio:
			if a.Voice {
				return event.KindVoice
			}
			kind = event.KindAudio
		case *tg.DocumentAttributeVideo:
			kind = event.KindVideo
		}
	}
	return kind
}

// geoText writes a point as a geo: URI (RFC 5870), which clients open in a
// map.
func geoText(what, place string, g tg.GeoPointClass) string {
	p, ok := g.(*tg.GeoPoint)
	if !ok {
		return "[" + strings.ToLower(what[:1]) + what[1:] + " without coordinates: open Telegram to see it]"
	}
	text := what + ": "
	if place != "" && place != "," {
		text += strings.Trim(place, ", ") + " "
	}
	return text + fmt.Sprintf("geo:%.6f,%.6f", p.Lat, p.Long)
}

// mediaNote writes as text a medium that has no file (locations, contact
// cards), or names one the gateway does not bridge.
func mediaNote(m tg.MessageMediaClass) string {
	switch m := m.(type) {
	case nil, *tg.MessageMediaEmpty, *tg.MessageMediaWebPage:
		return ""
	case *tg.MessageMediaPhoto:
		return "[a photo the gateway cannot fetch: open Telegram to see it]"
	case *tg.MessageMediaDocument:
		return "[a file the gateway cannot fetch: open Telegram to see it]"
	case *tg.MessageMediaGeo:
		return geoText("Location", "", m.Geo)
	case *tg.MessageMediaGeoLive:
		return geoText("Live location (open Telegram to follow it)", "", m.Geo)
	case *tg.MessageMediaVenue:
		return geoText("Location", strings.TrimSpace(m.Title+", "+m.Address), m.Geo)
	case *tg.MessageMediaContact:
		name := strings.TrimSpace(m.FirstName + " " + m.LastName)
		if m.PhoneNumber == "" {
			return "Contact: " + name
		}
		phone := m.PhoneNumber
		if !strings.HasPrefix(phone, "+") {
			phone = "+" + phone
		}
		return "Contact: " + name + " " + phone
	}
	return "[a message this gateway cannot show yet: open Telegram to see it]"
}

// Retract converts the deletion of message id of chat, written by sender.
func Retract(account ids.AccountID, chat ids.ChatID, sender ids.UserID, id int, when time.Time) *event.Retract {
	_, group := ParseGroup(chat)
	return &event.Retract{
		Meta:   event.Meta{Account: account, Chat: chat, Group: group, Sender: sender, Time: when},
		Target: MessageID(id),
	}
}

// ReadOutbox converts "the peer read your messages up to maxID": a
// displayed receipt for maxID, which XEP-0333 already means as "this one
// and everything before it".
func ReadOutbox(account ids.AccountID, u *tg.UpdateReadHistoryOutbox, when time.Time) *event.Receipt {
	peer := PeerUser(u.Peer)
	return &event.Receipt{
		Meta:    event.Meta{Account: account, Chat: ChatID(peer), Sender: UserID(peer), Time: when},
		Kind:    event.Displayed,
		Targets: []ids.MessageID{MessageID(u.MaxID)},
	}
}

// ChatState converts a typing notification.
func ChatState(account ids.AccountID, u *tg.UpdateUserTyping, when time.Time) *event.ChatState {
	state := event.Composing
	if _, ok := u.Action.(*tg.SendMessageCancelAction); ok {
		state = event.Paused
	}
	return &event.ChatState{
		Meta:  event.Meta{Account: account, Chat: ChatID(u.UserID), Sender: UserID(u.UserID), Time: when},
		State: state,
	}
}

// TypingAction converts an XMPP chat state for messages.setTyping.
func TypingAction(s event.ChatStateKind) tg.SendMessageActionClass {
	if s == event.Composing {
		return &tg.SendMessageTypingAction{}
	}
	return &tg.SendMessageCancelAction{}
}

// Contact converts a Telegram user for the roster.
func Contact(account ids.AccountID, u *tg.User, when time.Time) *event.ContactInfo {
	name := u.FirstName
	if u.LastName != "" {
		if name != "" {
			name += " "
		}
		name += u.LastName
	}
	if name == "" && u.Username != "" {
		name = "@" + u.Username
	}
	c := &event.ContactInfo{Meta: event.Meta{Account: account, Sender: UserID(u.ID), Time: when}, Name: name, AvatarHash: AvatarHash(u)}
	if u.Phone != "" {
		c.Phone = "+" + u.Phone
	}
	return c
}

// Reaction converts the reactions on a one-to-one message into the full
// set of who's reactions on it (empty: who took theirs away).
func Reaction(account ids.AccountID, u *tg.UpdateMessageReactions, who int64, when time.Time) *event.Reaction {
	chat := PeerUser(u.Peer)
	emojis := []string{}
	for _, r := range u.Reactions.RecentReactions {
		if PeerUser(r.PeerID) != who {
			continue
		}
		if e, ok := r.Reaction.(*tg.ReactionEmoji); ok {
			emojis = append(emojis, e.Emoticon)
		}
	}
	return &event.Reaction{
		Meta:   event.Meta{Account: account, Chat: ChatID(chat), Sender: UserID(who), FromMe: who != chat, Time: when},
		Target: MessageID(u.MsgID),
		Emojis: emojis,
	}
}

// Reactions converts an XMPP reaction set for messages.sendReaction.
func Reactions(emojis []string) []tg.ReactionClass {
	out := make([]tg.ReactionClass, 0, len(emojis))
	for _, e := range emojis {
		out = append(out, &tg.ReactionEmoji{Emoticon: e})
	}
	return out
}

// Presence converts a user's online status: online is available; offline
// is unavailable with the last-seen time when Telegram shares it, and
// "recently", "within a week", "within a month" (the user hides the
// exact time) are unavailable, with Status saying which.
func Presence(account ids.AccountID, user int64, status tg.UserStatusClass, when time.Time) *event.Presence {
	p := &event.Presence{Meta: event.Meta{Account: account, Sender: UserID(user), Time: when}}
	switch st := status.(type) {
	case *tg.UserStatusOnline:
		p.Available = true
	case *tg.UserStatusOffline:
		p.LastSeen = time.Unix(int64(st.WasOnline), 0).UTC()
	case *tg.UserStatusRecently:
		p.Status = "last seen recently"
	case *tg.UserStatusLastWeek:
		p.Status = "last seen within a week"
	case *tg.UserStatusLastMonth:
		p.Status = "last seen within a month"
	}
	return p
}

// AvatarHash names a user's profile photo ("" without one): its id, which
// changes with the photo.
func AvatarHash(u *tg.User) string {
	if p, ok := u.Photo.(*tg.UserProfilePhoto); ok && p.PhotoID != 0 {
		return fmt.Sprintf("tg%d", p.PhotoID)
	}
	return ""
}

// Group converts a basic group's full description: name, "about" text as
// topic, members with roles (creator: owner; admins; the rest members).
func Group(full *tg.MessagesChatFull, self int64) gateway.GroupInfo {
	gi := gateway.GroupInfo{Self: UserID(self)}
	names := map[int64]string{}
	for _, uc := range full.Users {
		if u, ok := uc.(*tg.User); ok {
			names[u.ID] = Contact("", u, time.Time{}).Name
		}
	}
	if f, ok := full.FullChat.(*tg.ChatFull); ok {
		gi.Chat, gi.Topic = GroupID(f.ID), f.About
		for _, c := range full.Chats {
			if c, ok := c.(*tg.Chat); ok && c.ID == f.ID {
				gi.Name, gi.AvatarHash = c.Title, ChatPhotoHash(c.Photo)
			}
		}
		if ps, ok := f.Participants.(*tg.ChatParticipants); ok {
			for _, p := range ps.Participants {
				role := gateway.RoleMember
				switch p.(type) {
				case *tg.ChatParticipantCreator:
					role = gateway.RoleOwner
				case *tg.ChatParticipantAdmin:
					role = gateway.RoleAdmin
				}
				uid := p.GetUserID()
				gi.Members = append(gi.Members, gateway.GroupMember{User: UserID(uid), Name: names[uid], Role: role})
			}
		}
	}
	return gi
}

// Service converts a service message of a group into membership changes:
// users added (joined), a user who left, a user removed by someone else
// (kicked). Other actions give nothing.
func Service(account ids.AccountID, m *tg.MessageService) []event.Event {
	g, ok := m.PeerID.(*tg.PeerChat)
	if !ok {
		return nil
	}
	actor := PeerUser(m.FromID)
	mt := event.Meta{Account: account, Chat: GroupID(g.ChatID), Group: true, Sender: UserID(actor), FromMe: m.Out,
		Time: time.Unix(int64(m.Date), 0).UTC(), ID: MessageID(m.ID)}
	change := func(user int64, a event.MembershipAction) event.Event {
		return &event.MembershipChange{Meta: mt, User: UserID(user), Action: a}
	}
	var out []event.Event
	switch a := m.Action.(type) {
	case *tg.MessageActionChatAddUser:
		for _, u := range a.Users {
			out = append(out, change(u, event.Joined))
		}
	case *tg.MessageActionChatJoinedByLink:
		out = append(out, change(actor, event.Joined))
	case *tg.MessageActionChatJoinedByRequest:
		out = append(out, change(actor, event.Joined))
	case *tg.MessageActionChatDeleteUser:
		if a.UserID == actor {
			out = append(out, change(a.UserID, event.Left))
		} else {
			out = append(out, change(a.UserID, event.Kicked))
		}
	}
	return out
}
