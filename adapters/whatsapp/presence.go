package whatsapp

import (
	"context"
	"sync"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var _ gateway.OwnerPresenceSetter = (*Session)(nil)

// ownPresence is what the session knows to decide the account's own
// WhatsApp presence (guarded by Session.mu). A linked device that stays
// "available" keeps the phone from showing notifications and shows the
// user online around the clock, so unless mark_online is set the account
// is available only while the owner is: while they have an available XMPP
// resource (SetOwnerPresence) or type in a chat; otherwise it is
// "unavailable", which WhatsApp also needs before it shows the push name
// to contacts.
type ownPresence struct {
	// synced: the device's push name is known and, on a device linked in
	// this run, the first app-state sync is done. whatsmeow refuses
	// presence without a push name.
	synced bool
	// awaitSync: a new link, whose app state is not synced yet.
	awaitSync bool
	// owner: the owner has an available XMPP resource.
	owner bool
	// typing: chats the owner is typing in.
	typing map[ids.ChatID]bool
	// sent is the presence sent on this connection ("" none yet).
	sent types.Presence
	// sending serialises updatePresence, so that presences reach
	// WhatsApp in the order decided. Not guarded by Session.mu.
	sending sync.Mutex
}

// want is the presence the account should have.
func (p *ownPresence) want(always bool) types.Presence {
	if always || p.owner || len(p.typing) > 0 {
		return types.PresenceAvailable
	}
	return types.PresenceUnavailable
}

// SetOwnerPresence implements gateway.OwnerPresenceSetter: the account is
// "available" on WhatsApp while the owner is available on XMPP, and
// "unavailable" once their last resource left.
func (s *Session) SetOwnerPresence(ctx context.Context, available bool) error {
	s.mu.Lock()
	s.pres.owner = available
	s.mu.Unlock()
	s.updatePresence(ctx)
	return nil
}

// ownerTyping notes that the owner types in chat (or stopped) and
// updates the presence: WhatsApp shows typing only from online accounts.
func (s *Session) ownerTyping(ctx context.Context, chat ids.ChatID, typing bool) {
	s.mu.Lock()
	if typing {
		if s.pres.typing == nil {
			s.pres.typing = map[ids.ChatID]bool{}
		}
		s.pres.typing[chat] = true
	} else {
		delete(s.pres.typing, chat)
	}
	s.mu.Unlock()
	s.updatePresence(ctx)
}

// presenceSynced notes that the push name is known and, after a new
// link, the app state synced (appState), then sends the presence due.
func (s *Session) presenceSynced(ctx context.Context, appState bool) {
	s.mu.Lock()
	if appState {
		s.pres.awaitSync = false
	}
	s.pres.synced = !s.pres.awaitSync && s.c.device.PushName != ""
	s.mu.Unlock()
	s.updatePresence(ctx)
}

// presenceConnected starts a connection: WhatsApp forgets a device's
// presence when it disconnects, so it is sent again.
func (s *Session) presenceConnected(ctx context.Context) {
	s.mu.Lock()
	s.pres.sent = ""
	s.mu.Unlock()
	s.presenceSynced(ctx, false)
}

// updatePresence sends the presence the account should have, if it
// differs from the one sent on this connection.
func (s *Session) updatePresence(ctx context.Context) {
	s.pres.sending.Lock()
	defer s.pres.sending.Unlock()
	s.mu.Lock()
	want := s.pres.want(s.cfg.markOnline)
	if !s.pres.synced || s.pres.sent == want || s.phase != sessConnected {
		s.mu.Unlock()
		return
	}
	s.pres.sent = want
	s.mu.Unlock()
	if err := s.c.client.SendPresence(ctx, want); err != nil {
		s.log.Debug("whatsapp: cannot send the account's presence", "presence", want, "err", err)
		s.mu.Lock()
		if s.pres.sent == want {
			s.pres.sent = ""
		}
		s.mu.Unlock()
	}
}

// presenceSent reports whether the account has sent a presence on this
// connection (s.mu held): WhatsApp sends contacts' presence only to
// clients that did.
func (s *Session) presenceSent() bool { return s.pres.sent != "" }
