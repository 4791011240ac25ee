package telegramtest

import (
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
