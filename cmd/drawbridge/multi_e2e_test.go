package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The two components of the several-platforms tests, on one Prosody.
const (
	multiWA       = "wa." + e2eDomain
	multiSB       = "sb." + e2eDomain
	multiWASecret = "e2e-whatsapp-secret-77a2"
	multiSBSecret = "e2e-sandbox-secret-0c9e"
)

// startMultiE2E runs one gateway process with two components on one real
// Prosody: WhatsApp (on the fake client of package whatsapptest) at
// multiWA and the sandbox at multiSB, each with its own secret. name is a
// store backend, with remoteSuffix for the sandbox out of process (dialed,
// with a token), as startE2EPlaced places it.
func startMultiE2E(t *testing.T, name string) (*e2e, *wt.Factory) {
	t.Helper()
	backend, isRemote := strings.CutSuffix(name, remoteSuffix)
	f := &wt.Factory{}
	whatsappOptions = []whatsapp.Option{whatsapp.WithClientFactory(f.New)}
	t.Cleanup(func() { whatsappOptions = nil })
	sandboxSection := map[string]any{"enabled": true, "auto_confirm": true}
	var served *sandbox.Adapter
	if isRemote {
		const token = "e2e-multi-remote-token"
		served = sandbox.New(nil)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- remote.Serve(ctx, l, remote.NewServer(served, slog.New(slog.DiscardHandler)), token)
		}()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serving the adapter: %v", err)
			}
		})
		sandboxSection = map[string]any{"adapter": "remote", "address": l.Addr().String(), "token": token}
	}
	opts := xmpptest.ProsodyOptions{Components: []xmpptest.ComponentSpec{
		{Domain: multiWA, Secret: multiWASecret},
		{Domain: multiSB, Secret: multiSBSecret},
	}}
	e := startE2EConfig(t, backend, opts, func(cfg *config.Config) {
		// The component section keeps only the server, as a default.
		cfg.Component.JID, cfg.Component.Secret = config.Default().Component.JID, ""
		cfg.Components = []config.ComponentLink{
			{JID: multiWA, Secret: multiWASecret, Platform: "whatsapp"},
			{JID: multiSB, Secret: multiSBSecret, Platform: "sandbox", Name: "Sandbox bridge"},
		}
		cfg.Platforms = map[string]map[string]any{
			"whatsapp": {"enabled": true, "database": t.TempDir() + "/whatsapp.db"},
			"sandbox":  sandboxSection,
		}
	})
	if isRemote {
		if e.app.remote == nil {
			t.Fatal("the sandbox is not out of process")
		}
		e.app.sandbox = served
	}
	return e, f
}

// received collects the raw stanzas a client reads.
type received struct {
	mu  sync.Mutex
	raw []string
}

func (r *received) trace(sent bool, raw string) {
	if sent {
		return
	}
	r.mu.Lock()
	r.raw = append(r.raw, raw)
	r.mu.Unlock()
}

// count is how many stanzas read contain every fragment.
func (r *received) count(fragments ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.raw {
		if containsAll(s, fragments...) {
			n++
		}
	}
	return n
}

