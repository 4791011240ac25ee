package telegramtest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// account is one Telegram user's server-side state.
type account struct {
	user     tg.User
	sessions map[int64]tgtest.Session
	// offline: Disconnect was called; updates wait for getDifference.
	offline bool
	pts     int
	// log is every pts-carrying update, for updates.getDifference.
	log []tg.UpdateClass
	// seq numbers the update containers without pts (user statuses);
	// seqLog holds them for updates.getDifference, by their dates, which
	// grow by at least a second each (seqDate is the last).
	seq     int
	seqDate int
	seqLog  []datedUpdate
	// stateDate is the last state date handed out: later sequenced
	// updates are dated after it, so a difference from it has them.
	stateDate int
	lastID    int
	box       map[int]*tg.Message
	// twins maps a message of this account to the other party's copy.
	twins map[int]msgRef
	// contacts are the users in the account's address book.
	contacts []int64
	// password is the 2FA verifier, if the account has one.
	password *password
}

// datedUpdate is a sequenced update and the date of its container.
type datedUpdate struct {
	date int
	upd  tg.UpdateClass
}

// msgRef names one copy of a message.
type msgRef struct {
	user int64
	id   int
}

// request is a decodable TL request.
type request[T any] interface {
	*T
	bin.Decoder
}

// on registers fn for the request type id, named name (for FloodWait and
// Calls). fn's error, if a *tgerr.Error, is the RPC error answered.
func on[T any, P request[T]](s *Server, d *tgtest.Dispatcher, id uint32, name string, fn func(req *tgtest.Request, r P) (bin.Encoder, error)) {
	d.HandleFunc(id, func(srv *tgtest.Server, req *tgtest.Request) error {
		r := P(new(T))
		if err := r.Decode(req.Buf); err != nil {
			return fmt.Errorf("decode %s: %w", name, err)
		}
		s.mu.Lock()
		s.requests[name]++
		flood := s.floods[name]
		delete(s.floods, name)
		s.mu.Unlock()
		if flood > 0 {
			return srv.SendErr(req, tgerr.New(420, "FLOOD_WAIT_"+strconv.Itoa(flood)))
		}
		res, err := fn(req, r)
		if rpcErr, ok := tgerr.As(err); ok {
			return srv.SendErr(req, rpcErr)
		}
		if err != nil {
			return err
		}
		return srv.SendResult(req, res)
	})
}

