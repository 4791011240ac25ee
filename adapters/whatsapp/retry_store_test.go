package whatsapp

import (
	"context"
	"path/filepath"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"
)

// TestRetryStoreSurvivesRestart: the production client asks the phone for
// messages it cannot decrypt, and keeps the messages it sends in the
// device store, so that a retry request from a recipient after a restart
// (a new client on the same store, its memory empty) still finds the
// message to send again.
func TestRetryStoreSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "wa.db")
	open := func() *whatsmeow.Client {
		container, err := openContainer(ctx, config{database: db}, waLog.Noop)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = container.Close() })
		device, err := container.GetFirstDevice(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if device.ID == nil {
			jid := types.JID{User: "15550000100", Device: 7, Server: types.DefaultUserServer}
			device.ID = &jid
			device.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64),
				AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
			if err := device.Save(ctx); err != nil {
				t.Fatal(err)
			}
		}
		c, ok := NewWhatsmeowClient(device, waLog.Noop).(*whatsmeow.Client)
		if !ok {
			t.Fatal("NewWhatsmeowClient is not a *whatsmeow.Client")
		}
		return c
	}
	first := open()
	if !first.AutomaticMessageRerequestFromPhone || !first.UseRetryMessageStore {
		t.Fatalf("AutomaticMessageRerequestFromPhone = %v, UseRetryMessageStore = %v; want both on",
			first.AutomaticMessageRerequestFromPhone, first.UseRetryMessageStore)
	}
	alice := types.NewJID("15550001111", types.DefaultUserServer)
	msg := &waE2E.Message{Conversation: proto.String("sent before the restart")}
	//lint:ignore SA1019 whatsmeow's internals are the only way to play a send and a retry receipt without its servers
	if err := first.DangerousInternals().AddRecentMessage(ctx, alice, "3EB0RETRY", msg, nil); err != nil {
		t.Fatal(err)
	}
	second := open()
	receipt := &events.Receipt{MessageSource: types.MessageSource{Chat: alice, Sender: alice}, Type: types.ReceiptTypeRetry}
	//lint:ignore SA1019 as above
	found, err := second.DangerousInternals().GetMessageForRetry(ctx, receipt, "3EB0RETRY")
	if err != nil || found == nil || found.IsEmpty() {
		t.Fatalf("GetMessageForRetry after a restart = %v, %v; want the sent message", found, err)
	}
}
