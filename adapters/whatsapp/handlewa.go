package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// handle is the session's whatsmeow event handler: it turns each event
// into neutral events for the hub, or into a state change. It returns
// false when a message could not be handed to the hub, so that whatsmeow
// does not acknowledge it and WhatsApp delivers it again. It must not wait
// for the session to stop (Disconnect waits for it).
func (s *Session) handle(evt any) (ok bool) {
	defer s.recoverEvent(evt, &ok) // panics.go
	s.mu.Lock()
	phase, cancel := s.phase, s.cancel
	s.mu.Unlock()
	if phase != sessConnecting && phase != sessConnected || cancel == nil {
		return false
	}
	ctx := s.eventContext()
	switch e := evt.(type) {
	case *events.Connected:
		s.connected(ctx)
	case *events.Disconnected:
		s.mu.Lock()
		if s.phase == sessConnected {
			s.phase = sessConnecting
		}
		s.mu.Unlock()
		s.setState(ctx, event.StateDisconnected, "The connection to WhatsApp was lost; reconnecting.")
	case *events.KeepAliveTimeout:
		s.onKeepAliveTimeout(ctx, e) // connstate.go
	case *events.KeepAliveRestored:
		s.onKeepAliveRestored(ctx) // connstate.go
	case *events.LoggedOut:
		s.loggedOut(ctx, e)
	case *events.StreamReplaced:
		s.stopped(ctx, event.StateDisconnected,
			"Another program connected with this gateway's WhatsApp device (a second Drawbridge on the same database?), "+
				"so this one stopped. Restart the gateway, or link the account again.", 0)
	case *events.ClientOutdated:
		s.stopped(ctx, event.StateDisconnected,
			"WhatsApp refuses this version of the gateway as outdated; the operator must update Drawbridge. "+
				"Your account stays linked.", 0)
	case *events.TemporaryBan:
		s.onTemporaryBan(ctx, e) // connstate.go
	case *events.ConnectFailure:
		s.onConnectFailure(ctx, e) // connstate.go
	case *events.PushNameSetting:
		s.presenceSynced(ctx, false)
	case *events.AppStateSyncComplete:
		s.onAppStateSynced(ctx, e) // contacts_sync.go
	case *events.AppStateSyncError:
		s.onAppStateSyncError(ctx, e)
	case *events.Message:
		return s.onMessage(ctx, e)
	case *events.UndecryptableMessage:
		return s.onUndecryptable(ctx, e) // undecryptable.go
	case *events.Receipt:
		if e.IsFromMe && e.Sender.Device == 0 {
			s.seePhone(ctx, e.Timestamp)
		}
		s.readElsewhere(ctx, e)
		return s.emitConverted(ctx, func() (event.Event, error) { return convert.Receipt(ctx, s.env(), e) })
	case *events.ChatPresence:
		return s.emitConverted(ctx, func() (event.Event, error) { return convert.ChatPresence(ctx, s.env(), e) })
	case *events.Presence:
		return s.emitConverted(ctx, func() (event.Event, error) { return convert.Presence(ctx, s.env(), e, s.a.now()) })
	case *events.PushName:
		return s.emitContact(ctx, e.JID, e.JIDAlt)
	case *events.Contact:
		return s.emitContact(ctx, e.JID, types.EmptyJID)
	case *events.BusinessName:
		return s.emitContact(ctx, e.JID, types.EmptyJID)
	case *events.Picture:
		if e.JID.Server == types.GroupServer {
			return s.onGroupPicture(ctx, e) // groupavatar.go
		}
		user := s.users.UserID(ctx, e.JID, types.EmptyJID)
		hash := e.PictureID
		if e.Remove {
			hash = ""
		}
		s.mu.Lock()
		s.avatars[user] = hash
		s.mu.Unlock()
		return s.emitContact(ctx, e.JID, types.EmptyJID)
	case *events.CallOffer:
		return s.emitConverted(ctx, func() (event.Event, error) { return convert.CallNotice(ctx, s.env(), e.BasicCallMeta, "") })
	case *events.CallOfferNotice:
		return s.emitConverted(ctx, func() (event.Event, error) { return convert.CallNotice(ctx, s.env(), e.BasicCallMeta, e.Media) })
	case *events.MediaRetry:
		s.seePhone(ctx, e.Timestamp)
		return s.onMediaRetry(ctx, e) // mediaretry.go
	case *events.GroupInfo:
		return s.onGroupInfo(ctx, e)
	case *events.JoinedGroup:
		return s.onJoinedGroup(ctx, e)
	case *events.HistorySync:
		s.onHistoryPushNames(ctx, e.Data.GetPushnames()) // contacts_sync.go
		return s.onHistorySync(ctx, e)                   // history.go
	}
	return true
}

