package gateway_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// alice is the owner linked by limitedHub.
const alice = ids.Owner("alice@example.test")

// limitedHub is a started hub on the sandbox with alice linked and
// limits of 10-byte bodies, one file and a rate of one message a minute
// with a burst of two.
func limitedHub(t *testing.T) *gateway.Gateway {
	t.Helper()
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	gw, err := gateway.New(gateway.Options{
		Store:         openStore(t),
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		Logger:        slog.New(slog.DiscardHandler),
		Limits: gateway.Limits{
			Messages:       gateway.RateLimit{PerJID: gateway.Rate{PerMinute: 1, Burst: 2}},
			MaxBodySize:    10,
			MaxAttachments: 1,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := newFrontend()
	gw.SetFrontend(fe)
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(t.Context()) })
	h := &hub{gw: gw, fe: fe, platform: p}
	const alice = ids.Owner("alice@example.test")
	h.link(t, alice, "+15557654321")
	return gw
}

// TestAdmitMessage: AdmitMessage refuses an owner without an account,
// bodies and file counts over the limits, and an owner over its message
// rate, taking the rate token of what it admits; SendMessage with
// Admitted does not take another one.
func TestAdmitMessage(t *testing.T) {
	gw := limitedHub(t)

	for _, tc := range []struct {
		name         string
		owner        ids.Owner
		body, files  int
		want         error
		wantContains string
	}{
		{"not linked", "mallory@example.test", 2, 0, gateway.ErrNotLinked, ""},
		{"body over the limit", alice, 11, 0, gateway.ErrOverLimit, "11 bytes"},
		{"too many files", alice, 0, 2, gateway.ErrOverLimit, "2 attachments"},
		{"first", alice, 2, 1, nil, ""},
		{"second", alice, 2, 0, nil, ""},
		{"over the rate", alice, 2, 0, gateway.ErrTooFast, "at most 1 a minute"},
	} {
		err := gw.AdmitMessage(tc.owner, sb, tc.body, tc.files)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantContains)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Both admitted messages are sent although the bucket is empty now.
	for _, id := range []string{"a1", "a2"} {
		msg := &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: "hi " + id}
		if _, err := gw.SendMessage(t.Context(), alice, sb, msg, gateway.SendOptions{XMPPIDs: []string{id}, Admitted: true}); err != nil {
			t.Errorf("admitted message %s: %v", id, err)
		}
	}
	msg := &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: "later"}
	if _, err := gw.SendMessage(t.Context(), alice, sb, msg, gateway.SendOptions{XMPPIDs: []string{"a3"}}); !errors.Is(err, gateway.ErrTooFast) {
		t.Errorf("a message not admitted, over the rate: %v, want ErrTooFast", err)
	}
}

// TestFrontAdmitMessage: FrontAdmitMessage makes AdmitMessage's checks
// but the session's (the front need not serve the owner): sizes, and
// the rate whose token it takes; AdmitMessageRated then checks the
// session and the sizes and takes no token, so a message admitted at
// the front costs one token in all.
func TestFrontAdmitMessage(t *testing.T) {
	gw := limitedHub(t)

	front := func(owner ids.Owner, body, files int) error { return gw.FrontAdmitMessage(owner, body, files) }
	rated := func(owner ids.Owner, body, files int) error { return gw.AdmitMessageRated(owner, sb, body, files) }
	for _, tc := range []struct {
		name         string
		check        func(ids.Owner, int, int) error
		owner        ids.Owner
		body, files  int
		want         error
		wantContains string
	}{
		{"front: not served here, admitted", front, "mallory@example.test", 2, 0, nil, ""},
		{"front: body over the limit", front, alice, 11, 0, gateway.ErrOverLimit, "11 bytes"},
		{"front: too many files", front, alice, 0, 2, gateway.ErrOverLimit, "2 attachments"},
		{"front: first", front, alice, 2, 1, nil, ""},
		{"front: second", front, alice, 2, 0, nil, ""},
		{"front: over the rate", front, alice, 2, 0, gateway.ErrTooFast, "at most 1 a minute"},
		{"worker: admitted, no token", rated, alice, 2, 0, nil, ""},
		{"worker: again, no token", rated, alice, 2, 1, nil, ""},
		{"worker: not linked", rated, "mallory@example.test", 2, 0, gateway.ErrNotLinked, ""},
		{"worker: body over the limit", rated, alice, 11, 0, gateway.ErrOverLimit, "11 bytes"},
	} {
		err := tc.check(tc.owner, tc.body, tc.files)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantContains)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// mallory's token was taken at the front although she has no session.
	if err := gw.FrontAdmitMessage("mallory@example.test", 2, 0); err != nil {
		t.Fatalf("mallory's second: %v", err)
	}
	if err := gw.FrontAdmitMessage("mallory@example.test", 2, 0); !errors.Is(err, gateway.ErrTooFast) {
		t.Errorf("mallory over the rate at the front: %v, want ErrTooFast", err)
	}
}
