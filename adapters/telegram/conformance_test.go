package telegram_test

import (
	"testing"

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
	gatewaytest.RunAdapterConformance(t, gatewaytest.Conformance{
		NewAdapter: func(t *testing.T) gateway.Adapter {
			srv := telegramtest.New(t)
			srv.AddUser(ownerID, ownerPhone, "Owen", "owen")
			srv.AddUser(aliceID, alicePhone, "Alice", "alice")
			srv.AddContact(ownerID, aliceID)
			servers[t.Name()] = srv
			return telegram.New(telegram.WithClientOptions(srv.Options))
		},
		Config: section,
		Answer: func(t *testing.T, step gateway.LoginStep) map[string]string {
			switch step.Fields[0].ID {
			case telegram.FieldPhone:
				return map[string]string{telegram.FieldPhone: ownerPhone}
			case telegram.FieldCode:
				code, err := servers[t.Name()].LastCode(t.Context(), ownerPhone)
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
	})
}

// servers are the fake Telegrams of the conformance subtests, by test name.
var servers = map[string]*telegramtest.Server{}
