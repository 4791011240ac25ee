package sandbox_test

import (
	"errors"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestChannel plays the seeded read-only group News and one made with
// CreateChannel: only admins post, members read, and the group info says
// so (gateway.GroupInfo.ReadOnly), which makes the room moderated.
func TestChannel(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	a := e.link(t, phoneA)
	sa := e.connect(t, a)
	c := ctx(t)

	if err := e.p.AddMember(sandbox.Alice, sandbox.News, ids.UserID(a)); err != nil {
		t.Fatal(err)
	}
	gi, err := sa.GroupInfo(c, sandbox.News)
	if err != nil {
		t.Fatal(err)
	}
	if gi.Name != "Sandbox News" || !gi.ReadOnly || gi.MayWrite() {
		t.Fatalf("News as a member sees it = %+v, want read-only and not writable", gi)
	}
	// A member reads what the owner posts...
	if _, err := e.p.SendGroupAs(c, sandbox.Alice, sandbox.News, "Issue 1 is out"); err != nil {
		t.Fatal(err)
	}
	e.h.WaitEvent(t, gatewaytest.All(gatewaytest.Is[*event.Message], gatewaytest.InChat(a, sandbox.News)))
	// ...and posts nothing, nor do other members.
	if _, err := sa.SendMessage(c, &event.Message{Meta: event.Meta{Chat: sandbox.News}, Body: "can I post?"}); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("a member's post = %v, want ErrForbidden", err)
	}
	if _, err := e.p.SendGroupAs(c, sandbox.Bob, sandbox.News, "me too?"); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("Bob's post = %v, want ErrForbidden", err)
	}
	// Made an admin, the account posts.
	if err := e.p.Promote(sandbox.Alice, sandbox.News, ids.UserID(a)); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.SendMessage(c, &event.Message{Meta: event.Meta{Chat: sandbox.News}, Body: "now I may"}); err != nil {
		t.Errorf("an admin's post = %v", err)
	}
	// The Lounge stays an ordinary group.
	if lounge, err := e.p.Group(sandbox.Lounge, sandbox.Bob); err != nil || lounge.ReadOnly {
		t.Errorf("Lounge = %+v, %v; want writable", lounge, err)
	}

	// A new channel: the creator owns it, the members read; its ChatInfo
	// says it is read-only.
	ch, err := e.p.CreateChannel(sandbox.Bob, "Bob's channel", ids.UserID(a))
	if err != nil {
		t.Fatal(err)
	}
	info := e.h.WaitEvent(t, gatewaytest.All(gatewaytest.Is[*event.ChatInfo], gatewaytest.InChat(a, ch))).(*event.ChatInfo)
	if info.ReadOnly == nil || !*info.ReadOnly {
		t.Errorf("ChatInfo of a new channel: ReadOnly = %v, want true", info.ReadOnly)
	}
	if _, err := sa.SendMessage(c, &event.Message{Meta: event.Meta{Chat: ch}, Body: "hi"}); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("a member's post in a new channel = %v, want ErrForbidden", err)
	}
	if _, err := e.p.SendGroupAs(c, sandbox.Bob, ch, "welcome"); err != nil {
		t.Errorf("the owner's post = %v", err)
	}
}