// eventContext is the context events are handled in: the run context, so
// that Disconnect ends work in progress.
func (s *Session) eventContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runCtx()
}

// env is what convert needs from the session.
func (s *Session) env() convert.Env {
	return convert.Env{Account: s.acct, Users: s.users, Name: s.name, Open: s.opener}
}

// onMessage handles a message (text, media, edit, revoke, reaction ...).
func (s *Session) onMessage(ctx context.Context, e *events.Message) bool {
	if e.Info.IsFromMe && e.Info.Sender.Device == 0 {
		s.seePhone(ctx, e.Info.Timestamp)
	}
	if handled, ok := s.onMessageTimer(ctx, e); handled { // disappearing.go
		return ok
	}
	if handled, ok := s.onPoll(ctx, e); handled { // polls.go
		return ok
	}
	ev, err := convert.Message(ctx, s.mediaEnv(e.Info), e) // mediaretry.go
	if err != nil {
		s.logSkip(e.Info.ID, err)
		return true
	}
	if !e.Info.IsFromMe {
		s.noteIdentity(ctx, e.Info.Sender, ev.EventMeta().Sender) // identity.go
	}
	switch {
	case e.Info.Chat.Server == types.GroupServer:
		if !e.Info.IsFromMe {
			s.rememberMember(ev.EventMeta().Chat, ev.EventMeta().Sender, e.Info.Sender)
		}
	case !e.Info.IsGroup && !e.Info.Chat.IsBroadcastList():
		s.rememberAddr(ev.EventMeta().Chat, e.Info.Chat)
	}
	if e.Info.IsFromMe {
		s.mu.Lock()
		s.sent.put(e.Info.ID, e.Info.Timestamp)
		s.mu.Unlock()
	} else if _, ok := ev.(*event.Message); ok {
		s.subscribePresence(e.Info.Chat)
		s.noteUnread(ctx, ev.EventMeta().Chat, e.Info.ID, e.Info.Sender, e.Info.IsGroup)
	}
	if m, isMsg := ev.(*event.Message); isMsg {
		if handled, ok := s.arrivedAfterNotice(ctx, m); handled {
			return ok
		}
	}
	return s.emitInChat(ctx, e, ev) // chatqueue.go
}

// emitConverted converts and emits one event.
func (s *Session) emitConverted(ctx context.Context, conv func() (event.Event, error)) bool {
	ev, err := conv()
	if err != nil {
		s.logSkip("", err)
		return true
	}
	return s.emit(ctx, ev)
}

// logSkip logs an event that produced nothing for the hub.
func (s *Session) logSkip(id types.MessageID, err error) {
	var sk *convert.Skipped
	if errors.As(err, &sk) {
		s.log.Debug("whatsapp: event not bridged", "id", id, "reason", sk.Reason)
		return
	}
	s.log.Warn("whatsapp: cannot convert an event", "id", id, "err", err)
}

// emit hands an event to the hub. A refusal that trying again cannot fix
// counts as handled; anything else makes WhatsApp deliver it again.
func (s *Session) emit(ctx context.Context, ev event.Event) bool {
	err := s.host.Emit(ctx, ev)
	if err == nil {
		return true
	}
	s.log.Warn("whatsapp: the hub did not take an event", "event", fmt.Sprintf("%T", ev), "id", ev.EventMeta().ID, "err", err)
	for _, permanent := range []error{gateway.ErrBadRequest, gateway.ErrNotSupported, gateway.ErrUnknownChat,
		gateway.ErrForbidden, gateway.ErrNotLinked, gateway.ErrNotRegistered, gateway.ErrTargetNotFound} {
		if errors.Is(err, permanent) {
			return true
		}
	}
	return false
}