// TestMultiPlatformEndToEnd runs WhatsApp and the sandbox as two
// components of one process on one Prosody: each domain's disco shows its
// own platform, one XMPP user links an account on both, messages go both
// ways on both, and nothing crosses over — the same phone number on both
// platforms is two contacts, and a message to one never reaches the other
// platform, nor comes back from the other domain; also with the sandbox
// out of process. The API lists the
// user's two accounts with their platforms; /readyz is ready with both
// links up.
func TestMultiPlatformEndToEnd(t *testing.T) {
	// sqlite+remote: the sandbox out of process, dialed.
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis, config.BackendSQLite + remoteSuffix} {
		t.Run(backend, func(t *testing.T) {
			e, f := startMultiE2E(t, backend)
			if len(e.app.links) != 2 {
				t.Fatalf("%d links, want 2", len(e.app.links))
			}
			u := e.user("romeo")
			var got received
			u.c.SetTrace(got.trace)
			ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
			defer cancel()

			// Disco: each domain is its own platform's gateway.
			for domain, want := range map[string]struct{ own, other, name string }{
				multiWA: {`type="whatsapp"`, `type="sandbox"`, `name="Drawbridge (WhatsApp)"`},
				multiSB: {`type="sandbox"`, `type="whatsapp"`, `name="Sandbox bridge (Sandbox)"`},
			} {
				info := u.iq("get", domain, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
				if !containsAll(info.Raw, `category="gateway"`, want.own, want.name) || strings.Contains(info.Raw, want.other) {
					t.Errorf("disco#info of %s: want %s and %s, not %s: %s", domain, want.own, want.name, want.other, info.Raw)
				}
			}

			c := linkBoth(t, f, u)

			// The same number is a contact on each platform.
			const peer = "+15550001111" // sandbox.Alice, and a WhatsApp user
			waPeer, sbPeer := peer+"@"+multiWA, peer+"@"+multiSB
			if string(sandbox.Alice) != peer {
				t.Fatalf("sandbox.Alice is %s", sandbox.Alice)
			}

			// Platform → XMPP, on each.
			c.Dispatch(wt.Msg{Chat: wt.PN(peer), ID: "3A0001", Time: time.Now(), PushName: "Alice"}.
				Event(&waE2E.Message{Conversation: proto.String("hello from WhatsApp")}))
			u.waitMessage(waPeer, "hello from WhatsApp")
			if _, err := e.app.sandbox.Platform().SendAs(ctx, sandbox.Alice, alicePhone, "hello from the sandbox"); err != nil {
				t.Fatal(err)
			}
			u.waitMessage(sbPeer, "hello from the sandbox")

			// XMPP → platform, on each.
			u.raw(`<message type='chat' to='` + waPeer + `' id='w1'><body>only for WhatsApp</body></message>`)
			u.raw(`<message type='chat' to='` + sbPeer + `' id='s1'><body>only for the sandbox</body></message>`)
			waSent := func(body string) int {
				n := 0
				for _, s := range c.Sent() {
					if s.Message.GetConversation() == body {
						n++
					}
				}
				return n
			}
			sbGot := func(body string) int {
				n := 0
				for _, m := range e.app.sandbox.Platform().Received(sandbox.Alice) {
					if m.Body == body {
						n++
					}
				}
				return n
			}
			waitFor(t, "the message on WhatsApp", func() bool { return waSent("only for WhatsApp") == 1 })
			waitFor(t, "the message on the sandbox", func() bool { return sbGot("only for the sandbox") == 1 })
			// The echo bot answers on the sandbox's domain.
			echo := string(sandbox.EchoBot) + "@" + multiSB
			u.raw(`<message type='chat' to='` + echo + `' id='s2'><body>ping</body></message>`)
			u.waitMessage(echo, "echo: ping")

			// No cross-talk: each message went to its own platform only,
			// and each platform's came from its own domain only.
			if n := waSent("only for the sandbox"); n != 0 {
				t.Errorf("WhatsApp got the sandbox's message %d times", n)
			}
			if n := sbGot("only for WhatsApp"); n != 0 {
				t.Errorf("the sandbox got WhatsApp's message %d times", n)
			}
			if n := waSent("ping"); n != 0 {
				t.Errorf("WhatsApp got the echo bot's message %d times", n)
			}
			if n := got.count(`from="`+sbPeer, "hello from WhatsApp"); n != 0 {
				t.Errorf("WhatsApp's message came from the sandbox's domain %d times", n)
			}
			if n := got.count(`from="`+waPeer, "hello from the sandbox"); n != 0 {
				t.Errorf("the sandbox's message came from WhatsApp's domain %d times", n)
			}
			if n := got.count(`from="` + string(sandbox.EchoBot) + "@" + multiWA); n != 0 {
				t.Errorf("%d stanzas of the sandbox's echo bot came from WhatsApp's domain", n)
			}

			// One process: the user's two accounts, each with its platform.
			accounts := map[string]string{}
			for _, s := range e.app.gw.Sessions() {
				if s.Owner == "romeo@"+e2eDomain {
					accounts[string(s.Platform)] = string(s.Account)
				}
			}
			if accounts["whatsapp"] == "" || accounts["sandbox"] != alicePhone || len(accounts) != 2 {
				t.Errorf("sessions of romeo = %v, want one on whatsapp and %s on sandbox", accounts, alicePhone)
			}
			// The one API lists both accounts, each with its platform, and
			// wants the platform named where the owner has two.
			var out bytes.Buffer
			api := e.app.mgmt.api.Addr().String()
			if err := run(ctx, []string{"accounts", "list", "--api", api, "--json"}, &out, &out); err != nil {
				t.Fatalf("accounts list: %v\n%s", err, out.String())
			}
			for _, want := range []string{`"platform": "whatsapp"`, `"platformAccount": "+15550000100"`, `"platform": "sandbox"`, `"platformAccount": "` + alicePhone + `"`} {
				if !strings.Contains(strings.ReplaceAll(out.String(), "platform_account", "platformAccount"), want) {
					t.Errorf("accounts list lacks %s:\n%s", want, out.String())
				}
			}
			out.Reset()
			if err := run(ctx, []string{"accounts", "show", "romeo@" + e2eDomain, "--api", api, "--platform", "sandbox"}, &out, &out); err != nil || !strings.Contains(out.String(), alicePhone) {
				t.Errorf("accounts show --platform sandbox: %v\n%s", err, out.String())
			}
			if err := e.app.mgmt.admin.Ready(ctx); err != nil {
				t.Errorf("Ready with both links up: %v", err)
			}
			status := e.app.mgmt.admin.Status(ctx)
			if status.Component != multiWA+", "+multiSB || !status.Link.Connected {
				t.Errorf("status: component %q, link connected %v", status.Component, status.Link.Connected)
			}
		})
	}
}

