package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	gwstore "github.com/drawbridge-im/drawbridge/gateway/store"
)

// Identity: a WhatsApp user is their phone number ("+15550001111") as
// soon as the number is known, from the event itself or whatsmeow's LID
// store (package waid); a user whose number WhatsApp hides is "lid-<LID>".
// The number is what people know, type (the XEP-0100 prompt) and have in
// their address books, and it does not change when WhatsApp reassigns
// LIDs; a LID-only identity is the exception. When the number of a user
// the owner has met as "lid-<LID>" becomes known, the conversation moves
// to the number: the old chat gets a notice pointing at the new address,
// and the contact is announced under the number (the roster adds it).

// kvLIDOnlyPrefix starts the key that records a user met as "lid-<LID>".
const kvLIDOnlyPrefix = "lid_only/"

// lidOnlyCap bounds the LID-only users remembered in memory (the store
// keeps them all).
const lidOnlyCap = 4096

// lidOnly caches which LIDs were met without a number (seen), and which
// with a number were checked against the store already (checked), so that
// a message costs a store read only the first time.
type lidOnly struct {
	mu      sync.Mutex
	seen    map[string]bool
	checked map[string]bool
}

// noteIdentity is called with the address a user wrote from and the
// UserID they got: a LID without a number is remembered; a remembered LID
// whose number is known now moves to the number.
func (s *Session) noteIdentity(ctx context.Context, jid types.JID, user ids.UserID) {
	if jid.Server != types.HiddenUserServer || user == "" || user == ids.UserID(s.acct) {
		return
	}
	lid := jid.User
	kv := s.host.KV(s.acct)
	if strings.HasPrefix(string(user), waid.LIDPrefix) {
		s.lidOnly.mu.Lock()
		known := s.lidOnly.seen[lid]
		if !known {
			if s.lidOnly.seen == nil || len(s.lidOnly.seen) >= lidOnlyCap {
				s.lidOnly.seen = map[string]bool{}
			}
			s.lidOnly.seen[lid] = true
		}
		s.lidOnly.mu.Unlock()
		if !known {
			if err := kv.Set(ctx, kvLIDOnlyPrefix+lid, []byte(user)); err != nil {
				s.log.Warn("whatsapp: cannot remember a contact without number", "lid", lid, "err", err)
			}
		}
		return
	}
	if !waid.IsPhone(string(user)) {
		return
	}
	s.lidOnly.mu.Lock()
	checked := s.lidOnly.checked[lid] && !s.lidOnly.seen[lid]
	if !checked {
		if s.lidOnly.checked == nil || len(s.lidOnly.checked) >= lidOnlyCap {
			s.lidOnly.checked = map[string]bool{}
		}
		s.lidOnly.checked[lid] = true
	}
	s.lidOnly.mu.Unlock()
	if checked {
		return
	}
	old, err := kv.Get(ctx, kvLIDOnlyPrefix+lid)
	switch {
	case errors.Is(err, gwstore.ErrNotFound):
		return
	case err != nil:
		s.log.Warn("whatsapp: cannot read a contact without number", "lid", lid, "err", err)
		return
	}
	s.moveToNumber(ctx, ids.UserID(old), user, jid)
	if err := kv.Delete(ctx, kvLIDOnlyPrefix+lid); err != nil {
		s.log.Warn("whatsapp: cannot forget a contact without number", "lid", lid, "err", err)
	}
	s.lidOnly.mu.Lock()
	delete(s.lidOnly.seen, lid)
	s.lidOnly.mu.Unlock()
}

// moveToNumber tells the owner that the contact known as old is number
// now: a notice in the old chat and the contact under its number.
func (s *Session) moveToNumber(ctx context.Context, old, number ids.UserID, jid types.JID) {
	info := s.contactInfo(ctx, number, jid)
	who := string(number)
	if info.Name != "" {
		who = info.Name + " (" + string(number) + ")"
	}
	notice := &event.Message{
		Meta: event.Meta{Account: s.acct, Chat: ids.DirectChat(old), Sender: old, Time: s.a.now(),
			ID: ids.MessageID("moved-" + strings.TrimPrefix(string(old), waid.LIDPrefix))},
		Body: fmt.Sprintf("[WhatsApp now shows this contact's phone number: %s. The conversation continues with %s; this address gets no more messages.]",
			who, number),
	}
	s.emit(ctx, notice)
	s.emit(ctx, info)
}
