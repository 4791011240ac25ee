package telegramtest

import (
	"slices"

	"github.com/gotd/td/tg"
)

// Group and channel photos: a photo is a stored file whose id is the
// photo's id, served by upload.getFile for an inputPeerPhotoFileLocation.

// chatPhoto is a group's or channel's photo field (id 0: none).
func chatPhoto(id int64) tg.ChatPhotoClass {
	if id == 0 {
		return &tg.ChatPhotoEmpty{}
	}
	p := &tg.ChatPhoto{PhotoID: id, DCID: DC}
	p.SetFlags()
	return p
}

// photoAction is the service action of a new photo (jpeg nil: removed),
// whose id is stored in *id.
func (s *Server) photoActionLocked(jpeg []byte, id *int64) tg.MessageActionClass {
	if jpeg == nil {
		*id = 0
		return &tg.MessageActionChatDeletePhoto{}
	}
	*id = s.storeFileLocked(jpeg)
	return &tg.MessageActionChatEditPhoto{Photo: &tg.Photo{ID: *id, AccessHash: *id, FileReference: []byte{1}, Date: int(s.srvNow()), DCID: DC,
		Sizes: []tg.PhotoSizeClass{&tg.PhotoSize{Type: "x", W: 640, H: 640, Size: len(jpeg)}}}}
}

// SetGroupPhoto makes actor change basic group id's photo to a JPEG (nil:
// remove it); every member gets the service message.
func (s *Server) SetGroupPhoto(actor, id int64, jpeg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || !slices.Contains(g.members, actor) {
		return errNoUser
	}
	s.serviceLocked(actor, g, s.photoActionLocked(jpeg, &g.photo))
	return nil
}

// SetChannelPhoto makes actor change channel id's photo to a JPEG (nil:
// remove it), with a service message in the channel.
func (s *Server) SetChannelPhoto(actor, id int64, jpeg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil || !c.isAdmin(actor) {
		return errNoUser
	}
	action := s.photoActionLocked(jpeg, &c.photo)
	c.lastID++
	m := &tg.MessageService{ID: c.lastID, PeerID: &tg.PeerChannel{ChannelID: id}, Date: int(s.srvNow()), Action: action}
	if !c.Broadcast {
		m.FromID = &tg.PeerUser{UserID: actor}
	}
	m.SetFlags()
	s.pushChannelLocked(c, m, actor, true)
	return nil
}
