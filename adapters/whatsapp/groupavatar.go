package whatsapp

import (
	"context"
	"errors"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// A group's picture is the room's avatar on the XMPP side: its id
// (GroupInfo.AvatarHash) comes from the same profile-picture call as a
// contact's, made for the group's JID by GroupInfo once per group and
// session, and is then kept up to date by events.Picture.

// groupPicture returns the id of a group's picture ("" none): remembered,
// or else asked from WhatsApp. A failure other than "no picture" or "not
// allowed to see it" is logged and gives "" without remembering it, so
// that the next look asks again.
func (s *Session) groupPicture(ctx context.Context, jid types.JID) string {
	s.mu.Lock()
	st, ok := s.groups[jid.ToNonAD()]
	s.mu.Unlock()
	if ok && st.pictureKnown {
		return st.picture
	}
	info, err := s.c.client.GetProfilePictureInfo(ctx, jid, &whatsmeow.GetProfilePictureParams{})
	switch {
	case errors.Is(err, whatsmeow.ErrProfilePictureNotSet), errors.Is(err, whatsmeow.ErrProfilePictureUnauthorized):
		s.rememberGroupPicture(jid, "")
		return ""
	case err != nil:
		s.log.Warn("whatsapp: cannot read the picture of a group", "group", jid, "err", err)
		return ""
	case info == nil:
		return ""
	}
	s.rememberGroupPicture(jid, info.ID)
	return info.ID
}

// knownGroupPicture returns the id of a group's picture if the session
// knows it, else "".
func (s *Session) knownGroupPicture(jid types.JID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[jid.ToNonAD()].picture
}

// rememberGroupPicture records the id of a group's picture ("" none).
func (s *Session) rememberGroupPicture(jid types.JID, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups == nil || len(s.groups) >= groupCap {
		s.groups = map[types.JID]groupState{}
	}
	st := s.groups[jid.ToNonAD()]
	st.picture, st.pictureKnown = id, true
	s.groups[jid.ToNonAD()] = st
}

// GetGroupAvatar implements gateway.GroupAvatarGetter: the group's
// picture, or a zero Avatar if it has none (or the account may not see
// it).
func (s *Session) GetGroupAvatar(ctx context.Context, chat ids.ChatID) (gateway.Avatar, error) {
	jid, err := s.groupJID(chat)
	if err != nil {
		return gateway.Avatar{}, err
	}
	return s.picture(ctx, jid, "picture of "+string(chat), groupErr, func(hash string) { s.rememberGroupPicture(jid, hash) })
}

// onGroupPicture handles a group's picture being set or removed: a
// ChatInfo with the new id, and the group's name and topic as known
// before (the XMPP side takes a ChatInfo as the whole picture).
func (s *Session) onGroupPicture(ctx context.Context, e *events.Picture) bool {
	id := e.PictureID
	if e.Remove {
		id = ""
	}
	s.rememberGroupPicture(e.JID, id)
	return s.emit(ctx, convert.GroupPicture(ctx, s.env(), e, s.knownGroup(ctx, e.JID)))
}
