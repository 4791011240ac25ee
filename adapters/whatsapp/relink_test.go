package whatsapp_test

import (
	"slices"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// storedDevices lists the device JIDs in the env's device store.
func storedDevices(t *testing.T, e *env) []string {
	t.Helper()
	container, err := sqlstore.New(e.ctx, "sqlite", whatsapp.SQLiteDSN(e.db), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer container.Close()
	devices, err := container.GetAllDevices(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range devices {
		out = append(out, d.ID.String())
	}
	slices.Sort(out)
	return out
}

// addDevice saves a linked device in the env's device store.
func addDevice(t *testing.T, e *env, jid types.JID) {
	t.Helper()
	container, err := sqlstore.New(e.ctx, "sqlite", whatsapp.SQLiteDSN(e.db), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer container.Close()
	d := container.NewDevice()
	d.ID = &jid
	d.PushName = "Owner"
	d.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	if err := d.Save(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRelinkLogsOldDeviceOut: linking the same number again logs the
// previous device out on WhatsApp and removes it from the device store;
// a device of the number that no client holds is deleted from the store;
// the new device is the account's and connects, and the owner is not
// told the account was logged out.
func TestRelinkLogsOldDeviceOut(t *testing.T) {
	e := newEnv(t, nil)
	s, c7 := e.connected()
	acct := s.Account()
	// A stale device of the same number (a link whose session was never
	// kept), only in the store.
	addDevice(t, e, types.JID{User: "15550000100", Device: 5, Server: types.DefaultUserServer})
	if got := storedDevices(t, e); !slices.Equal(got, []string{"15550000100:5@s.whatsapp.net", "15550000100:7@s.whatsapp.net"}) {
		t.Fatalf("devices before = %v", got)
	}

	e.f.Configure = func(c *wt.Client) { c.PairDevice = 8 }
	before := len(e.h.StateChanges())
	if got, _ := e.link(); got != acct {
		t.Fatalf("relinked as %s, want %s", got, acct)
	}
	if calls := strings.Join(c7.Calls(), ","); !strings.Contains(calls, "Logout") {
		t.Errorf("the previous device was not logged out on WhatsApp; its calls: %s", calls)
	}
	if got := storedDevices(t, e); !slices.Equal(got, []string{"15550000100:8@s.whatsapp.net"}) {
		t.Errorf("devices after relinking = %v, want only the new one", got)
	}
	raw, err := e.h.KV(acct).Get(e.ctx, "device_jid")
	if err != nil || string(raw) != "15550000100:8@s.whatsapp.net" {
		t.Errorf("device_jid = %q, %v", raw, err)
	}
	s2, err := e.a.LoadSession(e.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	s2.Connect(e.ctx)
	e.waitState(acct, event.StateConnected, before)
	for _, st := range e.h.StateChanges()[before:] {
		if st.State == event.StateLoggedOut {
			t.Errorf("relinking reported a logout: %+v", st)
		}
	}
}

// TestRelinkBeforeLoad: a link the hub has not loaded yet is logged out
// when the same number links again.
func TestRelinkBeforeLoad(t *testing.T) {
	e := newEnv(t, nil)
	acct, c7 := e.link()
	e.f.Configure = func(c *wt.Client) { c.PairDevice = 8 }
	if got, _ := e.link(); got != acct {
		t.Fatalf("relinked as %s, want %s", got, acct)
	}
	if calls := strings.Join(c7.Calls(), ","); !strings.Contains(calls, "Logout") {
		t.Errorf("the unloaded link was not logged out on WhatsApp; its calls: %s", calls)
	}
	if got := storedDevices(t, e); !slices.Equal(got, []string{"15550000100:8@s.whatsapp.net"}) {
		t.Errorf("devices after relinking = %v, want only the new one", got)
	}
}
