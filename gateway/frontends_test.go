package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// sb2 is a second platform: the sandbox under another id.
const sb2 = ids.PlatformID("sandbox2")

// renamed is an adapter under another platform id.
type renamed struct {
	*sandbox.Adapter
	id ids.PlatformID
}

func (r renamed) Info() gateway.Info {
	info := r.Adapter.Info()
	info.ID = r.id
	return info
}

// twoPlatformHub runs a hub with two platforms, each with its own
// frontend (holding confirmations when hold is set).
func twoPlatformHub(t *testing.T, st store.Store, hold bool) (*hub, map[ids.PlatformID]*confirmingFrontend) {
	t.Helper()
	p1 := sandbox.NewPlatform(sandbox.Options{Seed: 1, IDPrefix: "one."})
	p2 := sandbox.NewPlatform(sandbox.Options{Seed: 2, IDPrefix: "two."})
	t.Cleanup(p1.Close)
	t.Cleanup(p2.Close)
	gw, err := gateway.New(gateway.Options{
		Store:    st,
		Adapters: []gateway.Adapter{sandbox.New(p1), renamed{sandbox.New(p2), sb2}},
		AdapterConfig: map[ids.PlatformID]map[string]any{
			sb: {"auto_confirm": true}, sb2: {"auto_confirm": true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fes := map[ids.PlatformID]*confirmingFrontend{}
	for _, p := range []ids.PlatformID{sb, sb2} {
		fes[p] = &confirmingFrontend{frontend: newFrontend(), hold: hold}
		gw.SetPlatformFrontend(p, fes[p])
	}
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	return &hub{gw: gw, store: st}, fes
}

// linkOn runs the pairing-code flow of platform for owner and phone.
func linkOn(t *testing.T, gw *gateway.Gateway, fe *frontend, owner ids.Owner, platform ids.PlatformID, phone string) {
	t.Helper()
	ctx := t.Context()
	run, step, err := gw.StartLogin(ctx, owner, platform, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Submit(ctx, map[string]string{step.Fields[0].ID: phone}); err != nil {
		t.Fatal(err)
	}
	if step, err = run.Wait(ctx); err != nil || step.Kind != gateway.StepDone {
		t.Fatalf("link on %s: %+v, %v", platform, step, err)
	}
	fe.wait(t, owner, 1, func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateConnected
	})
}

// echoOf matches the echo of a body sent on a platform.
func echoOf(prefix string) func(event.Event) bool {
	return func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && strings.HasPrefix(m.Body, "echo: "+prefix)
	}
}

// TestPlatformFrontends checks that with a frontend per platform, each
// platform's events reach its own frontend and never the other's, as
// they happen and when the journal replays them after a restart.
func TestPlatformFrontends(t *testing.T) {
	st := openStore(t)
	const owner = ids.Owner("alice@example.test")
	first, fes := twoPlatformHub(t, st, true)
	linkOn(t, first.gw, fes[sb].frontend, owner, sb, "+15557654321")
	linkOn(t, first.gw, fes[sb2].frontend, owner, sb2, "+15557654322")
	const n = 3
	for i := range n {
		for _, p := range []ids.PlatformID{sb, sb2} {
			msg := &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: fmt.Sprintf("%s %d", p, i)}
			if _, err := first.gw.SendMessage(t.Context(), owner, p, msg, gateway.SendOptions{XMPPIDs: []string{fmt.Sprintf("%s-%d", p, i)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(fes map[ids.PlatformID]*confirmingFrontend) {
		t.Helper()
		for p, other := range map[ids.PlatformID]ids.PlatformID{sb: sb2, sb2: sb} {
			fes[p].wait(t, owner, n, echoOf(string(p)+" "))
			if got := fes[p].count(owner, echoOf(string(other)+" ")); got != 0 {
				t.Errorf("the frontend of %s got %d echoes of %s", p, got, other)
			}
		}
	}
	check(fes)
	// Unconfirmed: journaled, replayed by the next process.
	waitPending(t, st, owner, 4*n)
	if err := first.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, fes = twoPlatformHub(t, st, false)
	check(fes)
	waitPending(t, st, owner, 0)
}

// TestStartNeedsFrontendPerPlatform checks that a hub whose platform has
// no frontend refuses to start, naming it, rather than lose its events.
func TestStartNeedsFrontendPerPlatform(t *testing.T) {
	p1 := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	p2 := sandbox.NewPlatform(sandbox.Options{Seed: 2})
	t.Cleanup(p1.Close)
	t.Cleanup(p2.Close)
	gw, err := gateway.New(gateway.Options{
		Store:    openStore(t),
		Adapters: []gateway.Adapter{sandbox.New(p1), renamed{sandbox.New(p2), sb2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gw.SetPlatformFrontend(sb, newFrontend())
	err = gw.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no frontend attached for platform sandbox2") {
		t.Errorf("Start = %v, want sandbox2 named", err)
	}
}

// TestSameChatIDOnTwoPlatforms checks that two platforms' chats with the
// same id (here each sandbox's echo bot) are kept apart by the hub's
// memory of sent messages: a client re-using a stanza id for the same text
// to both is not taken for a re-sent copy on the second platform, and a
// correction on each names that platform's own message.
func TestSameChatIDOnTwoPlatforms(t *testing.T) {
	st := openStore(t)
	const owner = ids.Owner("alice@example.test")
	h, fes := twoPlatformHub(t, st, false)
	linkOn(t, h.gw, fes[sb].frontend, owner, sb, "+15557654321")
	linkOn(t, h.gw, fes[sb2].frontend, owner, sb2, "+15557654322")
	echo := ids.ChatID(sandbox.EchoBot)
	sent := map[ids.PlatformID]ids.MessageID{}
	for _, p := range []ids.PlatformID{sb, sb2} {
		msg := &event.Message{Meta: event.Meta{Chat: echo}, Body: "same text"}
		id, err := h.gw.SendMessage(t.Context(), owner, p, msg, gateway.SendOptions{XMPPIDs: []string{"reused-id"}})
		if err != nil {
			t.Fatal(err)
		}
		sent[p] = id
	}
	if sent[sb] == sent[sb2] || !strings.HasPrefix(string(sent[sb]), "one.") || !strings.HasPrefix(string(sent[sb2]), "two.") {
		t.Fatalf("platform ids %v: want one message on each platform", sent)
	}
	for _, p := range []ids.PlatformID{sb, sb2} {
		fes[p].wait(t, owner, 1, echoOf("same text"))
	}
	// A correction of "reused-id" on the second platform targets its own
	// message, which the echo bot answers on that platform only.
	if err := h.gw.EditMessage(t.Context(), owner, sb2, echo, "reused-id", "fixed text", "edit-1"); err != nil {
		t.Fatalf("edit on %s: %v", sb2, err)
	}
	edits := func(p ids.PlatformID) int {
		return fes[p].count(owner, func(ev event.Event) bool {
			e, ok := ev.(*event.Edit)
			return ok && strings.Contains(e.Body, "fixed text")
		})
	}
	fes[sb2].wait(t, owner, 1, func(ev event.Event) bool {
		e, ok := ev.(*event.Edit)
		return ok && strings.Contains(e.Body, "fixed text")
	})
	if n := edits(sb); n != 0 {
		t.Errorf("the first platform saw %d edits of the second's message", n)
	}
}