// emitContact emits what the session knows of a contact: its best name
// and its avatar id. The hub keeps the name of the latest ContactInfo, so
// every ContactInfo carries the full picture.
func (s *Session) emitContact(ctx context.Context, jid, alt types.JID) bool {
	if jid.Server == types.GroupServer || jid.Server == types.NewsletterServer || jid.IsBroadcastList() {
		return true
	}
	user := s.users.UserID(ctx, jid, alt)
	if user == ids.UserID(s.acct) || user == "" {
		return true
	}
	info := s.contactInfo(ctx, user, jid)
	if info.Name == "" && info.AvatarHash == "" {
		return true
	}
	return s.emit(ctx, info)
}

// contactInfo describes a contact from the device store and the avatar
// cache.
func (s *Session) contactInfo(ctx context.Context, user ids.UserID, jid types.JID) *event.ContactInfo {
	name := s.name(ctx, jid)
	if name == "" {
		if pn, err := waid.JID(string(user)); err == nil && pn != jid {
			name = s.name(ctx, pn)
		}
	}
	s.mu.Lock()
	avatar := s.avatars[user]
	s.mu.Unlock()
	return &event.ContactInfo{
		Meta:       event.Meta{Account: s.acct, Chat: ids.DirectChat(user), Sender: user, Time: s.a.now()},
		Name:       name,
		Phone:      waid.Phone(user),
		AvatarHash: avatar,
	}
}

// name is the best display name of a user: the owner's address book, then
// the name the user chose (push name), then a business name.
func (s *Session) name(ctx context.Context, jid types.JID) string {
	if s.contacts == nil {
		return ""
	}
	info, err := s.contacts.GetContact(ctx, jid.ToNonAD())
	if err != nil || !info.Found {
		return ""
	}
	for _, n := range []string{info.FullName, info.FirstName, info.PushName, info.BusinessName} {
		if n != "" {
			return n
		}
	}
	return ""
}

// subscribePresence asks WhatsApp for a contact's presence, once per
// connection.
func (s *Session) subscribePresence(chat types.JID) {
	if chat.Server != types.DefaultUserServer && chat.Server != types.HiddenUserServer {
		return
	}
	jid := chat.ToNonAD()
	s.mu.Lock()
	if s.presence == nil || s.presence[jid] || !s.presenceSent() {
		s.mu.Unlock()
		return
	}
	s.presence[jid] = true
	ctx := s.runCtx()
	s.mu.Unlock()
	go func() {
		if err := s.c.client.SubscribePresence(ctx, jid); err != nil {
			s.log.Debug("whatsapp: cannot subscribe to presence", "jid", jid, "err", err)
		}
	}()
}

// opener returns the Open function of a media message: it downloads and
// decrypts the file into a temporary file that Close deletes.
func (s *Session) opener(media whatsmeow.DownloadableMessage) func(ctx context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		f, err := os.CreateTemp("", "drawbridge-wa-*")
		if err != nil {
			return nil, fmt.Errorf("whatsapp: download: %w", err)
		}
		tf := &tempFile{File: f}
		if err := s.c.client.DownloadToFile(ctx, media, f); err != nil {
			tf.Close()
			if errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404) || errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410) {
				return nil, fmt.Errorf("whatsapp: the file is no longer on WhatsApp's servers; open it on your phone: %w", err)
			}
			return nil, fmt.Errorf("whatsapp: download: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			tf.Close()
			return nil, fmt.Errorf("whatsapp: download: %w", err)
		}
		return tf, nil
	}
}

// tempFile is a temporary file deleted on Close.
type tempFile struct{ *os.File }

// Close closes and deletes the file.
func (t *tempFile) Close() error {
	err := t.File.Close()
	if rerr := os.Remove(t.Name()); err == nil && !os.IsNotExist(rerr) {
		err = rerr
	}
	return err
}
