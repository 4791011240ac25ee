package telegramtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// QR login: a client exports a login token (shown as a tg://login QR
// code), a signed-in device of the user accepts it (AcceptLoginToken
// here plays the phone scanning the code), the server pushes
// updateLoginToken to the exporting session, and its next export answers
// with the authorisation.

// loginToken is an exported token waiting to be accepted.
type loginToken struct {
	session tgtest.Session
	expires time.Time
}

// DefaultTokenLifetime is how long an exported login token stays valid,
// unless SetTokenLifetime says otherwise.
const DefaultTokenLifetime = 30 * time.Second

// SetTokenLifetime changes how long the login tokens exported from now
// on stay valid.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

func (s *Server) exportLoginToken(req *tgtest.Request, r *tg.AuthExportLoginTokenRequest) (bin.Encoder, error) {
	if r.APIID != APIID || r.APIHash != APIHash {
		return nil, tgerr.New(400, "API_ID_INVALID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := req.Session.AuthKey.ID
	if user, ok := s.accepted[key]; ok {
		delete(s.accepted, key)
		a := s.users[user]
		if a.password != nil {
			s.pending2FA[key] = user
			return nil, tgerr.New(401, "SESSION_PASSWORD_NEEDED")
		}
		return &tg.AuthLoginTokenSuccess{Authorization: s.signedInLocked(req, a)}, nil
	}
	for t, lt := range s.tokens { // a new token replaces the session's old ones
		if lt.session.AuthKey.ID == key {
			delete(s.tokens, t)
		}
	}
	token := make([]byte, 24)
	_, _ = rand.Read(token)
	lifetime := s.tokenLifetime
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	expires := time.Now().Add(lifetime)
	s.tokens[string(token)] = loginToken{session: req.Session, expires: expires}
	s.notifyLocked()
	return &tg.AuthLoginToken{Token: token, Expires: int(expires.Unix())}, nil
}

// AcceptLoginToken makes user's phone accept the login token of a
// tg://login?token=... URL, as scanning its QR code does.
func (s *Server) AcceptLoginToken(ctx context.Context, user int64, url string) error {
	raw, ok := strings.CutPrefix(url, "tg://login?token=")
	if !ok {
		return fmt.Errorf("telegramtest: %q is not a login URL", url)
	}
	token, err := base64.URLEncoding.DecodeString(raw)
	if err != nil {
		return fmt.Errorf("telegramtest: login token: %w", err)
	}
	s.mu.Lock()
	t, ok := s.tokens[string(token)]
	delete(s.tokens, string(token))
	live := ok && time.Now().Before(t.expires)
	if live {
		s.accepted[t.session.AuthKey.ID] = user
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("telegramtest: no such login token (replaced by a newer one?)")
	case !live:
		return fmt.Errorf("telegramtest: the login token expired")
	}
	return s.srv.Send(ctx, t.session, tgtest.MessageFromServer, &tg.UpdateShort{Update: &tg.UpdateLoginToken{}, Date: int(time.Now().Unix())})
}
