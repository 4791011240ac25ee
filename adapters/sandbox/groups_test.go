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

// TestGroups plays the Lounge with two linked accounts: membership by an
// admin, messages both ways with FromMe copies, the Echo Bot's "!echo",
// kicks, promotions and topics with the platform's permissions.
func TestGroups(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	a, b := e.link(t, phoneA), e.link(t, phoneB)
	sa, sb := e.connect(t, a), e.connect(t, b)
	c := ctx(t)

	if !sa.IsGroup(sandbox.Lounge) || sa.IsGroup(ids.ChatID(sandbox.Alice)) {
		t.Fatal("IsGroup does not tell groups from contacts")
	}
	if _, err := sa.GroupInfo(c, sandbox.Lounge); !errors.Is(err, gateway.ErrForbidden) {
		t.Fatalf("GroupInfo of a non-member: %v, want ErrForbidden", err)
	}
	if err := e.p.AddMember(sandbox.Bob, sandbox.Lounge, ids.UserID(a)); !errors.Is(err, gateway.ErrForbidden) {
		t.Fatalf("AddMember by a non-admin: %v, want ErrForbidden", err)
	}
	for _, acct := range []ids.AccountID{a, b} {
		if err := e.p.AddMember(sandbox.Alice, sandbox.Lounge, ids.UserID(acct)); err != nil {
			t.Fatal(err)
		}
	}
	e.h.WaitEvent(t, func(ev event.Event) bool {
		mc, ok := ev.(*event.MembershipChange)
		return ok && mc.Account == a && mc.User == ids.UserID(b) && mc.Action == event.Joined
	})
	gi, err := sa.GroupInfo(c, sandbox.Lounge)
	if err != nil {
		t.Fatal(err)
	}
	if gi.Name != "Sandbox Lounge" || gi.Self != ids.UserID(a) || len(gi.Members) != 5 {
		t.Fatalf("group info = %+v", gi)
	}
	if m, _ := gi.Member(sandbox.Alice); m.Role != gateway.RoleOwner || m.Name != "Alice Sandbox" {
		t.Errorf("Alice = %+v", m)
	}
	if gs, err := sb.ListGroups(c); err != nil || len(gs) != 1 || gs[0].Chat != sandbox.Lounge {
		t.Errorf("ListGroups = %v, %v", gs, err)
	}

	// A writes: B gets it, A's session does not get its own copy back.
	id, err := sa.SendMessage(c, &event.Message{Meta: event.Meta{Chat: sandbox.Lounge}, Body: "hi all"})
	if err != nil {
		t.Fatal(err)
	}
	got := e.h.WaitEvent(t, gatewaytest.All(gatewaytest.Is[*event.Message], gatewaytest.InChat(b, sandbox.Lounge))).(*event.Message)
	if got.ID != id || got.Sender != ids.UserID(a) || got.FromMe || got.Body != "hi all" {
		t.Errorf("B got %s", gatewaytest.Describe(got))
	}
	// A human writes; the bot answers "!echo".
	if _, err := e.p.SendGroupAs(c, sandbox.Bob, sandbox.Lounge, "!echo ping"); err != nil {
		t.Fatal(err)
	}
	e.h.WaitEvent(t, func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Account == a && m.Chat == sandbox.Lounge && m.Sender == sandbox.EchoBot && m.Body == "ping"
	})

	// Corrections and reactions in a group reach the other member.
	if err := sa.EditMessage(c, &event.Edit{Meta: event.Meta{Chat: sandbox.Lounge}, Target: id, Body: "hi everyone"}); err != nil {
		t.Fatal(err)
	}
	e.h.WaitEvent(t, func(ev event.Event) bool {
		ed, ok := ev.(*event.Edit)
		return ok && ed.Account == b && ed.Chat == sandbox.Lounge && ed.Target == id && ed.Body == "hi everyone"
	})
	if err := sb.SendReaction(c, &event.Reaction{Meta: event.Meta{Chat: sandbox.Lounge}, Target: id, Emojis: []string{"👍"}}); err != nil {
		t.Fatal(err)
	}
	e.h.WaitEvent(t, func(ev event.Event) bool {
		r, ok := ev.(*event.Reaction)
		return ok && r.Account == a && r.Chat == sandbox.Lounge && r.Sender == ids.UserID(b) && r.Target == id
	})
	if err := sb.EditMessage(c, &event.Edit{Meta: event.Meta{Chat: sandbox.Lounge}, Target: id, Body: "mine now"}); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("editing someone else's group message: %v", err)
	}
	if err := e.p.RenameGroup(sandbox.Bob, sandbox.Lounge, "Bob's"); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("rename by a member: %v", err)
	}
	if err := e.p.RenameGroup(sandbox.Alice, sandbox.Lounge, "Sandbox Lobby"); err != nil {
		t.Fatal(err)
	}
	e.h.WaitEvent(t, func(ev event.Event) bool {
		ci, ok := ev.(*event.ChatInfo)
		return ok && ci.Account == b && ci.Name == "Sandbox Lobby"
	})

	// Permissions: B is no admin until promoted.
	if err := sb.SetGroupTopic(c, sandbox.Lounge, "B's topic"); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("topic by a member: %v", err)
	}
	if err := e.p.Promote(sandbox.Alice, sandbox.Lounge, ids.UserID(b)); err != nil {
		t.Fatal(err)
	}
	if err := sb.SetGroupTopic(c, sandbox.Lounge, "B's topic"); err != nil {
		t.Errorf("topic by an admin: %v", err)
	}
	e.h.WaitEvent(t, func(ev event.Event) bool {
		ci, ok := ev.(*event.ChatInfo)
		return ok && ci.Account == a && ci.IsGroup && ci.Topic == "B's topic" && ci.Sender == ids.UserID(b)
	})
	if err := sb.RemoveMember(c, sandbox.Lounge, sandbox.Alice); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("kicking the owner: %v", err)
	}
	if err := sb.RemoveMember(c, sandbox.Lounge, ids.UserID(a)); err != nil {
		t.Fatal(err)
	}
	e.h.WaitEvent(t, func(ev event.Event) bool {
		mc, ok := ev.(*event.MembershipChange)
		return ok && mc.Account == a && mc.User == ids.UserID(a) && mc.Action == event.Kicked
	})
	if _, err := sa.SendMessage(c, &event.Message{Meta: event.Meta{Chat: sandbox.Lounge}, Body: "still here?"}); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("a kicked member writes: %v", err)
	}

	// A new group, and leaving it.
	g, err := sb.CreateGroup(c, "Side room", []ids.UserID{sandbox.Alice})
	if err != nil || !sandbox.IsGroupID(g) {
		t.Fatalf("CreateGroup = %q, %v", g, err)
	}
	if err := sb.LeaveGroup(c, g); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Group(g, ids.UserID(b)); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("after leaving: %v", err)
	}
	if msgs := e.p.GroupMessages(sandbox.Lounge); len(msgs) != 3 {
		t.Errorf("Lounge has %d messages, want 3", len(msgs))
	}
}
