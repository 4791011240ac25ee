package whatsapp

import (
	"context"
	"slices"
	"strings"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// After linking, whatsmeow fills the contact store from the first
// app-state sync (the phone's address book) and from the push names of
// the history sync, without an event per contact. The session then tells
// the hub about every contact so that the roster gets names.

// onAppStateSynced handles the end of an app-state sync: the presence
// may be sent now (presence.go), and after the contact list
// (critical_unblock_low) every stored contact is emitted.
func (s *Session) onAppStateSynced(ctx context.Context, e *events.AppStateSyncComplete) {
	s.presenceSynced(ctx, true)
	if e.Name == appstate.WAPatchCriticalUnblockLow {
		s.emitAllContacts(ctx)
	}
}

// emitAllContacts emits a ContactInfo for each person in the device's
// contact store that has a name or a picture, once per person (someone
// stored under their LID and their number is one contact).
func (s *Session) emitAllContacts(ctx context.Context) {
	if s.contacts == nil {
		return
	}
	all, err := s.contacts.GetAllContacts(ctx)
	if err != nil {
		s.log.Warn("whatsapp: cannot read the contacts after a sync", "err", err)
		return
	}
	jids := make([]types.JID, 0, len(all))
	for jid := range all {
		jids = append(jids, jid)
	}
	// Phone numbers first: a person known both ways is emitted under the
	// address the store names best.
	slices.SortFunc(jids, func(a, b types.JID) int {
		if a.Server != b.Server {
			return strings.Compare(b.Server, a.Server) // s.whatsapp.net before lid
		}
		return strings.Compare(a.User, b.User)
	})
	seen := map[ids.UserID]bool{}
	for _, jid := range jids {
		if jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer {
			continue
		}
		user := s.users.UserID(ctx, jid, types.EmptyJID)
		if seen[user] {
			continue
		}
		seen[user] = true
		if !s.emitContact(ctx, jid, types.EmptyJID) {
			s.log.Warn("whatsapp: the hub did not take a contact after a sync", "user", user)
		}
	}
}

// onAppStateSyncError asks for a full sync of the app state that failed,
// once per name and connection: a partial state would leave contacts
// unnamed and settings stale.
func (s *Session) onAppStateSyncError(ctx context.Context, e *events.AppStateSyncError) {
	s.mu.Lock()
	if s.resynced == nil {
		s.resynced = map[appstate.WAPatchName]bool{}
	}
	again := s.resynced[e.Name]
	s.resynced[e.Name] = true
	s.mu.Unlock()
	if again {
		s.log.Warn("whatsapp: app state sync failed again after a full resync", "name", e.Name, "err", e.Error)
		return
	}
	s.log.Info("whatsapp: app state sync failed; asking for a full resync", "name", e.Name, "err", e.Error)
	// The fetch talks to WhatsApp, and dispatches events itself: not on
	// the event handler's goroutine.
	go func() {
		if err := s.c.client.FetchAppState(ctx, e.Name, true, false); err != nil {
			s.log.Warn("whatsapp: full app state resync failed", "name", e.Name, "err", err)
		}
	}()
}

// onHistoryPushNames emits the contacts whose push names came with a
// history sync (whatsmeow has stored them in the contact store).
func (s *Session) onHistoryPushNames(ctx context.Context, names []*waHistorySync.Pushname) {
	for _, pn := range names {
		jid, err := types.ParseJID(pn.GetID())
		if err != nil || pn.GetPushname() == "" || pn.GetPushname() == "-" {
			continue
		}
		if jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer {
			continue
		}
		user := s.users.UserID(ctx, jid, types.EmptyJID)
		if user == ids.UserID(s.acct) || user == "" {
			continue
		}
		info := s.contactInfo(ctx, user, jid)
		if info.Name == "" {
			// The store did not keep it (not whatsmeow's store): the
			// history's name is still the best there is.
			info.Name = pn.GetPushname()
		}
		if !s.emit(ctx, info) {
			s.log.Warn("whatsapp: the hub did not take a contact from the history sync", "user", user)
		}
	}
}
