package main

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestRoomsLeftOnShutdown: a clean stop of the gateway tells a user in a
// room that the room is gone for now (an unavailable self-presence with
// status codes 110 and 332, the user's affiliation kept), while the link
// still writes; before, the client went on showing itself in the room
// and learnt otherwise only when its next message was refused.
func TestRoomsLeftOnShutdown(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, nil)
	p := e.app.sandbox.Platform()
	const phone = "+15557650010"
	if err := p.AddHuman(phone, "Finn Example"); err != nil {
		t.Fatal(err)
	}
	if err := p.AddMember(sandbox.Alice, sandbox.Lounge, phone); err != nil {
		t.Fatal(err)
	}
	finn := e.user("finn")
	linkPhone(t, finn, phone)
	finn.joinLounge("Finn", "")

	e.shutdown()
	got := finn.waitRaw("the room's shutdown presence", `from="`+loungeJID+`/Finn"`, `type="unavailable"`, `code="332"`)
	for _, want := range []string{`code="110"`, `role="none"`, `affiliation="member"`} {
		if !containsAll(got.Raw, want) {
			t.Errorf("shutdown presence lacks %s: %s", want, got.Raw)
		}
	}
}
