package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The page's JSON API. Every changing call names the user the person
// plays ("as", a scripted human of the directory) and goes through the
// platform's own functions, under the platform's rules.

// routes registers the API on mux.
func (s *WebServer) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/users", s.getUsers)
	mux.HandleFunc("POST /api/users", s.postUser)
	mux.HandleFunc("GET /api/chats", s.getChats)
	mux.HandleFunc("GET /api/chat", s.getChat)
	mux.HandleFunc("GET /api/file", s.getFile)
	mux.HandleFunc("GET /api/events", s.events) // web_events.go
	mux.HandleFunc("POST /api/send", s.postSend)
	mux.HandleFunc("POST /api/edit", s.postEdit)
	mux.HandleFunc("POST /api/retract", s.postRetract)
	mux.HandleFunc("POST /api/react", s.postReact)
	mux.HandleFunc("POST /api/read", s.postRead)
	mux.HandleFunc("POST /api/typing", s.postTyping)
	mux.HandleFunc("POST /api/groups", s.postGroup)             // web_api_groups.go
	mux.HandleFunc("POST /api/groups/members", s.postMember)    // web_api_groups.go
	mux.HandleFunc("POST /api/groups/settings", s.postSettings) // web_api_groups.go
	mux.HandleFunc("POST /api/presence", s.postPresence)        // web_api_people.go
	mux.HandleFunc("GET /api/avatar", s.getAvatar)              // web_api_people.go
	mux.HandleFunc("POST /api/avatar", s.postAvatar)            // web_api_people.go
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.refuse(w, r, fmt.Sprintf("no API call %s %s", r.Method, r.URL.Path), http.StatusNotFound)
	})
}

// fail answers err with the status its gateway sentinel maps to.
func (s *WebServer) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, gateway.ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, gateway.ErrUnknownChat), errors.Is(err, gateway.ErrTargetNotFound):
		status = http.StatusNotFound
	case errors.Is(err, gateway.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, gateway.ErrNotSupported):
		status = http.StatusUnprocessableEntity
	}
	msg := err.Error()
	if text, ok := gateway.ExplainedText(err); ok {
		msg = text
	}
	s.refuse(w, r, msg, status)
}

// badRequest wraps gateway.ErrBadRequest with a message.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), gateway.ErrBadRequest)
}

// decode reads a JSON body of at most limit bytes into v; unknown fields
// are refused.
func decode(r *http.Request, v any, limit int64) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("the request body is not the expected JSON: %v", err)
	}
	return nil
}

// player checks that as names a scripted human, the only users the page
// plays: bots answer by themselves and accounts belong to XMPP users.
func (s *WebServer) player(as string) (ids.UserID, error) {
	if as == "" {
		return "", badRequest(`"as" is missing: pick the user you play`)
	}
	u, ok := s.p.User(ids.UserID(as))
	if !ok {
		return "", fmt.Errorf("no user %s on the platform: %w", as, gateway.ErrUnknownChat)
	}
	if u.Kind != KindHuman {
		return "", badRequest("%s is a %s: the page plays people only", as, u.Kind)
	}
	return u.ID, nil
}

