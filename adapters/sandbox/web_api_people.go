package sandbox

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The page's calls about the person it plays: presence and picture.

// postPresence sets the player's availability and status text
// (SetPresence); the accounts that have them as a contact are told.
func (s *WebServer) postPresence(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As        string `json:"as"`
		Available bool   `json:"available"`
		Status    string `json:"status"`
	}
	if err := decode(r, &req, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	if err == nil {
		err = s.p.SetPresence(me, req.Available, req.Status)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// getAvatar serves a user's picture (PNG); 404 if they have none.
func (s *WebServer) getAvatar(w http.ResponseWriter, r *http.Request) {
	a, ok := s.p.Avatar(ids.UserID(r.URL.Query().Get("user")))
	if !ok || len(a.Data) == 0 {
		s.refuse(w, r, "no picture", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", a.MIMEType)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.Data)))
	w.Header().Set("ETag", strconv.Quote(a.Hash))
	_, _ = w.Write(a.Data)
}

// postAvatar sets the player's picture (SetAvatar: a PNG; empty data
// removes it); the accounts that have them as a contact get the new one.
func (s *WebServer) postAvatar(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As   string `json:"as"`
		Data string `json:"data"`
	}
	if err := decode(r, &req, s.p.currentLimits().maxFileSize*4/3+4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	var data []byte
	if err == nil {
		if data, err = base64.StdEncoding.DecodeString(req.Data); err != nil {
			err = badRequest("the picture is not in base64: %v", err)
		}
	}
	if err == nil {
		err = s.p.SetAvatar(me, data)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
