package sandbox

import (
	"fmt"
	"net/http"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The page's group calls: each is the Platform API's group call (groups_api.go)
// made by the person the page plays, refused as the platform refuses it.

func (s *WebServer) postGroup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As      string   `json:"as"`
		Name    string   `json:"name"`
		Members []string `json:"members"`
		// ReadOnly makes a channel: only admins post.
		ReadOnly bool `json:"readOnly"`
	}
	if err := decode(r, &req, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members := make([]ids.UserID, len(req.Members))
	for i, m := range req.Members {
		members[i] = ids.UserID(m)
	}
	create := s.p.CreateGroup
	if req.ReadOnly {
		create = s.p.CreateChannel
	}
	id, err := create(me, req.Name, members...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": string(id)})
}

// postMember changes a member of a group: action "add", "remove",
// "promote" or "demote" (an admin's), or "leave" (one's own).
func (s *WebServer) postMember(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As     string `json:"as"`
		Group  string `json:"group"`
		User   string `json:"user"`
		Action string `json:"action"`
	}
	if err := decode(r, &req, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	if err == nil {
		g, u := ids.ChatID(req.Group), ids.UserID(req.User)
		switch req.Action {
		case "add":
			err = s.p.AddMember(me, g, u)
		case "remove":
			err = s.p.Kick(me, g, u)
		case "promote":
			err = s.p.Promote(me, g, u)
		case "demote":
			err = s.p.Demote(me, g, u)
		case "leave":
			err = s.p.Leave(me, g)
		default:
			err = fmt.Errorf("action %q is not one of add, remove, promote, demote, leave: %w", req.Action, gateway.ErrBadRequest)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// postSettings changes a group's name or topic (an admin's); a field that
// is absent stays as it is.
func (s *WebServer) postSettings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As    string  `json:"as"`
		Group string  `json:"group"`
		Name  *string `json:"name"`
		Topic *string `json:"topic"`
	}
	if err := decode(r, &req, 16<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	if err == nil && req.Name == nil && req.Topic == nil {
		err = badRequest("nothing to change: give name or topic")
	}
	if err == nil && req.Name != nil {
		err = s.p.RenameGroup(me, ids.ChatID(req.Group), *req.Name)
	}
	if err == nil && req.Topic != nil {
		err = s.p.SetTopic(me, ids.ChatID(req.Group), *req.Topic)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
