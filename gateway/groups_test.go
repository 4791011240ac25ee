package gateway_test

import (
	"errors"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestGroupUseCases checks the hub's group use cases and their refusals:
// not linked, not a member, not an admin, a chat that is no group.
func TestGroupUseCases(t *testing.T) {
	h := newHub(t, openStore(t), true)
	ctx := t.Context()
	const owner = ids.Owner("alice@example.test")
	const phone = "+15557654321"
	if _, err := h.gw.GroupInfo(ctx, owner, sb, sandbox.Lounge); !errors.Is(err, gateway.ErrNotLinked) {
		t.Fatalf("before linking: %v, want ErrNotLinked", err)
	}
	if h.gw.HasGroups(owner, sb) {
		t.Error("HasGroups before linking")
	}
	h.link(t, owner, phone)
	if !h.gw.HasGroups(owner, sb) || !h.gw.IsGroup(owner, sb, sandbox.Lounge) || h.gw.IsGroup(owner, sb, ids.ChatID(sandbox.Bob)) {
		t.Error("HasGroups/IsGroup wrong once linked")
	}
	if _, err := h.gw.GroupInfo(ctx, owner, sb, ids.ChatID(sandbox.Bob)); !errors.Is(err, gateway.ErrUnknownChat) {
		t.Errorf("a contact as a group: %v, want ErrUnknownChat", err)
	}
	if _, err := h.gw.GroupInfo(ctx, owner, sb, sandbox.Lounge); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("not a member: %v, want ErrForbidden", err)
	}
	if err := h.platform.AddMember(sandbox.Alice, sandbox.Lounge, phone); err != nil {
		t.Fatal(err)
	}
	h.fe.wait(t, owner, 1, func(ev event.Event) bool {
		mc, ok := ev.(*event.MembershipChange)
		return ok && mc.Chat == sandbox.Lounge && mc.User == phone && mc.Action == event.Joined
	})
	gs, err := h.gw.Groups(ctx, owner, sb)
	if err != nil || len(gs) != 1 || gs[0].Chat != sandbox.Lounge || gs[0].Self != phone {
		t.Fatalf("Groups = %+v, %v", gs, err)
	}
	for name, err := range map[string]error{
		"topic": h.gw.SetGroupTopic(ctx, owner, sb, sandbox.Lounge, "mine"),
		"kick":  h.gw.KickMember(ctx, owner, sb, sandbox.Lounge, sandbox.Bob),
		"grant": h.gw.SetMemberRole(ctx, owner, sb, sandbox.Lounge, sandbox.Bob, gateway.RoleAdmin),
		"add":   h.gw.InviteMember(ctx, owner, sb, sandbox.Lounge, sandbox.QuietBot),
	} {
		if !errors.Is(err, gateway.ErrForbidden) {
			t.Errorf("%s by a member: %v, want ErrForbidden", name, err)
		}
	}
	if err := h.gw.SetMemberRole(ctx, owner, sb, sandbox.Lounge, sandbox.Bob, gateway.RoleOwner); !errors.Is(err, gateway.ErrNotSupported) {
		t.Errorf("granting ownership: %v, want ErrNotSupported", err)
	}
	if err := h.platform.Promote(sandbox.Alice, sandbox.Lounge, phone); err != nil {
		t.Fatal(err)
	}
	if err := h.gw.SetGroupTopic(ctx, owner, sb, sandbox.Lounge, "mine"); err != nil {
		t.Errorf("topic by an admin: %v", err)
	}
	if err := h.gw.KickMember(ctx, owner, sb, sandbox.Lounge, sandbox.Bob); err != nil {
		t.Errorf("kick by an admin: %v", err)
	}
	if _, err := h.gw.SendMessage(ctx, owner, sb, &event.Message{Meta: event.Meta{Chat: sandbox.Lounge}, Body: "hi group"}, gateway.SendOptions{XMPPIDs: []string{"x1"}}); err != nil {
		t.Errorf("group message: %v", err)
	}
	if _, err := h.gw.CreateGroup(ctx, owner, sb, "  ", nil); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("nameless group: %v, want ErrBadRequest", err)
	}
	chat, err := h.gw.CreateGroup(ctx, owner, sb, "Mine", []ids.UserID{sandbox.Bob})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.gw.LeaveGroup(ctx, owner, sb, chat); err != nil {
		t.Errorf("leave: %v", err)
	}
	if _, err := h.gw.GroupInfo(ctx, owner, sb, chat); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("after leaving: %v, want ErrForbidden", err)
	}
}