func (s *Server) register(d *tgtest.Dispatcher) {
	on(s, d, tg.AuthSendCodeRequestTypeID, "auth.sendCode", s.sendCode)
	on(s, d, tg.AuthSignInRequestTypeID, "auth.signIn", s.signIn)
	on(s, d, tg.AccountGetPasswordRequestTypeID, "account.getPassword", s.getPassword)
	on(s, d, tg.AuthCheckPasswordRequestTypeID, "auth.checkPassword", s.checkPassword)
	on(s, d, tg.AuthExportLoginTokenRequestTypeID, "auth.exportLoginToken", s.exportLoginToken)
	on(s, d, tg.AuthLogOutRequestTypeID, "auth.logOut", s.logOut)
	on(s, d, tg.UsersGetUsersRequestTypeID, "users.getUsers", s.getUsers)
	on(s, d, tg.ContactsGetContactsRequestTypeID, "contacts.getContacts", s.getContacts)
	on(s, d, tg.ContactsResolveUsernameRequestTypeID, "contacts.resolveUsername", s.resolveUsername)
	on(s, d, tg.MessagesSendMessageRequestTypeID, "messages.sendMessage", s.sendMessage)
	on(s, d, tg.MessagesEditMessageRequestTypeID, "messages.editMessage", s.editMessage)
	on(s, d, tg.MessagesDeleteMessagesRequestTypeID, "messages.deleteMessages", s.deleteMessages)
	on(s, d, tg.MessagesSendReactionRequestTypeID, "messages.sendReaction", s.sendReaction)
	on(s, d, tg.MessagesReadHistoryRequestTypeID, "messages.readHistory", s.readHistory)
	on(s, d, tg.MessagesSetTypingRequestTypeID, "messages.setTyping", s.setTyping)
	on(s, d, tg.UploadGetFileRequestTypeID, "upload.getFile", s.getFile)
	on(s, d, tg.UploadSaveFilePartRequestTypeID, "upload.saveFilePart", s.saveFilePart)
	on(s, d, tg.UploadSaveBigFilePartRequestTypeID, "upload.saveBigFilePart", s.saveBigFilePart)
	on(s, d, tg.MessagesSendMediaRequestTypeID, "messages.sendMedia", s.sendMediaRPC)
	on(s, d, tg.MessagesGetDialogsRequestTypeID, "messages.getDialogs", s.getDialogs)
	on(s, d, tg.MessagesGetFullChatRequestTypeID, "messages.getFullChat", s.getFullChat)
	on(s, d, tg.UpdatesGetStateRequestTypeID, "updates.getState", s.getState)
	on(s, d, tg.UpdatesGetDifferenceRequestTypeID, "updates.getDifference", s.getDifference)
	on(s, d, tg.ChannelsGetFullChannelRequestTypeID, "channels.getFullChannel", s.getFullChannel)
	on(s, d, tg.ChannelsGetParticipantsRequestTypeID, "channels.getParticipants", s.getParticipants)
	on(s, d, tg.UpdatesGetChannelDifferenceRequestTypeID, "updates.getChannelDifference", s.getChannelDifference)
	on(s, d, tg.MessagesGetForumTopicsRequestTypeID, "messages.getForumTopics", s.getForumTopics)
	on(s, d, tg.ChannelsDeleteMessagesRequestTypeID, "channels.deleteMessages", s.deleteChannelMessages)
	on(s, d, tg.MessagesEditChatAboutRequestTypeID, "messages.editChatAbout", s.editChatAbout)
	on(s, d, tg.MessagesAddChatUserRequestTypeID, "messages.addChatUser", s.addChatUser)
	on(s, d, tg.MessagesDeleteChatUserRequestTypeID, "messages.deleteChatUser", s.deleteChatUser)
	on(s, d, tg.MessagesEditChatAdminRequestTypeID, "messages.editChatAdmin", s.editChatAdmin)
	on(s, d, tg.MessagesCreateChatRequestTypeID, "messages.createChat", s.createChat)
	on(s, d, tg.ChannelsInviteToChannelRequestTypeID, "channels.inviteToChannel", s.inviteToChannel)
	on(s, d, tg.ChannelsEditBannedRequestTypeID, "channels.editBanned", s.editBanned)
	on(s, d, tg.ChannelsEditAdminRequestTypeID, "channels.editAdmin", s.editAdmin)
	on(s, d, tg.ChannelsLeaveChannelRequestTypeID, "channels.leaveChannel", s.leaveChannel)
}

// selfLocked returns the user signed in with the request's auth key and
// records the session for updates; AUTH_KEY_UNREGISTERED if none.
func (s *Server) selfLocked(req *tgtest.Request) (*account, error) {
	id, ok := s.keys[req.Session.AuthKey.ID]
	if !ok {
		return nil, tgerr.New(401, "AUTH_KEY_UNREGISTERED")
	}
	a := s.users[id]
	if !a.offline {
		a.sessions[req.Session.ID] = req.Session
	}
	return a, nil
}

