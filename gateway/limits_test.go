package gateway

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestLimits(t *testing.T) {
	clock := time.Unix(1_000_000, 0)
	g := gatewayWithLimits(Limits{
		Messages:       RateLimit{PerJID: Rate{PerMinute: 60, Burst: 2}, Global: Rate{PerMinute: 60, Burst: 3}},
		Registrations:  RateLimit{PerJID: Rate{PerMinute: 1, Burst: 1}},
		Logins:         RateLimit{Global: Rate{PerMinute: 1, Burst: 1}},
		MaxBodySize:    10,
		MaxAttachments: 1,
		Now:            func() time.Time { return clock },
	})
	const alice, bob = ids.Owner("alice@example.org"), ids.Owner("bob@example.org")
	msg := func(body string, files int) *event.Message {
		return &event.Message{Body: body, Attachments: make([]event.Attachment, files)}
	}
	files := Capabilities{MaxFileSize: 1 << 20, MaxBodyLength: 20}
	for i, tc := range []struct {
		name string
		do   func() error
		want error // nil: allowed
	}{
		{"alice 1", func() error { return g.checkMessage(alice, files, msg("hi", 0), true) }, nil},
		{"alice 2", func() error { return g.checkMessage(alice, files, msg("hi", 1), true) }, nil},
		{"alice over her rate", func() error { return g.checkMessage(alice, files, msg("hi", 0), true) }, ErrTooFast},
		{"bob has his own bucket", func() error { return g.checkMessage(bob, files, msg("hi", 0), true) }, nil},
		{"everybody over the global rate", func() error { return g.checkMessage(bob, files, msg("hi", 0), true) }, ErrRateLimited},
		{"body too long, checked before the rate", func() error { return g.checkMessage(bob, files, msg(strings.Repeat("x", 11), 0), true) }, ErrOverLimit},
		{"too many attachments", func() error { return g.checkMessage(bob, files, msg("", 2), true) }, ErrOverLimit},
		{"the platform's body limit, before the rate", func() error {
			return g.checkMessage(bob, Capabilities{MaxBodyLength: 1}, msg("hi", 0), true)
		}, ErrNotSupported},
		{"the platform takes no files, before the rate", func() error { return g.checkMessage(bob, Capabilities{}, msg("hi", 1), true) }, ErrNotSupported},
		{"first registration", func() error { return g.checkRegistrationRate(alice) }, nil},
		{"second registration", func() error { return g.checkRegistrationRate(alice) }, ErrTooFast},
		{"another JID registers", func() error { return g.checkRegistrationRate(bob) }, nil},
		{"first login", func() error { return g.checkLoginRate(alice) }, nil},
		{"global login limit", func() error { return g.checkLoginRate(bob) }, ErrRateLimited},
	} {
		err := tc.do()
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%d %s: %v, want allowed", i, tc.name, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%d %s: %v, want %v", i, tc.name, err, tc.want)
		case errors.Is(tc.want, ErrRateLimited) && tc.want != ErrTooFast && errors.Is(err, ErrTooFast):
			t.Errorf("%d %s: %v is the per-JID error; the global limit refused", i, tc.name, err)
		}
	}
	clock = clock.Add(time.Minute)
	if err := g.checkMessage(alice, files, msg("hi", 0), true); err != nil {
		t.Errorf("after a minute: %v", err)
	}
}

// TestNoLimits: the zero Limits refuses nothing.
func TestNoLimits(t *testing.T) {
	g := gatewayWithLimits(Limits{})
	for range 1000 {
		if err := g.checkMessage("a@b", Capabilities{MaxFileSize: 1}, &event.Message{Body: strings.Repeat("x", 1<<16), Attachments: make([]event.Attachment, 50)}, true); err != nil {
			t.Fatal(err)
		}
	}
}

// gatewayWithLimits is a Gateway with only its limits set.
func gatewayWithLimits(l Limits) *Gateway {
	g := &Gateway{}
	g.limits.Store(newLimits(l, nil))
	return g
}

// TestSetLimits: new limits apply at once (a reload); a rate limiter whose
// rates stay keeps its buckets (no fresh burst), one whose rates change
// starts afresh.
func TestSetLimits(t *testing.T) {
	clock := time.Unix(1_000_000, 0)
	g := gatewayWithLimits(Limits{
		Messages:    RateLimit{PerJID: Rate{PerMinute: 1, Burst: 1}},
		Logins:      RateLimit{PerJID: Rate{PerMinute: 1, Burst: 1}},
		MaxBodySize: 10,
		Now:         func() time.Time { return clock },
	})
	const alice = ids.Owner("alice@example.org")
	if err := g.checkMessageSize(len(strings.Repeat("x", 15)), 0); !errors.Is(err, ErrOverLimit) {
		t.Fatalf("15 bytes under a 10-byte limit: %v", err)
	}
	if err := g.checkMessageRate(alice); err != nil {
		t.Fatal(err)
	}
	if err := g.checkLoginRate(alice); err != nil {
		t.Fatal(err)
	}
	g.SetLimits(Limits{
		Messages:    RateLimit{PerJID: Rate{PerMinute: 1, Burst: 1}},
		Logins:      RateLimit{PerJID: Rate{PerMinute: 1, Burst: 2}},
		MaxBodySize: 20,
	})
	if err := g.checkMessageSize(len(strings.Repeat("x", 15)), 0); err != nil {
		t.Errorf("15 bytes under the reloaded 20-byte limit: %v", err)
	}
	if err := g.checkMessageRate(alice); !errors.Is(err, ErrTooFast) {
		t.Errorf("the unchanged message rate gave a fresh burst: %v", err)
	}
	if err := g.checkLoginRate(alice); err != nil {
		t.Errorf("the changed login rate (burst 2) refuses: %v", err)
	}
}
