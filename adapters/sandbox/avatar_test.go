package sandbox_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func sha1Hex(data []byte) string {
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

// redSquare is a valid PNG that no seeded user has.
func redSquare(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range 16 {
		img.Set(i%4, i/4, color.RGBA{R: 0xff, A: 0xff})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAvatars(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	other := sandbox.NewPlatform(sandbox.Options{Seed: 99})
	t.Cleanup(other.Close)

	seeded := []ids.UserID{sandbox.EchoBot, sandbox.QuietBot, sandbox.Alice, sandbox.Bob}
	infos := e.h.WaitEvents(t, len(seeded), gatewaytest.Is[*event.ContactInfo])
	hashes := map[string]ids.UserID{}
	for i, u := range seeded {
		av, err := s.GetAvatar(ctx(t), u)
		if err != nil {
			t.Fatalf("GetAvatar(%s): %v", u, err)
		}
		if av.MIMEType != "image/png" || av.Hash != sha1Hex(av.Data) || len(av.Data) < 50 || len(av.Data) > 1000 {
			t.Errorf("%s: avatar %s, %d bytes, hash %s", u, av.MIMEType, len(av.Data), av.Hash)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(av.Data))
		if err != nil || cfg.Width != 40 || cfg.Height != 40 {
			t.Errorf("%s: PNG %+v, %v", u, cfg, err)
		}
		if ci := infos[i].(*event.ContactInfo); ci.Sender != u || ci.AvatarHash != av.Hash {
			t.Errorf("contact info %+v, want hash %s", ci, av.Hash)
		}
		// The same user has the same picture on another platform, and
		// each user its own.
		if again, _ := other.Avatar(u); again.Hash != av.Hash || !bytes.Equal(again.Data, av.Data) {
			t.Errorf("%s: avatar differs between platforms", u)
		}
		if prev, dup := hashes[av.Hash]; dup {
			t.Errorf("%s and %s have the same avatar", prev, u)
		}
		hashes[av.Hash] = u
	}

	// Users without a picture, unknown users.
	if av, err := s.GetAvatar(ctx(t), ids.UserID(acct)); err != nil || av.Hash != "" || av.Data != nil {
		t.Errorf("GetAvatar(own account) = %+v, %v; want none", av, err)
	}
	if _, err := s.GetAvatar(ctx(t), "+15559999999"); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("GetAvatar(unknown) = %v", err)
	}

	// Alice changes her picture: A gets a new contact info, then she
	// removes it.
	red := redSquare(t)
	if err := e.p.SetAvatar(sandbox.Alice, red); err != nil {
		t.Fatal(err)
	}
	if err := e.p.SetAvatar(sandbox.Alice, red); err != nil { // unchanged: no event
		t.Fatal(err)
	}
	if err := e.p.SetAvatar(sandbox.Alice, nil); err != nil {
		t.Fatal(err)
	}
	ci := e.h.WaitEvents(t, 3, of[*event.ContactInfo](acct, sandbox.Alice))
	if got := ci[1].(*event.ContactInfo); got.AvatarHash != sha1Hex(red) || got.Name != "Alice Sandbox" {
		t.Errorf("after SetAvatar: %+v", got)
	}
	if got := ci[2].(*event.ContactInfo); got.AvatarHash != "" {
		t.Errorf("after removing the avatar: %+v", got)
	}
	if av, err := s.GetAvatar(ctx(t), sandbox.Alice); err != nil || av.Hash != "" || av.MIMEType != "" || av.Data != nil {
		t.Errorf("GetAvatar(Alice) after removal = %+v, %v", av, err)
	}
	// An account may get a picture too.
	if err := e.p.SetAvatar(ids.UserID(acct), red); err != nil {
		t.Fatal(err)
	}
	if av, _ := s.GetAvatar(ctx(t), ids.UserID(acct)); av.Hash != sha1Hex(red) || !bytes.Equal(av.Data, red) {
		t.Errorf("own avatar %+v", av)
	}

	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"not a PNG", e.p.SetAvatar(sandbox.Bob, []byte("GIF89a...")), gateway.ErrBadRequest},
		{"unknown user", e.p.SetAvatar("+15559999999", red), gateway.ErrUnknownChat},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, ok := e.p.Avatar("+15559999999"); ok {
		t.Error("Avatar(unknown) found")
	}
	p := sandbox.NewPlatform(sandbox.Options{})
	t.Cleanup(p.Close)
	if err := p.AddHuman("+15553334444", "Carol"); err != nil {
		t.Fatal(err)
	}
	if av, _ := p.Avatar("+15553334444"); av.Hash == "" {
		t.Error("an added human has no avatar")
	}
}

func TestPresenceLastSeen(t *testing.T) {
	clk := newClock()
	e := newEnv(t, nil, sandbox.Options{Clock: clk.Now})
	acct := e.link(t, phoneA)
	e.connect(t, acct)
	prelude := e.h.WaitEvents(t, 4, gatewaytest.Is[*event.Presence])
	for _, ev := range prelude {
		if pr := ev.(*event.Presence); !pr.Available || !pr.LastSeen.IsZero() {
			t.Errorf("prelude %s last seen %v", gatewaytest.Describe(pr), pr.LastSeen)
		}
	}

	clk.Advance(time.Hour)
	left := clk.Now()
	if err := e.p.SetPresence(sandbox.Alice, false, "off"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if err := e.p.SetPresence(sandbox.Alice, false, "still off"); err != nil {
		t.Fatal(err)
	}
	if err := e.p.SetPresence(sandbox.Alice, true, "back"); err != nil {
		t.Fatal(err)
	}
	got := e.h.WaitEvents(t, 4, of[*event.Presence](acct, sandbox.Alice))[1:]
	for i, want := range []struct {
		available bool
		lastSeen  time.Time
	}{{false, left}, {false, left}, {true, time.Time{}}} {
		if pr := got[i].(*event.Presence); pr.Available != want.available || !pr.LastSeen.Equal(want.lastSeen) {
			t.Errorf("presence %d = %s last seen %v, want %v", i, gatewaytest.Describe(pr), pr.LastSeen, want.lastSeen)
		}
	}

	// Bots are always available; their status may change.
	if err := e.p.SetPresence(sandbox.EchoBot, false, "nap"); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("SetPresence(bot, unavailable) = %v", err)
	}
	if err := e.p.SetPresence(sandbox.EchoBot, true, "echoing"); err != nil {
		t.Errorf("SetPresence(bot, status) = %v", err)
	}
	if u, _ := e.p.User(sandbox.EchoBot); !u.Available || u.Status != "echoing" {
		t.Errorf("User(EchoBot) = %+v", u)
	}
}