func (s *Server) sendCode(_ *tgtest.Request, r *tg.AuthSendCodeRequest) (bin.Encoder, error) {
	if r.APIID != APIID || r.APIHash != APIHash {
		return nil, tgerr.New(400, "API_ID_INVALID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	phone := trimPlus(r.PhoneNumber)
	if _, ok := s.byPhone[phone]; !ok {
		return nil, tgerr.New(400, "PHONE_NUMBER_INVALID")
	}
	s.codeSeq++
	c := pendingCode{hash: "hash" + strconv.Itoa(s.codeSeq), code: fmt.Sprintf("%05d", 12345+s.codeSeq)}
	s.codes[phone] = c
	s.notifyLocked()
	return &tg.AuthSentCode{Type: &tg.AuthSentCodeTypeApp{Length: len(c.code)}, PhoneCodeHash: c.hash}, nil
}

func (s *Server) signIn(req *tgtest.Request, r *tg.AuthSignInRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	phone := trimPlus(r.PhoneNumber)
	c, ok := s.codes[phone]
	switch {
	case !ok || c.hash != r.PhoneCodeHash:
		return nil, tgerr.New(400, "PHONE_CODE_EXPIRED")
	case c.code != r.PhoneCode:
		return nil, tgerr.New(400, "PHONE_CODE_INVALID")
	}
	delete(s.codes, phone)
	a := s.users[s.byPhone[phone]]
	if a.password != nil {
		s.pending2FA[req.Session.AuthKey.ID] = a.user.ID
		return nil, tgerr.New(401, "SESSION_PASSWORD_NEEDED")
	}
	return s.signedInLocked(req, a), nil
}

// signedInLocked binds the request's auth key to a.
func (s *Server) signedInLocked(req *tgtest.Request, a *account) *tg.AuthAuthorization {
	s.keys[req.Session.AuthKey.ID] = a.user.ID
	a.sessions[req.Session.ID] = req.Session
	self := a.user
	self.Self = true
	self.SetFlags()
	return &tg.AuthAuthorization{User: &self}
}

func (s *Server) logOut(req *tgtest.Request, _ *tg.AuthLogOutRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.selfLocked(req); err != nil {
		return nil, err
	}
	delete(s.keys, req.Session.AuthKey.ID)
	return &tg.AuthLoggedOut{}, nil
}

func (s *Server) getUsers(req *tgtest.Request, r *tg.UsersGetUsersRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	var out []tg.UserClass
	for _, in := range r.ID {
		switch in := in.(type) {
		case *tg.InputUserSelf:
			u := self.user
			u.Self = true
			u.SetFlags()
			out = append(out, &u)
		case *tg.InputUser:
			if a, ok := s.users[in.UserID]; ok {
				u := a.user
				out = append(out, &u)
			}
		}
	}
	return &tg.UserClassVector{Elems: out}, nil
}

func (s *Server) getContacts(req *tgtest.Request, _ *tg.ContactsGetContactsRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	res := &tg.ContactsContacts{SavedCount: len(self.contacts)}
	for _, id := range self.contacts {
		res.Contacts = append(res.Contacts, tg.Contact{UserID: id})
		res.Users = append(res.Users, s.usersLocked(id)...)
	}
	return res, nil
}

func (s *Server) resolveUsername(req *tgtest.Request, r *tg.ContactsResolveUsernameRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.selfLocked(req); err != nil {
		return nil, err
	}
	id, ok := s.byName[r.Username]
	if !ok {
		return nil, tgerr.New(400, "USERNAME_NOT_OCCUPIED")
	}
	u := s.users[id].user
	return &tg.ContactsResolvedPeer{Peer: &tg.PeerUser{UserID: id}, Users: []tg.UserClass{&u}}, nil
}

// peerLocked resolves an input peer naming a user, checking its access
// hash as Telegram does.
func (s *Server) peerLocked(self *account, p tg.InputPeerClass) (*account, error) {
	switch p := p.(type) {
	case *tg.InputPeerSelf:
		return self, nil
	case *tg.InputPeerUser:
		a, ok := s.users[p.UserID]
		if !ok || a.user.AccessHash != p.AccessHash {
			return nil, tgerr.New(400, "PEER_ID_INVALID")
		}
		return a, nil
	}
	return nil, tgerr.New(400, "PEER_ID_INVALID")
}

func (s *Server) sendMessage(req *tgtest.Request, r *tg.MessagesSendMessageRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	if r.Message == "" {
		return nil, tgerr.New(400, "MESSAGE_EMPTY")
	}
	if pc, ok := r.Peer.(*tg.InputPeerChat); ok {
		return s.sendGroupLocked(req, self, pc.ChatID, r)
	}
	if pc, ok := r.Peer.(*tg.InputPeerChannel); ok {
		return s.sendChannelLocked(req, self, pc, r)
	}
	peer, err := s.peerLocked(self, r.Peer)
	if err != nil {
		return nil, err
	}
	replyTo := 0
	if rt, ok := r.ReplyTo.(*tg.InputReplyToMessage); ok {
		if _, ok := self.box[rt.ReplyToMsgID]; !ok {
			return nil, tgerr.New(400, "REPLY_TO_INVALID")
		}
		replyTo = rt.ReplyToMsgID
	}
	s.sending = &req.Session
	out, in := s.deliverLocked(self, peer, r.Message, r.Entities, replyTo)
	s.sending = nil
	res := &tg.Updates{
		Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: out.ID, RandomID: r.RandomID},
			&tg.UpdateNewMessage{Message: out, Pts: self.pts, PtsCount: 1},
		},
		Users: s.usersLocked(self.user.ID, peer.user.ID),
		Date:  out.Date,
	}
	_ = in
	return res, nil
}

