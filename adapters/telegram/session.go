package telegram

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Telegram's limits for one-to-one chats.
const (
	// maxTextLength is the longest message text, in UTF-16 code units.
	maxTextLength = 4096
	// editWindow is how long a message of a private chat stays editable.
	editWindow = 48 * time.Hour
)

// Session is one linked Telegram account: a gotd client that runs from
// Connect to Disconnect, reconnecting by itself, and catches up on what
// happened while it was away with updates.getDifference.
type Session struct {
	a    *Adapter
	host gateway.Host
	cfg  config
	acct ids.AccountID
	self int64
	kv   gateway.AccountKV

	mu         sync.Mutex
	api        *tg.Client
	cancel     context.CancelFunc
	done       chan struct{}
	floodUntil time.Time

	// lost is set when the connection dropped, until the catch-up after
	// the reconnection.
	lost    atomic.Bool
	catchUp chan struct{}

	// upd serialises update handling and guards pts, seq and sent.
	upd  sync.Mutex
	pts  int
	seq  int
	date int          // of the update state (Unix seconds)
	sent map[int]bool // messages sent through the gateway: no echo
	// chanPts is each channel's update state; sentChan the channel
	// messages sent through the gateway.
	chanPts  map[int64]int
	sentChan map[chanMsg]bool

	// cache guards what is known of users.
	cache  sync.Mutex
	hashes map[int64]int64
	photos map[int64]string // users' avatar hashes ("" none)
	// chanHashes are the access hashes of channels.
	chanHashes map[int64]int64
}

var (
	_ gateway.Session           = (*Session)(nil)
	_ gateway.Editor            = (*Session)(nil)
	_ gateway.Retracter         = (*Session)(nil)
	_ gateway.ReceiptSender     = (*Session)(nil)
	_ gateway.ChatStateSender   = (*Session)(nil)
	_ gateway.UserResolver      = (*Session)(nil)
	_ gateway.ContactLister     = (*Session)(nil)
	_ gateway.Reactor           = (*Session)(nil)
	_ gateway.AvatarGetter      = (*Session)(nil)
	_ gateway.GroupManager      = (*Session)(nil)
	_ gateway.GroupAvatarGetter = (*Session)(nil)
)

func newSession(a *Adapter, host gateway.Host, cfg config, acct ids.AccountID, self int64) *Session {
	return &Session{
		a: a, host: host, cfg: cfg, acct: acct, self: self, kv: host.KV(acct),
		catchUp: make(chan struct{}, 1), hashes: map[int64]int64{}, photos: map[int64]string{}, sent: map[int]bool{},
		chanPts: map[int64]int{}, sentChan: map[chanMsg]bool{}, chanHashes: map[int64]int64{},
	}
}

// Connect implements gateway.Session.
func (s *Session) Connect(context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.run(ctx, s.done)
}

// Disconnect implements gateway.Session.
func (s *Session) Disconnect() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// run keeps a client running until ctx ends or Telegram says the session
// is no longer authorised.
func (s *Session) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	log := s.host.Logger().With("account", s.acct)
	for {
		s.host.SetState(ctx, s.acct, event.StateConnecting, "")
		client := s.a.newClient(s.cfg, telegram.Options{
			SessionStorage: kvStorage{s.kv},
			UpdateHandler:  telegram.UpdateHandlerFunc(s.handle),
			OnConnectionState: func(st telegram.ConnectionState) {
				switch st {
				case telegram.ConnectionStateDisconnected:
					s.lost.Store(true)
				case telegram.ConnectionStateReady:
					select {
					case s.catchUp <- struct{}{}:
					default:
					}
				}
			},
		})
		err := client.Run(ctx, func(ctx context.Context) error { return s.connected(ctx, client) })
		s.setAPI(nil)
		if ctx.Err() != nil {
			return
		}
		if auth.IsUnauthorized(err) || tgerr.Is(err, "AUTH_KEY_UNREGISTERED", "SESSION_REVOKED", "USER_DEACTIVATED") {
			log.Info("telegram session no longer authorised", "err", err)
			s.host.SetState(ctx, s.acct, event.StateLoggedOut, "Telegram ended this session (logged out from another device, or the account was deleted): link the account again.")
			return
		}
		log.Warn("telegram client stopped; starting it again", "err", err)
		s.host.SetState(ctx, s.acct, event.StateDisconnected, "Connection to Telegram lost; retrying.")
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconnectDelay):
		}
	}
}

