package telegramtest

import (
	"strconv"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// Media from the far side: SendDocument and SendPhoto store the bytes
// under a new file id and deliver a message that points to them;
// upload.getFile serves them by the id in an InputDocumentFileLocation or
// InputPhotoFileLocation, in the parts the client asks for.

// SendDocument makes user from send a file to user to, with a caption.
func (s *Server) SendDocument(from, to int64, caption, name, mimeType string, data []byte) (*tg.Message, error) {
	s.mu.Lock()
	id := s.storeFileLocked(data)
	s.mu.Unlock()
	doc := &tg.Document{
		ID: id, AccessHash: id + 1, FileReference: []byte("ref"), MimeType: mimeType, Size: int64(len(data)),
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: name}},
	}
	return s.sendMedia(from, to, caption, &tg.MessageMediaDocument{Document: doc})
}

// SendPhoto makes user from send a JPEG photo to user to, with a caption.
func (s *Server) SendPhoto(from, to int64, caption string, jpeg []byte) (*tg.Message, error) {
	s.mu.Lock()
	id := s.storeFileLocked(jpeg)
	s.mu.Unlock()
	photo := &tg.Photo{
		ID: id, AccessHash: id + 1, FileReference: []byte("ref"),
		Sizes: []tg.PhotoSizeClass{
			&tg.PhotoSize{Type: "s", W: 90, H: 90, Size: 100},
			&tg.PhotoSize{Type: "y", W: 1280, H: 960, Size: len(jpeg)},
		},
		DCID: DC,
	}
	return s.sendMedia(from, to, caption, &tg.MessageMediaPhoto{Photo: photo})
}

func (s *Server) sendMedia(from, to int64, caption string, media tg.MessageMediaClass) (*tg.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, b := s.users[from], s.users[to]
	if a == nil || b == nil {
		return nil, errNoUser
	}
	s.pendingMedia = media
	_, in := s.deliverLocked(a, b, caption, nil, 0)
	s.pendingMedia = nil
	return in, nil
}

func (s *Server) storeFileLocked(data []byte) int64 {
	if s.files == nil {
		s.files = map[int64][]byte{}
	}
	id := int64(5000 + len(s.files))
	s.files[id] = data
	return id
}

func (s *Server) getFile(req *tgtest.Request, r *tg.UploadGetFileRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.selfLocked(req); err != nil {
		return nil, err
	}
	var id int64
	switch loc := r.Location.(type) {
	case *tg.InputDocumentFileLocation:
		id = loc.ID
	case *tg.InputPhotoFileLocation:
		id = loc.ID
	case *tg.InputPeerPhotoFileLocation:
		id = loc.PhotoID
	default:
		return nil, tgerr.New(400, "LOCATION_INVALID")
	}
	data, ok := s.files[id]
	if !ok {
		return nil, tgerr.New(400, "FILE_ID_INVALID")
	}
	if r.Offset > int64(len(data)) || r.Limit <= 0 {
		return nil, tgerr.New(400, "OFFSET_INVALID")
	}
	end := min(r.Offset+int64(r.Limit), int64(len(data)))
	return &tg.UploadFile{Type: &tg.StorageFileUnknown{}, Bytes: data[r.Offset:end]}, nil
}

// uploads are file parts saved by clients, by file id and part number.
type uploads map[int64]map[int][]byte

func (s *Server) saveFilePart(req *tgtest.Request, r *tg.UploadSaveFilePartRequest) (bin.Encoder, error) {
	return s.savePart(req, r.FileID, r.FilePart, r.Bytes)
}

func (s *Server) saveBigFilePart(req *tgtest.Request, r *tg.UploadSaveBigFilePartRequest) (bin.Encoder, error) {
	return s.savePart(req, r.FileID, r.FilePart, r.Bytes)
}

func (s *Server) savePart(req *tgtest.Request, id int64, part int, data []byte) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.selfLocked(req); err != nil {
		return nil, err
	}
	if s.uploads == nil {
		s.uploads = uploads{}
	}
	if s.uploads[id] == nil {
		s.uploads[id] = map[int][]byte{}
	}
	s.uploads[id][part] = append([]byte(nil), data...)
	return &tg.BoolTrue{}, nil
}

// assembleLocked joins the parts of an uploaded file.
func (s *Server) assembleLocked(f tg.InputFileClass) ([]byte, string, error) {
	var id int64
	var parts int
	var name string
	switch f := f.(type) {
	case *tg.InputFile:
		id, parts, name = f.ID, f.Parts, f.Name
	case *tg.InputFileBig:
		id, parts, name = f.ID, f.Parts, f.Name
	default:
		return nil, "", tgerr.New(400, "FILE_PART_INVALID")
	}
	var out []byte
	for i := range parts {
		p, ok := s.uploads[id][i]
		if !ok {
			return nil, "", tgerr.New(400, "FILE_PART_"+itoa(i)+"_MISSING")
		}
		out = append(out, p...)
	}
	delete(s.uploads, id)
	return out, name, nil
}

