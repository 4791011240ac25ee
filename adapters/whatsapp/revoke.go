package whatsapp

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// adminRevoke deletes another member's message in a group for everyone,
// which WhatsApp lets group admins do: the revocation names the message's
// author (BuildRevoke with the sender). It refuses with
// gateway.ErrForbidden when the owner is not an admin of the group, as
// WhatsApp would.
func (s *Session) adminRevoke(ctx context.Context, r *event.Retract, chat types.JID, ref waid.MessageRef) error {
	g, err := s.c.client.GetGroupInfo(ctx, chat)
	if err != nil {
		return groupErr("reading group "+string(r.Chat), err)
	}
	if g == nil || !s.isAdmin(g) {
		return fmt.Errorf("whatsapp: only admins of the group can delete other members' messages: %w", gateway.ErrForbidden)
	}
	author, err := s.participantJID(ctx, r.Chat, ref.Participant)
	if err != nil {
		return fmt.Errorf("whatsapp: the message's author %q: %w", ref.Participant, gateway.ErrTargetNotFound)
	}
	author = s.addressIn(g, author)
	_, err = s.send(ctx, chat, s.c.client.BuildRevoke(chat, author, ref.ID), "deleting a member's message")
	return err
}

// isAdmin reports whether the owner is an admin of group g.
func (s *Session) isAdmin(g *types.GroupInfo) bool {
	for _, p := range g.Participants {
		if !p.IsAdmin && !p.IsSuperAdmin {
			continue
		}
		for _, j := range []types.JID{p.JID, p.PhoneNumber, p.LID} {
			if j.IsEmpty() {
				continue
			}
			if j.ToNonAD() == s.ownJID || (!s.users.OwnLID.IsEmpty() && j.ToNonAD() == s.users.OwnLID) {
				return true
			}
		}
	}
	return false
}

// addressIn is the JID group g uses for a member known as jid (a phone
// number or a LID): the group's own address of that participant, read from
// the group info just fetched, so that a revocation names the author as
// the group's messages do.
func (s *Session) addressIn(g *types.GroupInfo, jid types.JID) types.JID {
	jid = jid.ToNonAD()
	for _, p := range g.Participants {
		if p.JID.ToNonAD() == jid || p.PhoneNumber.ToNonAD() == jid || p.LID.ToNonAD() == jid {
			return p.JID.ToNonAD()
		}
	}
	return jid
}