// connected runs while the client is up: it checks the authorisation,
// catches up and then catches up again after every reconnection.
func (s *Session) connected(ctx context.Context, client *telegram.Client) error {
	if _, err := client.Self(ctx); err != nil {
		return fmt.Errorf("telegram: who am I: %w", err)
	}
	pts, err := getInt(ctx, s.kv, keyPts)
	if err != nil {
		return fmt.Errorf("telegram: stored update state: %w", err)
	}
	seq, err := getInt(ctx, s.kv, keySeq)
	if err != nil {
		return fmt.Errorf("telegram: stored update state: %w", err)
	}
	date, err := getInt(ctx, s.kv, keyDate)
	if err != nil {
		return fmt.Errorf("telegram: stored update state: %w", err)
	}
	s.upd.Lock()
	s.pts, s.seq, s.date = int(pts), int(seq), int(date)
	err = s.loadChannelsLocked(ctx)
	s.upd.Unlock()
	if err != nil {
		return err
	}
	s.setAPI(client.API())
	if err := s.difference(ctx); err != nil {
		return err
	}
	if err := s.startChannels(ctx, client.API()); err != nil {
		s.host.Logger().Warn("telegram channels not read; their catch-up starts with their next message", "account", s.acct, "err", err)
	}
	if _, err := s.ListContacts(ctx); err != nil {
		s.host.Logger().Warn("telegram contacts not read; contacts appear when they write", "account", s.acct, "err", err)
	}
	s.host.SetState(ctx, s.acct, event.StateConnected, "")
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.catchUp:
			if err := s.difference(ctx); auth.IsUnauthorized(err) {
				return err // the session was ended elsewhere: run says so
			} else if err != nil {
				s.host.Logger().Warn("telegram catch-up failed; next reconnection retries", "account", s.acct, "err", err)
				continue
			}
			if s.lost.Swap(false) {
				s.host.SetState(ctx, s.acct, event.StateConnected, "")
			}
		}
	}
}

func (s *Session) setAPI(api *tg.Client) {
	s.mu.Lock()
	s.api = api
	s.mu.Unlock()
}

// client returns the API of the running client, or ErrUnavailable.
func (s *Session) client() (*tg.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api == nil {
		return nil, fmt.Errorf("telegram: account %s is not connected: %w", s.acct, gateway.ErrUnavailable)
	}
	if wait := time.Until(s.floodUntil); wait > 0 {
		return nil, fmt.Errorf("telegram: Telegram asked to wait %s more before sending: %w", wait.Round(time.Second), gateway.ErrRateLimited)
	}
	return s.api, nil
}

// Logout implements gateway.Session: the session is ended on Telegram's
// side when connected, and forgotten here in any case.
func (s *Session) Logout(ctx context.Context) error {
	if api, err := s.client(); err == nil {
		if _, err := api.AuthLogOut(ctx); err != nil {
			s.host.Logger().Warn("telegram log out failed; forgetting the session anyway", "account", s.acct, "err", err)
		}
	}
	s.Disconnect()
	s.a.sessionEnded(s)
	var errs []error
	for _, key := range []string{keySession, keyPts, keySeq, keyDate} {
		errs = append(errs, s.kv.Delete(ctx, key))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telegram: forget the session: %w", err)
	}
	return nil
}

// Capabilities implements gateway.Session. Groups, supergroups and
// channels take edits, deletions, reactions, replies and files as
// one-to-one chats do; read markers and typing are bridged in one-to-one
// chats only.
func (s *Session) Capabilities(chat ids.ChatID) gateway.Capabilities {
	caps := gateway.Capabilities{
		Edits: true, EditWindow: editWindow,
		Retractions: true, Replies: true,
		// One reaction per person: Telegram's limit for accounts without
		// Premium (which may put three).
		Reactions: true, MaxReactionsPerUser: 1,
		MaxFileSize: maxFileSize,
	}
	if !s.IsGroup(chat) {
		caps.ReadMarkers, caps.ChatStates = true, true
	}
	return caps
}