// Send makes user from send text to user to, as their own app would,
// and returns the recipient's copy.
func (s *Server) Send(from, to int64, text string, entities ...tg.MessageEntityClass) (*tg.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, b := s.users[from], s.users[to]
	if a == nil || b == nil {
		return nil, errNoUser
	}
	_, in := s.deliverLocked(a, b, text, entities, 0)
	return in, nil
}

// deliverLocked stores a message in both boxes, answers the sender's other
// sessions nothing (the result does) and pushes the recipient's copy.
func (s *Server) deliverLocked(from, to *account, text string, entities []tg.MessageEntityClass, replyTo int) (out, in *tg.Message) {
	date := int(s.srvNow())
	out = &tg.Message{
		ID: from.nextID(), Out: true, FromID: &tg.PeerUser{UserID: from.user.ID},
		PeerID: &tg.PeerUser{UserID: to.user.ID}, Date: date, Message: text, Entities: entities,
	}
	if replyTo != 0 {
		out.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: replyTo}
	}
	out.Media = s.pendingMedia
	out.SetFlags()
	from.box[out.ID] = out
	// The sender's other sessions (its phone, or the gateway when the
	// phone sends) learn of it by an update; the sending session by the
	// answer to its request.
	s.pushExceptLocked(from, &tg.UpdateNewMessage{Message: out, PtsCount: 1}, s.sending, to.user.ID)
	if from == to {
		return out, out
	}
	in = &tg.Message{
		ID: to.nextID(), FromID: &tg.PeerUser{UserID: from.user.ID},
		PeerID: &tg.PeerUser{UserID: from.user.ID}, Date: date, Message: text, Entities: entities,
	}
	if replyTo != 0 {
		if twin, ok := from.twins[replyTo]; ok && twin.user == to.user.ID {
			in.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: twin.id}
		}
	}
	in.Media = s.pendingMedia
	in.SetFlags()
	to.box[in.ID] = in
	from.twins[out.ID] = msgRef{to.user.ID, in.ID}
	to.twins[in.ID] = msgRef{from.user.ID, out.ID}
	s.pushLocked(to, &tg.UpdateNewMessage{Message: in, PtsCount: 1}, from.user.ID)
	return out, in
}

func (a *account) nextID() int {
	if a.box == nil {
		a.box, a.twins = map[int]*tg.Message{}, map[int]msgRef{}
	}
	a.lastID++
	return a.lastID
}

// pushLocked gives upd the account's next pts (if it carries one), logs
// it and sends it to the account's live sessions, with the users named.
func (s *Server) pushLocked(a *account, upd tg.UpdateClass, users ...int64) {
	s.pushExceptLocked(a, upd, nil, users...)
}

// pushExceptLocked is pushLocked sparing the session except (nil: none).
func (s *Server) pushExceptLocked(a *account, upd tg.UpdateClass, except *tgtest.Session, users ...int64) {
	switch u := upd.(type) {
	case *tg.UpdateNewMessage:
		a.pts += u.PtsCount
		u.Pts = a.pts
	case *tg.UpdateEditMessage:
		a.pts += u.PtsCount
		u.Pts = a.pts
	case *tg.UpdateDeleteMessages:
		a.pts += u.PtsCount
		u.Pts = a.pts
	case *tg.UpdateReadHistoryOutbox:
		a.pts += u.PtsCount
		u.Pts = a.pts
	}
	switch upd.(type) {
	case *tg.UpdateUserTyping, *tg.UpdateMessageReactions, *tg.UpdateUserStatus: // no pts
	default:
		a.log = append(a.log, upd)
	}
	s.notifyLocked()
	msg := &tg.Updates{Updates: []tg.UpdateClass{upd}, Users: s.usersLocked(users...), Date: int(s.srvNow())}
	if _, ok := upd.(*tg.UpdateUserStatus); ok {
		// Sequenced: a client that sees seq jump asks for the difference,
		// which gives what came after the date of its state.
		a.seq++
		a.seqDate = max(msg.Date, a.seqDate+1, a.stateDate+1)
		msg.Seq, msg.Date = a.seq, a.seqDate
		a.seqLog = append(a.seqLog, datedUpdate{a.seqDate, upd})
		if s.loseNext {
			s.loseNext = false
			return
		}
	}
	if a.offline {
		return
	}
	for id, sess := range a.sessions {
		if except != nil && except.ID == sess.ID {
			continue
		}
		if err := s.srv.Send(contextFor(), sess, tgtest.MessageFromServer, msg); err != nil {
			delete(a.sessions, id)
		}
	}
}