func (s *Server) sendMediaRPC(req *tgtest.Request, r *tg.MessagesSendMediaRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A client re-sends a request the server has not acknowledged within
	// its retry interval (5 s in gotd), under the same msg_id, and
	// Telegram answers the copy from its cache. This server handles the
	// copy again: the first answer, kept by random_id, stands for it,
	// so that a slow run neither posts the file twice nor finds its
	// parts gone.
	if res, ok := s.sentMedia[r.RandomID]; ok && r.RandomID != 0 {
		return res, nil
	}
	res, err := s.sendMediaLocked(req, r)
	if err == nil && r.RandomID != 0 {
		if s.sentMedia == nil {
			s.sentMedia = map[int64]bin.Encoder{}
		}
		s.sentMedia[r.RandomID] = res
	}
	return res, err
}

// sendMediaLocked posts a message with an uploaded file.
func (s *Server) sendMediaLocked(req *tgtest.Request, r *tg.MessagesSendMediaRequest) (bin.Encoder, error) {
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	var media tg.MessageMediaClass
	switch m := r.Media.(type) {
	case *tg.InputMediaUploadedPhoto:
		data, _, err := s.assembleLocked(m.File)
		if err != nil {
			return nil, err
		}
		id := s.storeFileLocked(data)
		media = &tg.MessageMediaPhoto{Photo: &tg.Photo{ID: id, AccessHash: id + 1, FileReference: []byte("ref"), DCID: DC,
			Sizes: []tg.PhotoSizeClass{&tg.PhotoSize{Type: "y", W: 1280, H: 960, Size: len(data)}}}}
	case *tg.InputMediaUploadedDocument:
		data, name, err := s.assembleLocked(m.File)
		if err != nil {
			return nil, err
		}
		id := s.storeFileLocked(data)
		attrs := m.Attributes
		if len(attrs) == 0 {
			attrs = []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: name}}
		}
		media = &tg.MessageMediaDocument{Document: &tg.Document{ID: id, AccessHash: id + 1, FileReference: []byte("ref"),
			MimeType: m.MimeType, Size: int64(len(data)), Attributes: attrs, DCID: DC}}
	default:
		return nil, tgerr.New(400, "MEDIA_INVALID")
	}
	switch p := r.Peer.(type) {
	case *tg.InputPeerChat:
		s.pendingMedia = media
		defer func() { s.pendingMedia = nil }()
		return s.sendGroupLocked(req, self, p.ChatID, &tg.MessagesSendMessageRequest{Message: r.Message, ReplyTo: r.ReplyTo, RandomID: r.RandomID})
	case *tg.InputPeerChannel:
		s.pendingMedia = media
		defer func() { s.pendingMedia = nil }()
		return s.sendChannelLocked(req, self, p, &tg.MessagesSendMessageRequest{Message: r.Message, ReplyTo: r.ReplyTo, RandomID: r.RandomID})
	}
	peer, err := s.peerLocked(self, r.Peer)
	if err != nil {
		return nil, err
	}
	replyTo := 0
	if rt, ok := r.ReplyTo.(*tg.InputReplyToMessage); ok {
		replyTo = rt.ReplyToMsgID
	}
	s.pendingMedia, s.sending = media, &req.Session
	out, _ := s.deliverLocked(self, peer, r.Message, r.Entities, replyTo)
	s.pendingMedia, s.sending = nil, nil
	return &tg.Updates{
		Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: out.ID, RandomID: r.RandomID},
			&tg.UpdateNewMessage{Message: out, Pts: self.pts, PtsCount: 1},
		},
		Users: s.usersLocked(self.user.ID, peer.user.ID), Date: out.Date,
	}, nil
}

// File returns the content of a message's photo or document.
func (s *Server) File(m tg.Message) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch md := m.Media.(type) {
	case *tg.MessageMediaPhoto:
		if p, ok := md.Photo.(*tg.Photo); ok {
			b, ok := s.files[p.ID]
			return b, ok
		}
	case *tg.MessageMediaDocument:
		if d, ok := md.Document.(*tg.Document); ok {
			b, ok := s.files[d.ID]
			return b, ok
		}
	}
	return nil, false
}

func itoa(i int) string { return strconv.Itoa(i) }

// SetAvatar gives user a profile photo (a JPEG).
func (s *Server) SetAvatar(user int64, jpeg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.users[user]
	if a == nil {
		return
	}
	id := s.storeFileLocked(jpeg)
	p := &tg.UserProfilePhoto{PhotoID: id, DCID: DC}
	p.SetFlags()
	a.user.Photo = p
	a.user.SetFlags()
}
