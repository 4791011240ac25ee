// Package telegramtest runs a small Telegram for tests: gotd's in-process
// MTProto server (tgtest, one data centre on a loopback port) with a
// service of our own behind it that answers the methods the adapter
// uses: login by phone code, users.getUsers, one-to-one messages (send,
// edit, delete, read, typing) and updates.getState/getDifference for gap
// recovery. Clients speak real MTProto to it (key exchange, encryption,
// RPC), so the adapter under test runs exactly the code it runs against
// Telegram; only the far side's business logic is ours.
//
// Everything is kept in memory. Users are created with AddUser; a test
// plays a Telegram user on the far side with a second gotd client
// (NewClient) or by calling Server methods.
package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgtest"
	"github.com/gotd/td/tgtest/cluster"
)

// DC is the data centre the server runs as.
const DC = 2

// Credentials the server accepts from clients (any other api_id is
// refused with API_ID_INVALID, as Telegram does).
const (
	APIID   = 17349
	APIHash = "344583e45741c457fe1862106095a5eb"
)

// Server is the fake Telegram. It is safe for concurrent use.
type Server struct {
	cl  *cluster.Cluster
	srv *tgtest.Server

	mu      sync.Mutex
	users   map[int64]*account
	byPhone map[string]int64
	byName  map[string]int64
	keys    map[[8]byte]int64 // auth key id → signed-in user
	// pending2FA: auth key id → user whose code was right, owing a password
	pending2FA    map[[8]byte]int64
	tokens        map[string]loginToken // exported QR login tokens
	tokenLifetime time.Duration
	reactions     map[msgRef]reactions  // by the message copy of the lower user id (a group's: its first copy)
	groupCopies   map[msgRef][]msgRef   // each copy of a basic group's message → all its copies
	chanReactions map[msgRef]reactions  // a channel message's, by channel id (as user) and message id
	files         map[int64][]byte      // photos and documents, by id
	uploads       uploads               // parts saved by clients
	sentMedia     map[int64]bin.Encoder // answers to messages.sendMedia, by random_id
	pendingMedia  tg.MessageMediaClass  // the medium of the message being delivered
	sending       *tgtest.Session       // the session whose request is being answered
	groups        map[int64]*group      // basic groups, by id
	channels      map[int64]*channel    // supergroups and channels, by id
	accepted      map[[8]byte]int64     // auth key id → user who accepted its token
	codes         map[string]pendingCode
	codeSeq       int
	floods        map[string]int // method name → seconds of FLOOD_WAIT to answer once
	requests      map[string]int // method name → calls seen
	changed       chan struct{}
	loseNext      bool // the next sequenced push reaches no client
}

type pendingCode struct {
	hash string
	code string
}

// New starts a server for the length of the test.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		users:      map[int64]*account{},
		byPhone:    map[string]int64{},
		byName:     map[string]int64{},
		keys:       map[[8]byte]int64{},
		pending2FA: map[[8]byte]int64{},
		tokens:     map[string]loginToken{},
		accepted:   map[[8]byte]int64{},
		codes:      map[string]pendingCode{},
		floods:     map[string]int{},
		requests:   map[string]int{},
		changed:    make(chan struct{}),
	}
	s.cl = cluster.NewCluster(cluster.Options{})
	srv, d := s.cl.DC(DC, "telegramtest")
	s.srv = srv
	s.register(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.cl.Up(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("telegramtest: the server did not stop")
		}
	})
	select {
	case <-s.cl.Ready():
	case err := <-done:
		t.Fatalf("telegramtest: server stopped: %v", err)
	}
	return s
}

// Options fills in what a gotd client needs to reach this server.
func (s *Server) Options(opts telegram.Options) telegram.Options {
	opts.PublicKeys = s.cl.Keys()
	opts.DC = DC
	opts.DCList = s.cl.List()
	opts.Resolver = s.cl.Resolver()
	if opts.RetryInterval == 0 {
		opts.RetryInterval = 100 * time.Millisecond
	}
	return opts
}

