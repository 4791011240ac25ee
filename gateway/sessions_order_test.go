package gateway

import (
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestSessionsSorted: Sessions lists every session by platform, then
// owner, whatever the map's order.
func TestSessionsSorted(t *testing.T) {
	g := &Gateway{sessions: map[sessionKey]*linked{}}
	for _, k := range []sessionKey{
		{"whatsapp", "bob@example.test"}, {"sandbox", "carol@example.test"},
		{"whatsapp", "alice@example.test"}, {"sandbox", "alice@example.test"},
	} {
		g.sessions[k] = &linked{account: ids.AccountID(string(k.platform) + "/" + string(k.owner))}
	}
	var got []string
	for _, s := range g.Sessions() {
		got = append(got, fmt.Sprintf("%s %s %s", s.Platform, s.Owner, s.Account))
	}
	want := []string{
		"sandbox alice@example.test sandbox/alice@example.test",
		"sandbox carol@example.test sandbox/carol@example.test",
		"whatsapp alice@example.test whatsapp/alice@example.test",
		"whatsapp bob@example.test whatsapp/bob@example.test",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Sessions() = %q, want %q", got, want)
	}
}