// sendError makes a Telegram error of a send readable, and honours a
// FLOOD_WAIT: further sends are refused until it has passed.
func (s *Session) sendError(what string, err error) error {
	if d, ok := tgerr.AsFloodWait(err); ok {
		s.mu.Lock()
		if until := time.Now().Add(d); until.After(s.floodUntil) {
			s.floodUntil = until
		}
		s.mu.Unlock()
		return fmt.Errorf("telegram: sending too fast; Telegram asks to wait %s before the next message: %w", d, gateway.ErrRateLimited)
	}
	if rpc, ok := tgerr.As(err); ok {
		switch rpc.Type {
		case "PEER_ID_INVALID", "USER_ID_INVALID", "INPUT_USER_DEACTIVATED":
			return fmt.Errorf("telegram: %s: no such Telegram user: %w", what, gateway.ErrUnknownChat)
		case "USER_IS_BLOCKED", "YOU_BLOCKED_USER", "PRIVACY_RESTRICTED", "CHAT_WRITE_FORBIDDEN", "TOPIC_CLOSED":
			return fmt.Errorf("telegram: %s: %s: %w", what, rpc.Type, gateway.ErrForbidden)
		case "MESSAGE_ID_INVALID", "MESSAGE_EDIT_TIME_EXPIRED", "REPLY_TO_INVALID":
			return fmt.Errorf("telegram: %s: %s: %w", what, rpc.Type, gateway.ErrTargetNotFound)
		case "MESSAGE_TOO_LONG", "MESSAGE_EMPTY":
			return fmt.Errorf("telegram: %s: %s: %w", what, rpc.Type, gateway.ErrBadRequest)
		}
	}
	return fmt.Errorf("telegram: %s: %w", what, err)
}

// inputPeer returns the peer of a one-to-one chat, with the access hash
// learnt when the user was last seen.
func (s *Session) inputPeer(ctx context.Context, chat ids.ChatID) (tg.InputPeerClass, error) {
	if g, ok := convert.ParseGroup(chat); ok {
		return &tg.InputPeerChat{ChatID: g}, nil
	}
	if c, _, ok := convert.ParseChannel(chat); ok {
		return s.channelPeer(ctx, c)
	}
	user, err := convert.ParseUser(chat)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, gateway.ErrUnknownChat)
	}
	s.cache.Lock()
	hash, ok := s.hashes[user]
	s.cache.Unlock()
	if !ok {
		h, err := getInt(ctx, s.kv, keyPeerPrefix+string(chat))
		if err != nil {
			return nil, fmt.Errorf("telegram: access hash of %s: %w", chat, err)
		}
		if h == 0 {
			return nil, fmt.Errorf("telegram: user %s is not known to this account yet (find them by @username first, or wait for them to write): %w", chat, gateway.ErrUnknownChat)
		}
		hash = h
	}
	return &tg.InputPeerUser{UserID: user, AccessHash: hash}, nil
}

// SendMessage implements gateway.Session: text or files, optionally a
// reply.
func (s *Session) SendMessage(ctx context.Context, msg *event.Message) (ids.MessageID, error) {
	api, err := s.client()
	if err != nil {
		return "", err
	}
	switch {
	case msg.Body == "" && len(msg.Attachments) == 0:
		return "", fmt.Errorf("telegram: empty message: %w", gateway.ErrBadRequest)
	case len(utf16.Encode([]rune(msg.Body))) > maxTextLength:
		return "", fmt.Errorf("telegram: the message is longer than Telegram's %d characters: %w", maxTextLength, gateway.ErrBadRequest)
	}
	peer, err := s.inputPeer(ctx, msg.Chat)
	if err != nil {
		return "", err
	}
	var replyTo tg.InputReplyToClass
	if msg.ReplyTo != "" {
		id, err := convert.ParseMessage(msg.ReplyTo)
		if err != nil {
			return "", fmt.Errorf("%w: %w", err, gateway.ErrTargetNotFound)
		}
		replyTo = &tg.InputReplyToMessage{ReplyToMsgID: id}
	}
	if _, topic, ok := convert.ParseChannel(msg.Chat); ok {
		replyTo = inTopic(replyTo, topic)
	}
	var id int
	if len(msg.Attachments) > 0 {
		id, err = s.sendAttachments(ctx, api, peer, msg, replyTo)
	} else {
		id, err = s.sendText(ctx, api, peer, msg.Body, replyTo, msg.Chat)
	}
	if err != nil {
		return "", err
	}
	return convert.MessageID(id), nil
}