// usersLocked returns the users named, as a client sees them.
func (s *Server) usersLocked(ids ...int64) []tg.UserClass {
	var out []tg.UserClass
	for _, id := range ids {
		if a, ok := s.users[id]; ok {
			u := a.user
			out = append(out, &u)
		}
	}
	return out
}

func (s *Server) editMessage(req *tgtest.Request, r *tg.MessagesEditMessageRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	switch p := r.Peer.(type) {
	case *tg.InputPeerChat:
		return s.editGroupLocked(self, p.ChatID, r)
	case *tg.InputPeerChannel:
		return s.editChannelLocked(req, self, p, r)
	}
	peer, err := s.peerLocked(self, r.Peer)
	if err != nil {
		return nil, err
	}
	m, ok := self.box[r.ID]
	if !ok || !m.Out {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	if m.Message == r.Message {
		return nil, tgerr.New(400, "MESSAGE_NOT_MODIFIED")
	}
	date := int(s.srvNow())
	m.Message, m.Entities, m.EditDate = r.Message, r.Entities, date
	m.SetFlags()
	self.pts++
	self.log = append(self.log, &tg.UpdateEditMessage{Message: m, Pts: self.pts, PtsCount: 1})
	if twin, ok := self.twins[r.ID]; ok && twin.user == peer.user.ID {
		tm := peer.box[twin.id]
		tm.Message, tm.Entities, tm.EditDate = r.Message, r.Entities, date
		tm.SetFlags()
		s.pushLocked(peer, &tg.UpdateEditMessage{Message: tm, PtsCount: 1}, self.user.ID)
	}
	return &tg.Updates{
		Updates: []tg.UpdateClass{&tg.UpdateEditMessage{Message: m, Pts: self.pts, PtsCount: 1}},
		Users:   s.usersLocked(self.user.ID, peer.user.ID), Date: date,
	}, nil
}

func (s *Server) deleteMessages(req *tgtest.Request, r *tg.MessagesDeleteMessagesRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	var mine []int
	theirs := map[int64][]int{}
	for _, id := range r.ID {
		if _, ok := self.box[id]; !ok {
			continue
		}
		out := self.box[id].Out
		delete(self.box, id)
		mine = append(mine, id)
		if r.Revoke && out {
			for _, c := range s.groupCopies[msgRef{self.user.ID, id}] {
				if _, ok := s.users[c.user].box[c.id]; ok && c.user != self.user.ID {
					delete(s.users[c.user].box, c.id)
					theirs[c.user] = append(theirs[c.user], c.id)
				}
			}
		}
		if twin, ok := self.twins[id]; ok && r.Revoke {
			if _, ok := s.users[twin.user].box[twin.id]; ok {
				delete(s.users[twin.user].box, twin.id)
				theirs[twin.user] = append(theirs[twin.user], twin.id)
			}
		}
	}
	if len(mine) > 0 {
		self.pts += len(mine)
		self.log = append(self.log, &tg.UpdateDeleteMessages{Messages: mine, Pts: self.pts, PtsCount: len(mine)})
	}
	for user, list := range theirs {
		s.pushLocked(s.users[user], &tg.UpdateDeleteMessages{Messages: list, PtsCount: len(list)})
	}
	return &tg.MessagesAffectedMessages{Pts: self.pts, PtsCount: len(mine)}, nil
}

// DeleteFor makes user delete its messages ids for everyone.
func (s *Server) DeleteFor(user int64, ids ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self := s.users[user]
	for _, id := range ids {
		delete(self.box, id)
		if twin, ok := self.twins[id]; ok {
			delete(s.users[twin.user].box, twin.id)
			s.pushLocked(s.users[twin.user], &tg.UpdateDeleteMessages{Messages: []int{twin.id}, PtsCount: 1})
		}
	}
}

func (s *Server) readHistory(req *tgtest.Request, r *tg.MessagesReadHistoryRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	peer, err := s.peerLocked(self, r.Peer)
	if err != nil {
		return nil, err
	}
	s.readLocked(self, peer, r.MaxID)
	return &tg.MessagesAffectedMessages{Pts: self.pts}, nil
}

// readLocked tells peer that self read its messages up to maxID (an id in
// self's box), naming the newest of them in peer's box.
func (s *Server) readLocked(self, peer *account, maxID int) {
	theirMax := 0
	for id, twin := range self.twins {
		if id <= maxID && twin.user == peer.user.ID && !self.box[id].Out && twin.id > theirMax {
			theirMax = twin.id
		}
	}
	if theirMax > 0 {
		s.pushLocked(peer, &tg.UpdateReadHistoryOutbox{Peer: &tg.PeerUser{UserID: self.user.ID}, MaxID: theirMax, PtsCount: 1}, self.user.ID)
	}
}

// Read makes user read its chat with peer up to its message maxID.
func (s *Server) Read(user, peer int64, maxID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readLocked(s.users[user], s.users[peer], maxID)
}

func (s *Server) setTyping(req *tgtest.Request, r *tg.MessagesSetTypingRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	peer, err := s.peerLocked(self, r.Peer)
	if err != nil {
		return nil, err
	}
	if peer != self {
		s.pushLocked(peer, &tg.UpdateUserTyping{UserID: self.user.ID, Action: r.Action}, self.user.ID)
	}
	return &tg.BoolTrue{}, nil
}

// Typing makes user show action in its chat with peer.
func (s *Server) Typing(user, peer int64, action tg.SendMessageActionClass) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushLocked(s.users[peer], &tg.UpdateUserTyping{UserID: user, Action: action}, user)
}

