package telegram_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// TestConformance runs the hub's adapter conformance suite against the
// Telegram adapter on the in-process MTProto server: the phone flow links
// (the code read from the server, as the user reads it in their app),
// and Alice, in the account's address book, is the contact written to.
func TestConformance(t *testing.T) {
	gatewaytest.RunAdapterConformance(t, conformance(func(t *testing.T, a *telegram.Adapter) gateway.Adapter { return a }))
}

// TestConformanceRemote runs the same suite against the Telegram adapter
// out of process: served by the remote adapter host (adapters/remote, as
// `drawbridge adapter telegram --listen` serves it) on a loopback port
// and dialed with a token, so every call, event, login step and KV
// access crosses the adapter protocol.
func TestConformanceRemote(t *testing.T) {
	gatewaytest.RunAdapterConformance(t, conformance(func(t *testing.T, a *telegram.Adapter) gateway.Adapter {
		return dialRemote(t, a)
	}))
}

// dialRemote serves a on a loopback port with a token and dials it.
func dialRemote(t *testing.T, a gateway.Adapter) gateway.Adapter {
	t.Helper()
	const token = "telegram-remote-test-token"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- remote.Serve(ctx, l, remote.NewServer(a, log), token) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ra, err := remote.Dial(t.Context(), l.Addr().String(), token, log)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = ra.Stop(context.Background()) })
	return ra
}

// conformance is the suite's setup for the Telegram adapter on a fresh
// fake Telegram, placed by place.
func conformance(place func(t *testing.T, a *telegram.Adapter) gateway.Adapter) gatewaytest.Conformance {
	return gatewaytest.Conformance{
		NewAdapter: func(t *testing.T) gateway.Adapter {
			srv := telegramtest.New(t)
			srv.AddUser(ownerID, ownerPhone, "Owen", "owen")
			srv.AddUser(aliceID, alicePhone, "Alice", "alice")
			srv.AddContact(ownerID, aliceID)
			serversMu.Lock()
			servers[t.Name()] = srv
			serversMu.Unlock()
			return place(t, telegram.New(telegram.WithClientOptions(srv.Options)))
		},
		Config: section,
		Answer: func(t *testing.T, step gateway.LoginStep) map[string]string {
			switch step.Fields[0].ID {
			case telegram.FieldPhone:
				return map[string]string{telegram.FieldPhone: ownerPhone}
			case telegram.FieldCode:
				serversMu.Lock()
				srv := servers[t.Name()]
				serversMu.Unlock()
				code, err := srv.LastCode(t.Context(), ownerPhone)
				if err != nil {
					t.Fatal(err)
				}
				return map[string]string{telegram.FieldCode: code}
			}
			t.Fatalf("unexpected login step %+v", step)
			return nil
		},
		Contact:  "2002",
		Unlinked: "3003",
		// Each login runs MTProto key exchanges (RSA, DH), slow under
		// -race on a shared machine.
		Timeout: 30 * time.Second,
	}
}

// servers are the fake Telegrams of the conformance subtests, by test name.
var (
	serversMu sync.Mutex
	servers   = map[string]*telegramtest.Server{}
)

// TestSecretChatsNotBridged: the adapter says that secret chats are not
// bridged (the XMPP side shows it in the gateway's disco identity), in
// process and through the remote adapter host.
func TestSecretChatsNotBridged(t *testing.T) {
	a := telegram.New()
	for name, info := range map[string]gateway.Info{"in process": a.Info(), "remote": dialRemote(t, a).Info()} {
		if !strings.Contains(info.NotBridged, "secret chats") {
			t.Errorf("%s: Info.NotBridged = %q, want secret chats named", name, info.NotBridged)
		}
	}
}