// sendText sends one text message and returns its id.
func (s *Session) sendText(ctx context.Context, api *tg.Client, peer tg.InputPeerClass, body string, replyTo tg.InputReplyToClass, chat ids.ChatID) (int, error) {
	req := &tg.MessagesSendMessageRequest{Peer: peer, Message: body, RandomID: randomID(), ReplyTo: replyTo}
	res, err := api.MessagesSendMessage(ctx, req)
	if err != nil {
		return 0, s.sendError("send", err)
	}
	id := s.noteResult(ctx, res, req.RandomID)
	if id == 0 {
		return 0, fmt.Errorf("telegram: Telegram's answer (%T) names no message id", res)
	}
	s.recordSent(ctx, chat, id)
	return id, nil
}

// recordSent notes the chat of a message sent through the gateway.
func (s *Session) recordSent(ctx context.Context, chat ids.ChatID, id int) {
	key := keyMsgPrefix + string(convert.MessageID(id))
	if c, _, ok := convert.ParseChannel(chat); ok {
		key = chanMsgKey(c, id)
	}
	if err := s.kv.Set(ctx, key, msgRecord(chat, convert.UserID(s.self), true)); err != nil {
		s.host.Logger().Warn("telegram: cannot record a sent message", "account", s.acct, "err", err)
	}
}

// noteResult takes the update state and the message id from the answer
// to a send, so that the message is not echoed back as news.
func (s *Session) noteResult(ctx context.Context, res tg.UpdatesClass, randomID int64) int {
	s.upd.Lock()
	defer s.upd.Unlock()
	id := 0
	var updates []tg.UpdateClass
	switch r := res.(type) {
	case *tg.UpdateShortSentMessage:
		id = r.ID
		s.advanceLocked(ctx, r.Pts, r.PtsCount)
	case *tg.Updates:
		s.learnUsersLocked(ctx, r.Users)
		s.learnChannels(ctx, r.Chats)
		updates = r.Updates
	case *tg.UpdatesCombined:
		s.learnUsersLocked(ctx, r.Users)
		s.learnChannels(ctx, r.Chats)
		updates = r.Updates
	}
	channel := int64(0)
	for _, u := range updates {
		switch u := u.(type) {
		case *tg.UpdateMessageID:
			if u.RandomID == randomID {
				id = u.ID
			}
		case *tg.UpdateNewMessage:
			s.advanceLocked(ctx, u.Pts, u.PtsCount)
		case *tg.UpdateEditMessage:
			s.advanceLocked(ctx, u.Pts, u.PtsCount)
		case *tg.UpdateEditChannelMessage:
			s.advanceChannelLocked(ctx, channelOfMessage(u.Message), u.Pts, u.PtsCount)
		case *tg.UpdateNewChannelMessage:
			channel = channelOfMessage(u.Message)
			if have := s.channelPtsLocked(ctx, channel); have == 0 || have+u.PtsCount == u.Pts {
				s.setChannelPtsLocked(ctx, channel, u.Pts)
			}
		}
	}
	switch {
	case id != 0 && channel != 0:
		s.sentChan[chanMsg{channel, id}] = true
	case id != 0:
		s.sent[id] = true
	}
	return id
}

// advanceLocked moves pts over an update of ours that follows it
// directly; after a gap the next update's check catches up.
func (s *Session) advanceLocked(ctx context.Context, pts, count int) {
	if pts != 0 && s.pts+count == pts {
		s.setPtsLocked(ctx, pts)
	}
}

