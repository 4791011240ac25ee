package gateway_test

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
)

// TestReadyNamesTheLinksDown checks that a process with several links is
// not ready while one is down, and says which.
func TestReadyNamesTheLinksDown(t *testing.T) {
	h := newHub(t, openStore(t), true)
	for _, tc := range []struct {
		name string
		link gateway.LinkStatus
		want string // "" means ready
	}{
		{"all up", gateway.LinkStatus{Connected: true}, ""},
		{"one link down", gateway.LinkStatus{Down: []string{"sb.example.org"}}, "the XMPP link of sb.example.org is down"},
		{"two links down", gateway.LinkStatus{Down: []string{"wa.example.org", "sb.example.org"}}, "the XMPP link of wa.example.org, sb.example.org is down"},
		{"the only link down", gateway.LinkStatus{}, "the XMPP link is down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admin := gateway.NewAdmin(h.gw, gateway.AdminOptions{Link: func() gateway.LinkStatus { return tc.link }})
			err := admin.Ready(t.Context())
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Ready = %v, want ready", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Ready = %v, want %q", err, tc.want)
			}
		})
	}
}