// linkBoth links u's sandbox account (alicePhone, by chat commands) and
// WhatsApp account (+15550000100, by the ad-hoc command and a QR code) on
// their components, and returns the WhatsApp fake client.
func linkBoth(t *testing.T, f *wt.Factory, u *user) *wt.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	registerWith(t, u, multiSB)
	linkByChatWith(t, u, multiSB)
	u.waitMessage(multiSB, "Connected to Sandbox as "+alicePhone)

	choice := u.iq("set", multiWA, `<command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/>`)
	res := u.iq("set", multiWA, `<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='`+attr(choice.Raw, "sessionid")+`'><x xmlns='jabber:x:data' type='submit'><field var='flow'><value>qr</value></field></x></command>`)
	if !containsAll(res.Raw, `status="completed"`, "QR-CODE-1") {
		t.Fatalf("WhatsApp link command: %s", res.Raw)
	}
	c, err := f.Client(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PairSuccess(ctx, "+15550000100", "900000000100"); err != nil {
		t.Fatal(err)
	}
	u.waitMessage(multiWA, "Connected to WhatsApp as +15550000100")
	return c
}

// TestMultiPlatformJournalReplay: with the XMPP server down, each platform
// sends a message; the gateway journals both and stops. The next process
// replays each through its own platform's component: each arrives from
// its own domain.
func TestMultiPlatformJournalReplay(t *testing.T) {
	e, f := startMultiE2E(t, config.BackendSQLite)
	u := e.user("romeo")
	c := linkBoth(t, f, u)
	ctx := t.Context()
	owner := ids.Owner(u.bare)
	const peer = "+15550001111"

	for _, l := range e.app.links {
		waitFor(t, l.JID+"'s stanzas to be confirmed", func() bool {
			s := l.component.Conn().Stats()
			return s.InFlight == 0 && s.Queued == 0
		})
	}
	e.prosody.Kill(t)
	for _, l := range e.app.links {
		waitFor(t, "the gateway to notice "+l.JID+"'s dead link", func() bool { return !l.component.Conn().Connected() })
	}
	c.Dispatch(wt.Msg{Chat: wt.PN(peer), ID: "3A0009", Time: time.Now(), PushName: "Alice"}.
		Event(&waE2E.Message{Conversation: proto.String("queued on WhatsApp")}))
	if _, err := e.app.sandbox.Platform().SendAs(ctx, sandbox.Alice, alicePhone, "queued on the sandbox"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both messages to be journaled", func() bool {
		items, err := e.app.store.Pending(ctx, owner, 0)
		n := 0
		for _, it := range items {
			if strings.Contains(string(it.Data), "queued on") {
				n++
			}
		}
		return err == nil && n == 2
	})
	e.shutdown()

	e.prosody.Start(t)
	e.start()
	u.connect()
	u.waitMessage(peer+"@"+multiWA, "queued on WhatsApp")
	u.waitMessage(peer+"@"+multiSB, "queued on the sandbox")
	waitFor(t, "the journal to empty", func() bool {
		items, err := e.app.store.Pending(ctx, owner, 0)
		return err == nil && len(items) == 0
	})
}

// TestMultiPlatformReadyOnlyWithEveryLink checks that /readyz of a process
// with two components is ready while both links are up, and not ready,
// naming the component, when one of them is pushed off (another gateway
// takes its domain), while the other stays connected.
func TestMultiPlatformReadyOnlyWithEveryLink(t *testing.T) {
	e, _ := startMultiE2E(t, config.BackendSQLite)
	if code, body := readyz(t, e); code != http.StatusOK {
		t.Fatalf("/readyz with both links up: %d %s", code, body)
	}
	startGatewayOn(t, multiSB, e.prosody.ComponentAddr, func(cfg *config.Config) {
		cfg.Component.Secret = multiSBSecret
	})
	const want = "component " + multiSB + ": another gateway is connected as " + multiSB
	waitFor(t, "/readyz to name the component pushed off", func() bool {
		code, body := readyz(t, e)
		return code == http.StatusServiceUnavailable && strings.Contains(body, want)
	})
	if code, body := readyz(t, e); strings.Contains(body, multiWA) {
		t.Errorf("/readyz blames the component still connected: %d %s", code, body)
	}
	if !e.app.links[0].component.Conn().Connected() {
		t.Errorf("%s's link went down with %s's", multiWA, multiSB)
	}
}