func (s *Session) setPtsLocked(ctx context.Context, pts int) {
	s.pts = pts
	if err := setInt(ctx, s.kv, keyPts, int64(pts)); err != nil {
		s.host.Logger().Warn("telegram: cannot store the update state", "account", s.acct, "err", err)
	}
}

// EditMessage implements gateway.Editor.
func (s *Session) EditMessage(ctx context.Context, e *event.Edit) error {
	api, err := s.client()
	if err != nil {
		return err
	}
	id, err := convert.ParseMessage(e.Target)
	if err != nil {
		return fmt.Errorf("%w: %w", err, gateway.ErrTargetNotFound)
	}
	if e.Body == "" {
		return fmt.Errorf("telegram: an edit cannot empty a message: %w", gateway.ErrBadRequest)
	}
	peer, err := s.inputPeer(ctx, e.Chat)
	if err != nil {
		return err
	}
	res, err := api.MessagesEditMessage(ctx, &tg.MessagesEditMessageRequest{Peer: peer, ID: id, Message: e.Body})
	if tgerr.Is(err, "MESSAGE_NOT_MODIFIED") {
		return nil
	}
	if err != nil {
		return s.sendError("edit", err)
	}
	s.noteResult(ctx, res, 0)
	return nil
}

// RetractMessage implements gateway.Retracter: the message is deleted for
// both sides.
func (s *Session) RetractMessage(ctx context.Context, r *event.Retract) error {
	api, err := s.client()
	if err != nil {
		return err
	}
	id, err := convert.ParseMessage(r.Target)
	if err != nil {
		return fmt.Errorf("%w: %w", err, gateway.ErrTargetNotFound)
	}
	if ch, _, ok := convert.ParseChannel(r.Chat); ok {
		return s.retractChannel(ctx, api, ch, id, r.Target)
	}
	res, err := api.MessagesDeleteMessages(ctx, &tg.MessagesDeleteMessagesRequest{Revoke: true, ID: []int{id}})
	if err != nil {
		return s.sendError("delete", err)
	}
	if res.PtsCount == 0 {
		return fmt.Errorf("telegram: message %s: %w", r.Target, gateway.ErrTargetNotFound)
	}
	s.upd.Lock()
	s.advanceLocked(ctx, res.Pts, res.PtsCount)
	s.upd.Unlock()
	return nil
}

// SendReaction implements gateway.Reactor: the owner's full set of
// reactions on the target (empty: none).
func (s *Session) SendReaction(ctx context.Context, r *event.Reaction) error {
	api, err := s.client()
	if err != nil {
		return err
	}
	id, err := convert.ParseMessage(r.Target)
	if err != nil {
		return fmt.Errorf("%w: %w", err, gateway.ErrTargetNotFound)
	}
	peer, err := s.inputPeer(ctx, r.Chat)
	if err != nil {
		return err
	}
	_, err = api.MessagesSendReaction(ctx, &tg.MessagesSendReactionRequest{Peer: peer, MsgID: id, Reaction: convert.Reactions(r.Emojis)})
	if tgerr.Is(err, "REACTION_INVALID", "REACTIONS_TOO_MANY", "REACTION_EMPTY") {
		return fmt.Errorf("telegram: reaction %q refused by Telegram: %w", r.Emojis, gateway.ErrNotAcceptable)
	}
	if err != nil && !tgerr.Is(err, "MESSAGE_NOT_MODIFIED") {
		return s.sendError("react", err)
	}
	return nil
}

// SendReceipt implements gateway.ReceiptSender: a displayed marker marks
// the chat read up to the newest message it names (Telegram's read state
// is "up to", as XEP-0333's is). Telegram has no delivery receipts: those
// are dropped, as the contract allows.
func (s *Session) SendReceipt(ctx context.Context, r *event.Receipt) error {
	if r.Kind != event.Displayed {
		return nil
	}
	api, err := s.client()
	if err != nil {
		return err
	}
	maxID := 0
	for _, t := range r.Targets {
		if id, err := convert.ParseMessage(t); err == nil && id > maxID {
			maxID = id
		}
	}
	if maxID == 0 {
		return fmt.Errorf("telegram: a read marker names no Telegram message: %w", gateway.ErrTargetNotFound)
	}
	peer, err := s.inputPeer(ctx, r.Chat)
	if err != nil {
		return err
	}
	if _, err := api.MessagesReadHistory(ctx, &tg.MessagesReadHistoryRequest{Peer: peer, MaxID: maxID}); err != nil {
		return s.sendError("mark read", err)
	}
	return nil
}

