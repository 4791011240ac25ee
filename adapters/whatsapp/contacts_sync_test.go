package whatsapp_test

import (
	"errors"
	"slices"
	"testing"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// contactNames lists the ContactInfo events so far as "user=name".
func contactNames(e *env) []string {
	var out []string
	for _, ev := range e.h.Events() {
		if ci, ok := ev.(*event.ContactInfo); ok {
			out = append(out, string(ci.Sender)+"="+ci.Name)
		}
	}
	return out
}

// TestRosterNamedAfterSync: the first contact sync after linking fills
// whatsmeow's store without an event per contact; the session then emits
// every stored contact once (one person stored under LID and number is one
// contact).
func TestRosterNamedAfterSync(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.connected()
	if err := c.Device.LIDs.PutLIDMapping(e.ctx, aliceLID, alice); err != nil {
		t.Fatal(err)
	}
	err := c.SyncContacts(e.ctx, []store.ContactEntry{
		{JID: alice, FullName: "Alice Liddell", FirstName: "Alice"},
		{JID: aliceLID, FullName: "Alice (LID)"},
		{JID: wt.PN("+15550003333"), FirstName: "Carol"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"+15550001111=Alice Liddell", "+15550003333=Carol"}
	if got := contactNames(e); !slices.Equal(got, want) {
		t.Errorf("contacts emitted = %v, want %v", got, want)
	}
}

// TestHistoryPushNames: push names that come with the history sync name
// contacts ("-" means none).
func TestHistoryPushNames(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.connected()
	err := c.HistoryPushNames(e.ctx, []*waHistorySync.Pushname{
		{ID: proto.String("15550004444@s.whatsapp.net"), Pushname: proto.String("Dave")},
		{ID: proto.String("15550005555@s.whatsapp.net"), Pushname: proto.String("-")},
		{ID: proto.String(ownerPhone[1:] + "@s.whatsapp.net"), Pushname: proto.String("Me")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := contactNames(e), []string{"+15550004444=Dave"}; !slices.Equal(got, want) {
		t.Errorf("contacts emitted = %v, want %v", got, want)
	}
}

// TestAppStateSyncErrorResync: a failed app-state sync asks WhatsApp for a
// full one, once; its completion emits the contacts.
func TestAppStateSyncErrorResync(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.connected()
	if err := c.Device.Contacts.PutAllContactNames(e.ctx, []store.ContactEntry{{JID: alice, FullName: "Alice Liddell"}}); err != nil {
		t.Fatal(err)
	}
	failed := &events.AppStateSyncError{Name: appstate.WAPatchCriticalUnblockLow, Error: errors.New("mismatching LTHash")}
	c.Dispatch(failed)
	if err := c.WaitCall(e.ctx, "FetchAppState", 1); err != nil {
		t.Fatal(err)
	}
	want := []wt.AppStateFetch{{Name: appstate.WAPatchCriticalUnblockLow, FullSync: true}}
	if got := c.AppStateFetches(); !slices.Equal(got, want) {
		t.Errorf("FetchAppState calls = %+v, want %+v", got, want)
	}
	testutil.WaitFor(t, "contacts after the resync", func() bool { return slices.Contains(contactNames(e), "+15550001111=Alice Liddell") })
	c.Dispatch(failed)
	if got := c.AppStateFetches(); !slices.Equal(got, want) {
		t.Errorf("a second failure fetched again: %+v", got)
	}
}
