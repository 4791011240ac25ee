package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// startWhatsAppE2E runs the gateway with the WhatsApp adapter, on the fake
// WhatsApp client of package whatsapptest, against a real Prosody.
func startWhatsAppE2E(t *testing.T, backend string) (*e2e, *wt.Factory) {
	t.Helper()
	f := &wt.Factory{}
	whatsappOptions = []whatsapp.Option{whatsapp.WithClientFactory(f.New)}
	t.Cleanup(func() { whatsappOptions = nil })
	e := startE2EConfig(t, backend, xmpptest.ProsodyOptions{}, func(cfg *config.Config) {
		cfg.Platforms = map[string]map[string]any{"whatsapp": {"enabled": true}}
		if backend != config.BackendSQLite {
			// The device store is sqlite (or PostgreSQL) whatever the
			// gateway's store: give it a file.
			cfg.Platforms["whatsapp"]["database"] = t.TempDir() + "/whatsapp.db"
		}
	})
	return e, f
}

// TestWhatsAppEndToEnd links a WhatsApp account by QR code through the
// XEP-0050 command, receives a WhatsApp message, answers it from XMPP
// (checking the protobuf handed to WhatsApp) and is told about a logout
// from the phone, on both stores.
func TestWhatsAppEndToEnd(t *testing.T) {
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis} {
		t.Run(backend, func(t *testing.T) {
			e, f := startWhatsAppE2E(t, backend)
			u := e.user("romeo")
			ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
			defer cancel()

			// Link: the command shows the first QR code; the next one and
			// the success arrive as chat messages from the gateway.
			choice := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/>`)
			if !containsAll(choice.Raw, `var="flow"`, `<value>qr</value>`, `<value>pairing-code</value>`) {
				t.Fatalf("link command should offer both ways to link: %s", choice.Raw)
			}
			res := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='`+attr(choice.Raw, "sessionid")+`'><x xmlns='jabber:x:data' type='submit'><field var='flow'><value>qr</value></field></x></command>`)
			if !containsAll(res.Raw, `status="completed"`, "QR-CODE-1") {
				t.Fatalf("link command: %s", res.Raw)
			}
			// The QR code also comes as an image the client can show.
			qr := u.waitRaw("the QR code image", `from="`+e2eComponent+`"`, `<x xmlns="jabber:x:oob">`)
			if m := oobURL.FindStringSubmatch(qr.Raw); m == nil {
				t.Errorf("no image URL: %s", qr.Raw)
			} else if res, err := http.Get(m[1]); err != nil {
				t.Error(err)
			} else {
				img, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !bytes.HasPrefix(img, []byte("\x89PNG")) {
					t.Errorf("the QR code image is not a PNG (%d bytes)", len(img))
				}
			}
			c, err := f.Client(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			c.QR("QR-CODE-2", 20*time.Second)
			u.waitMessage(e2eComponent, "QR-CODE-2")
			if err := c.PairSuccess(ctx, "+15550000100", "900000000100"); err != nil {
				t.Fatal(err)
			}
			u.waitMessage(e2eComponent, "+15550000100 is now linked")
			u.waitMessage(e2eComponent, "Connected to WhatsApp as +15550000100")

			// WhatsApp → XMPP.
			contact := "+15550001111@" + e2eComponent
			c.Dispatch(wt.Msg{Chat: wt.PN("+15550001111"), ID: "3A0001", Time: time.Now(), PushName: "Alice"}.
				Event(&waE2E.Message{Conversation: proto.String("hello from WhatsApp")}))
			in := u.waitMessage(contact, "hello from WhatsApp")
			if in.Id != "3A0001" {
				t.Errorf("inbound stanza id = %q, want the WhatsApp id", in.Id)
			}

			// XMPP → WhatsApp.
			u.raw(`<message type='chat' to='` + contact + `' id='x1'><body>hi back</body></message>`)
			var sent wt.Sent
			waitFor(t, "the answer on WhatsApp", func() bool {
				for _, s := range c.Sent() {
					if s.Message.GetConversation() == "hi back" {
						sent = s
						return true
					}
				}
				return false
			})
			if sent.To.String() != "15550001111@s.whatsapp.net" || sent.ID == "" {
				t.Errorf("sent to %s with id %q", sent.To, sent.ID)
			}

			// The phone unlinks the gateway.
			if err := c.Device.Delete(ctx); err != nil {
				t.Fatal(err)
			}
			c.Dispatch(&events.LoggedOut{})
			out := u.waitMessage(e2eComponent, "was logged out")
			if !strings.Contains(out.Body, "WhatsApp logged this gateway out") {
				t.Errorf("logout notice: %q", out.Body)
			}
		})
	}
}