// SendChatState implements gateway.ChatStateSender.
func (s *Session) SendChatState(ctx context.Context, cs *event.ChatState) error {
	api, err := s.client()
	if err != nil {
		return err
	}
	peer, err := s.inputPeer(ctx, cs.Chat)
	if err != nil {
		return err
	}
	if _, err := api.MessagesSetTyping(ctx, &tg.MessagesSetTypingRequest{Peer: peer, Action: convert.TypingAction(cs.State)}); err != nil {
		return s.sendError("typing", err)
	}
	return nil
}

// ResolveUser implements gateway.UserResolver: "@name" or "name" is a
// Telegram username, looked up; a number is a user id this account has
// seen. Telegram finds nobody by phone number for a gateway that has not
// imported them as contacts, so phone numbers are refused.
func (s *Session) ResolveUser(ctx context.Context, input string) (ids.UserID, error) {
	if _, err := convert.ParseUser(input); err == nil {
		if _, err := s.inputPeer(ctx, ids.ChatID(input)); err != nil {
			return "", err
		}
		return ids.UserID(input), nil
	}
	name := input
	if len(name) > 0 && name[0] == '@' {
		name = name[1:]
	}
	if !usernameOK(name) {
		return "", fmt.Errorf("telegram: %q is not a Telegram @username (5 to 32 letters, digits and _): %w", input, gateway.ErrBadRequest)
	}
	api, err := s.client()
	if err != nil {
		return "", err
	}
	res, err := api.ContactsResolveUsername(ctx, &tg.ContactsResolveUsernameRequest{Username: name})
	if tgerr.Is(err, "USERNAME_NOT_OCCUPIED", "USERNAME_INVALID") {
		return "", fmt.Errorf("telegram: nobody has the username @%s: %w", name, gateway.ErrUnknownChat)
	}
	if err != nil {
		return "", s.sendError("resolve @"+name, err)
	}
	user := convert.PeerUser(res.Peer)
	if user == 0 {
		return "", fmt.Errorf("telegram: @%s is a group or channel, which are not bridged yet: %w", name, gateway.ErrNotSupported)
	}
	s.upd.Lock()
	s.learnUsersLocked(ctx, res.Users)
	s.upd.Unlock()
	return convert.UserID(user), nil
}

func usernameOK(name string) bool {
	if len(name) < 4 || len(name) > 32 {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// randomID is a send's random_id, which Telegram uses against duplicates.
func randomID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// ListContacts implements gateway.ContactLister: the account's Telegram
// address book. It also learns the access hashes needed to write to them,
// and announces contacts not seen before (on every connection).
func (s *Session) ListContacts(ctx context.Context) ([]*event.ContactInfo, error) {
	s.mu.Lock()
	api := s.api
	s.mu.Unlock()
	if api == nil {
		return nil, fmt.Errorf("telegram: account %s is not connected: %w", s.acct, gateway.ErrUnavailable)
	}
	res, err := api.ContactsGetContacts(ctx, 0)
	if err != nil {
		return nil, s.sendError("contacts", err)
	}
	c, ok := res.(*tg.ContactsContacts)
	if !ok {
		return nil, nil // not modified: nothing new
	}
	s.upd.Lock()
	s.learnUsersLocked(ctx, c.Users)
	s.upd.Unlock()
	now := time.Now().UTC()
	out := make([]*event.ContactInfo, 0, len(c.Users))
	for _, uc := range c.Users {
		if u, ok := uc.(*tg.User); ok {
			out = append(out, convert.Contact(s.acct, u, now))
		}
	}
	return out, nil
}

func tgErrIs(err error, types ...string) bool { return tgerr.Is(err, types...) }
