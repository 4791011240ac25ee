package xmppcomponent

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// Room avatars (XEP-0486): a room's vCard carries its group's picture,
// disco#info its SHA-1 (muc#roominfo_avatarhash), and a change of the
// picture is announced with a presence from the room's bare JID carrying
// the new hash (XEP-0153's vcard-temp:x:update), after which clients
// fetch the vCard again.

// roomAvatar is what a room knows of its picture: the platform's hash it
// was fetched for and the image's SHA-1 ("" none).
type roomAvatar struct {
	platformHash string
	sha1         string
}

// roomAvatarSHA1 returns the SHA-1 of the group's picture whose platform
// hash is hash ("" when the group has none), fetching it once per hash.
func (c *Component) roomAvatarSHA1(ctx context.Context, owner ids.Owner, chat ids.ChatID, hash string) (string, error) {
	if hash == "" {
		return "", nil
	}
	known := ""
	c.muc.with(roomKey{owner, chat}, func(r *room) {
		if r.avatar.platformHash == hash {
			known = r.avatar.sha1
		}
	})
	if known != "" {
		return known, nil
	}
	a, err := c.gw.GroupAvatar(ctx, owner, c.cfg.Platform, chat)
	if err != nil {
		return "", err
	}
	sum := ""
	if len(a.Data) > 0 {
		s := sha1.Sum(a.Data)
		sum = hex.EncodeToString(s[:])
	}
	c.muc.with(roomKey{owner, chat}, func(r *room) { r.avatar = roomAvatar{platformHash: hash, sha1: sum} })
	return sum, nil
}

// roomVCard answers a vcard-temp request to a room: its name and its
// group's picture.
func (c *Component) roomVCard(ctx context.Context, iq *stanza.IQ, from jid.JID, owner ids.Owner, chat ids.ChatID) {
	gi, err := c.gw.GroupInfo(ctx, owner, c.cfg.Platform, chat)
	if err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	card := &xep.VCard{FN: roomName(gi)}
	if gi.AvatarHash != "" {
		a, err := c.gw.GroupAvatar(ctx, owner, c.cfg.Platform, chat)
		switch {
		case err == nil && len(a.Data) > 0:
			card.Photo = &xep.VCardPhoto{Type: a.MIMEType, BinVal: base64.StdEncoding.EncodeToString(a.Data)}
			s := sha1.Sum(a.Data)
			c.muc.with(roomKey{owner, chat}, func(r *room) {
				r.avatar = roomAvatar{platformHash: gi.AvatarHash, sha1: hex.EncodeToString(s[:])}
			})
		case err != nil && !errors.Is(err, gateway.ErrNotSupported):
			c.replyErr(ctx, iq, from, err)
			return
		}
	}
	c.replyIQ(ctx, iq, card)
}

// roomAvatarPresence is the presence from the room's bare JID that tells
// resource `to` the room's picture hash ("" none).
func roomAvatarPresence(roomJID, to, sum string) *stanza.Presence {
	return &stanza.Presence{
		Attrs:      stanza.Attrs{From: roomJID, To: to},
		Extensions: []stanza.PresExtension{&xep.VCardUpdate{Photo: &sum}},
	}
}
