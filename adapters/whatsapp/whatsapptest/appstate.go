package whatsapptest

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// AppStateFetch is one call of FetchAppState.
type AppStateFetch struct {
	Name            appstate.WAPatchName
	FullSync        bool
	OnlyIfNotSynced bool
}

// FetchAppState implements whatsapp.Client: it records the call and, like
// whatsmeow after a full sync, dispatches events.AppStateSyncComplete.
func (c *Client) FetchAppState(_ context.Context, name appstate.WAPatchName, fullSync, onlyIfNotSynced bool) error {
	c.mu.Lock()
	c.record("FetchAppState")
	c.fetches = append(c.fetches, AppStateFetch{Name: name, FullSync: fullSync, OnlyIfNotSynced: onlyIfNotSynced})
	connected := c.connected
	c.mu.Unlock()
	if !connected {
		return fmt.Errorf("failed to fetch app state %s patches: not connected", name)
	}
	if fullSync {
		c.Dispatch(&events.AppStateSyncComplete{Name: name})
	}
	return nil
}

// AppStateFetches returns the FetchAppState calls so far.
func (c *Client) AppStateFetches() []AppStateFetch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]AppStateFetch(nil), c.fetches...)
}

// SyncContacts plays the first full sync of the contact list
// (critical_unblock_low) as whatsmeow does it without
// EmitAppStateEventsOnFullSync: the names go into the device's contact
// store in one go, no events.Contact per contact, then
// events.AppStateSyncComplete.
func (c *Client) SyncContacts(ctx context.Context, contacts []store.ContactEntry) error {
	if err := c.Device.Contacts.PutAllContactNames(ctx, contacts); err != nil {
		return fmt.Errorf("whatsapptest: storing contacts: %w", err)
	}
	c.Dispatch(&events.AppStateSyncComplete{Name: appstate.WAPatchCriticalUnblockLow})
	return nil
}

// HistoryPushNames plays a history sync of type PUSH_NAME as whatsmeow
// handles it: the push names go into the device's contact store, then
// events.HistorySync carries them.
func (c *Client) HistoryPushNames(ctx context.Context, names []*waHistorySync.Pushname) error {
	for _, n := range names {
		jid, err := types.ParseJID(n.GetID())
		if err != nil || n.GetPushname() == "-" {
			continue
		}
		if _, _, err := c.Device.Contacts.PutPushName(ctx, jid, n.GetPushname()); err != nil {
			return fmt.Errorf("whatsapptest: storing a push name: %w", err)
		}
	}
	c.Dispatch(&events.HistorySync{Data: &waHistorySync.HistorySync{
		SyncType: waHistorySync.HistorySync_PUSH_NAME.Enum(), Pushnames: names}})
	return nil
}