func (s *Server) getState(req *tgtest.Request, _ *tg.UpdatesGetStateRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	self.stateDate = max(int(s.srvNow()), self.seqDate)
	return &tg.UpdatesState{Pts: self.pts, Date: self.stateDate, Seq: self.seq}, nil
}

func (s *Server) getDifference(req *tgtest.Request, r *tg.UpdatesGetDifferenceRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	self, err := s.selfLocked(req)
	if err != nil {
		return nil, err
	}
	self.stateDate = max(int(s.srvNow()), self.seqDate)
	state := tg.UpdatesState{Pts: self.pts, Date: self.stateDate, Seq: self.seq}
	var sequenced []tg.UpdateClass
	for _, d := range self.seqLog {
		if d.date > r.Date {
			sequenced = append(sequenced, d.upd)
		}
	}
	if r.Pts >= self.pts && len(sequenced) == 0 {
		return &tg.UpdatesDifferenceEmpty{Date: state.Date, Seq: state.Seq}, nil
	}
	diff := &tg.UpdatesDifference{State: state, OtherUpdates: sequenced}
	users := map[int64]bool{self.user.ID: true}
	for _, upd := range self.log {
		switch u := upd.(type) {
		case *tg.UpdateNewMessage:
			if u.Pts > r.Pts {
				diff.NewMessages = append(diff.NewMessages, u.Message)
				if m, ok := u.Message.(*tg.Message); ok {
					if p, ok := m.PeerID.(*tg.PeerUser); ok {
						users[p.UserID] = true
					}
				}
			}
		case *tg.UpdateEditMessage:
			if u.Pts > r.Pts {
				diff.OtherUpdates = append(diff.OtherUpdates, u)
			}
		case *tg.UpdateDeleteMessages:
			if u.Pts > r.Pts {
				diff.OtherUpdates = append(diff.OtherUpdates, u)
			}
		case *tg.UpdateReadHistoryOutbox:
			if u.Pts > r.Pts {
				diff.OtherUpdates = append(diff.OtherUpdates, u)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(users)) {
		diff.Users = append(diff.Users, s.usersLocked(id)...)
	}
	return diff, nil
}

func (s *Server) sendGroupLocked(req *tgtest.Request, self *account, id int64, r *tg.MessagesSendMessageRequest) (bin.Encoder, error) {
	g := s.groups[id]
	if g == nil || !slices.Contains(g.members, self.user.ID) {
		return nil, tgerr.New(400, "CHAT_ID_INVALID")
	}
	replyTo := 0
	if rt, ok := r.ReplyTo.(*tg.InputReplyToMessage); ok {
		replyTo = rt.ReplyToMsgID
	}
	s.sending = &req.Session
	out := s.deliverGroupLocked(self, g, r.Message, replyTo)
	s.sending = nil
	return &tg.Updates{
		Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: out.ID, RandomID: r.RandomID},
			&tg.UpdateNewMessage{Message: out, Pts: self.pts, PtsCount: 1},
		},
		Users: s.usersLocked(g.members...), Chats: []tg.ChatClass{g.chat(self.user.ID)}, Date: out.Date,
	}, nil
}