func (s *WebServer) getUsers(w http.ResponseWriter, _ *http.Request) {
	users := s.p.Users()
	out := make([]webUser, 0, len(users))
	for _, u := range users {
		out = append(out, s.p.webUser(u))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *WebServer) postUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Phone string `json:"phone"`
		Name  string `json:"name"`
	}
	if err := decode(r, &req, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		s.fail(w, r, gateway.Explain("A name is needed.", badRequest("the new user has no name")))
		return
	}
	phone, err := NormalizePhone(req.Phone)
	if err == nil {
		err = s.p.AddHuman(ids.UserID(phone), name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, _ := s.p.User(ids.UserID(phone))
	writeJSON(w, http.StatusCreated, s.p.webUser(u))
}

func (s *WebServer) getChats(w http.ResponseWriter, r *http.Request) {
	me, err := s.player(r.URL.Query().Get("as"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.p.webChats(me))
}

func (s *WebServer) getChat(w http.ResponseWriter, r *http.Request) {
	me, err := s.player(r.URL.Query().Get("as"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.p.webChatView(me, r.URL.Query().Get("with"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// getFile serves an attachment: images, audio and video inline, anything
// else as a download.
func (s *WebServer) getFile(w http.ResponseWriter, r *http.Request) {
	m, ok := s.p.MessageByID(ids.MessageID(r.URL.Query().Get("msg")))
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if !ok || err != nil || n < 0 || n >= len(m.Attachments) || m.Retracted {
		s.refuse(w, r, "no such file", http.StatusNotFound)
		return
	}
	f := m.Attachments[n]
	disposition := "attachment"
	if k := kindName(f.Kind); k != "file" {
		disposition = "inline"
	}
	w.Header().Set("Content-Type", f.MIMEType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("%s; filename=%q", disposition, f.Name))
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
}

// webFileIn is a file the page uploads, its bytes in base64.
type webFileIn struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data string `json:"data"`
}

func (s *WebServer) postSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As      string     `json:"as"`
		To      string     `json:"to"`
		Body    string     `json:"body"`
		ReplyTo string     `json:"replyTo"`
		File    *webFileIn `json:"file"`
	}
	limit := s.p.currentLimits().maxFileSize*4/3 + 64<<10
	if err := decode(r, &req, limit); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := s.send(r, req.As, req.To, req.Body, req.ReplyTo, req.File)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": string(id)})
}

// send routes a message of the page, as a one-to-one or a group message.
func (s *WebServer) send(r *http.Request, as, to, body, replyTo string, in *webFileIn) (ids.MessageID, error) {
	me, err := s.player(as)
	if err != nil {
		return "", err
	}
	if err := r.Context().Err(); err != nil {
		return "", err
	}
	if body == "" && in == nil {
		return "", badRequest("an empty message: write something or attach a file")
	}
	if err := checkBody(body); err != nil {
		return "", err
	}
	var files []File
	if in != nil {
		data, err := base64.StdEncoding.DecodeString(in.Data)
		if err != nil {
			return "", badRequest("the file %q is not in base64: %v", in.Name, err)
		}
		f, err := s.p.newFile(in.Name, in.Type, "", data)
		if err != nil {
			return "", err
		}
		files = []File{f}
	}
	if IsGroupID(ids.ChatID(to)) {
		return s.p.routeGroup(groupOutgoing{from: me, group: ids.ChatID(to), body: body, files: files, replyTo: ids.MessageID(replyTo)})
	}
	if to == "" {
		return "", badRequest(`"to" is missing: open a chat first`)
	}
	return s.p.route(outgoing{from: me, to: ids.UserID(to), body: body, files: files, replyTo: ids.MessageID(replyTo)})
}

// changeReq is the body of an edit, a retraction or a reaction.
type changeReq struct {
	As     string `json:"as"`
	To     string `json:"to"`
	Target string `json:"target"`
	Body   string `json:"body"`
	Emoji  string `json:"emoji"`
}

// change reads a changeReq and hands it to apply as the platform's change.
func (s *WebServer) change(w http.ResponseWriter, r *http.Request, apply func(changeReq, change) error) {
	var req changeReq
	if err := decode(r, &req, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	if err == nil && req.Target == "" {
		err = badRequest(`"target" is missing: name the message`)
	}
	if err == nil {
		err = apply(req, change{from: me, peer: ids.UserID(req.To), target: ids.MessageID(req.Target)})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *WebServer) postEdit(w http.ResponseWriter, r *http.Request) {
	s.change(w, r, func(req changeReq, c change) error {
		if err := checkEditBody(req.Body); err != nil {
			return err
		}
		c.body = req.Body
		return s.p.edit(c)
	})
}

func (s *WebServer) postRetract(w http.ResponseWriter, r *http.Request) {
	s.change(w, r, func(_ changeReq, c change) error { return s.p.retract(c) })
}

// postReact sets the player's reaction: one emoji, or none ("") to remove
// it.
func (s *WebServer) postReact(w http.ResponseWriter, r *http.Request) {
	s.change(w, r, func(req changeReq, c change) error {
		if req.Emoji != "" {
			c.emojis = []string{req.Emoji}
		}
		return s.p.react(c)
	})
}

// postRead marks messages of a one-to-one chat as read: the peer, if it
// is an account, gets a Displayed receipt (SendReceipt), and the platform
// records it for the page of a peer that is a person.
func (s *WebServer) postRead(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As      string   `json:"as"`
		To      string   `json:"to"`
		Targets []string `json:"targets"`
	}
	if err := decode(r, &req, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	if err == nil && IsGroupID(ids.ChatID(req.To)) {
		err = fmt.Errorf("the sandbox has no read receipts in groups: %w", gateway.ErrNotSupported)
	}
	if err == nil {
		targets := make([]ids.MessageID, len(req.Targets))
		for i, t := range req.Targets {
			targets[i] = ids.MessageID(t)
		}
		err = s.p.readBy(r.Context(), me, ids.UserID(req.To), targets)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// postTyping sends the player's chat state to the peer of a one-to-one
// chat.
func (s *WebServer) postTyping(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As    string `json:"as"`
		To    string `json:"to"`
		State string `json:"state"`
	}
	if err := decode(r, &req, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	me, err := s.player(req.As)
	if err == nil && IsGroupID(ids.ChatID(req.To)) {
		err = fmt.Errorf("the sandbox has no typing notifications in groups: %w", gateway.ErrNotSupported)
	}
	if err == nil {
		err = s.p.typingBy(me, ids.UserID(req.To), event.ChatStateKind(req.State))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