// AddUser registers a Telegram user with a phone number (E.164 with its
// +) and an optional username, and returns the user as others see it.
func (s *Server) AddUser(id int64, phone, first, username string) tg.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &account{
		user:     tg.User{ID: id, AccessHash: id*7919 + 13, FirstName: first, Username: username, Phone: trimPlus(phone)},
		sessions: map[int64]tgtest.Session{},
	}
	a.user.SetFlags()
	s.users[id] = a
	if phone != "" {
		s.byPhone[trimPlus(phone)] = id
	}
	if username != "" {
		s.byName[username] = id
	}
	return a.user
}

// AddContact puts contact in user's address book.
func (s *Server) AddContact(user, contact int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.users[user]; a != nil {
		a.contacts = append(a.contacts, contact)
	}
}

// LastCode returns the login code last sent to phone, waiting for it
// until ctx ends: what the user reads in their Telegram app.
func (s *Server) LastCode(ctx context.Context, phone string) (string, error) {
	for {
		s.mu.Lock()
		c, ok := s.codes[trimPlus(phone)]
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return c.code, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return "", fmt.Errorf("telegramtest: no code sent to %s: %w", phone, ctx.Err())
		}
	}
}

// FloodWait makes the next call of method (a TL name such as
// "messages.sendMessage") fail with FLOOD_WAIT_<seconds>.
func (s *Server) FloodWait(method string, seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.floods[method] = seconds
}

// Calls returns how many times method was called.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method]
}

// Disconnect drops every connection of user (its MTProto sessions), as
// a network failure would; the client reconnects by itself.
func (s *Server) Disconnect(user int64) {
	s.mu.Lock()
	a := s.users[user]
	var sessions []tgtest.Session
	if a != nil {
		for id, sess := range a.sessions {
			sessions = append(sessions, sess)
			delete(a.sessions, id)
		}
		a.offline = true
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		s.srv.ForceDisconnect(sess)
	}
}

// Reconnectable lets user's clients receive live updates again after
// Disconnect (until then, what happens is only kept for getDifference).
func (s *Server) Reconnectable(user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.users[user]; a != nil {
		a.offline = false
	}
}

// notifyLocked wakes LastCode and WaitMessage callers.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func trimPlus(phone string) string {
	if len(phone) > 0 && phone[0] == '+' {
		return phone[1:]
	}
	return phone
}

// errNoUser is returned by lookups of unknown users.
var errNoUser = errors.New("telegramtest: no such user")

// srvNow is the server's clock in Unix seconds.
func (s *Server) srvNow() int64 { return time.Now().Unix() }

// contextFor bounds a push to a client; the server's own write timeout
// applies too.
func contextFor() context.Context { return context.Background() }

// Box returns copies of user's messages, oldest first.
func (s *Server) Box(user int64) []tg.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.users[user]
	if a == nil {
		return nil
	}
	var out []tg.Message
	for id := 1; id <= a.lastID; id++ {
		if m, ok := a.box[id]; ok {
			out = append(out, *m)
		}
	}
	return out
}

// Find returns the newest message of user's box with text, if any.
func (s *Server) Find(user int64, text string) (tg.Message, bool) {
	box := s.Box(user)
	for i := len(box) - 1; i >= 0; i-- {
		if box[i].Message == text {
			return box[i], true
		}
	}
	return tg.Message{}, false
}

// SetStatus sets user's online status and tells every account that has
// user in its address book, as Telegram does.
func (s *Server) SetStatus(user int64, status tg.UserStatusClass) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.users[user]
	if a == nil {
		return
	}
	a.user.Status = status
	a.user.SetFlags()
	for _, other := range s.users {
		for _, c := range other.contacts {
			if c == user {
				s.pushLocked(other, &tg.UpdateUserStatus{UserID: user, Status: status})
			}
		}
	}
}

// LoseNextSequenced makes the next sequenced push (a status change)
// reach no client, as a lost packet would: the client learns of it by
// the jump in seq of the push after it, and gets it with
// updates.getDifference (from the date of its state).
func (s *Server) LoseNextSequenced() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseNext = true
}

// Revoke ends every session of user, as "terminate all other sessions"
// on the phone does, and drops their connections.
func (s *Server) Revoke(user int64) {
	s.mu.Lock()
	for key, id := range s.keys {
		if id == user {
			delete(s.keys, key)
		}
	}
	s.mu.Unlock()
	s.Disconnect(user)
	s.Reconnectable(user)
}
